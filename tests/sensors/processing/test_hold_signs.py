"""The sign of the hold angles in every hold posture, against the simulator's postures: flexion
(and a bend to the right) is + whatever way the segment lies, and what that means for where the
segment's upper end goes is what the documentation says (walkthrough s10 #4: a Biering-Sørensen
trunk that dropped 15° read +16.6 under a column documented as 'lift +, sag −')."""

from pathlib import Path

import numpy as np
import pytest

import recordings.export_csv
import sensors.processing.angles
from sensors import quaternion as quat
from sensors.processing.angles import FRONTAL, SAGITTAL, mean_orientation, posture_angles
from sensors.simulator import DrillOptions, make_drill
from sensors.simulator.body import segment_quaternions
from sensors.simulator.drills.holds import HOLD_POSTURES

#: Per hold: the axis the simulator moves, and which way the segment's upper end goes for a +
#: angle on it (+1 up, −1 down), as angles.py documents it.
UPPER_END_ON_PLUS = {
    "plank": (SAGITTAL, -1),  # prone: flexion lowers the upper end
    "bird-dog": (SAGITTAL, -1),
    "biering-sorensen": (SAGITTAL, -1),
    "bridge": (SAGITTAL, +1),  # supine: flexion raises it
    "side-plank-left": (FRONTAL, +1),  # on the left side a bend to the right raises it
    "side-plank-right": (FRONTAL, -1),
}


@pytest.mark.parametrize("name", sorted(HOLD_POSTURES))
@pytest.mark.parametrize("turn_deg", [15.0, -15.0])
def test_a_flexion_reads_plus_in_every_hold_posture(name, turn_deg):
    """Each hold's segment turned both ways (the simulator's loss and its opposite): the angle on
    the moved axis is the turn, with flexion (simulated pitch up) and a right bend (roll up) +."""
    drill = make_drill(
        name,
        DrillOptions(seed=3, duration_s=20.0),
        fail_time_s=13.0,
        loss_deg=turn_deg * HOLD_POSTURES[name].loss_sign,  # the segment's pitch/roll moves by turn_deg
        tremor_rms_start_deg=0.0,
        tremor_rms_end_deg=0.0,
        drift_deg_per_min=0.0,
    )
    truth = drill.truth
    placement = truth.posture.loss_placement
    assert truth.posture.loss_axis == UPPER_END_ON_PLUS[name][0]
    held = np.arange(truth.hold_start_s, truth.hold_start_s + 1.0, 0.01)
    t = np.concatenate([held, [19.0]])  # the reference second, then after the turn
    q = segment_quaternions(drill.pose(t), drill.heading_rad, (placement,))[placement]
    reference = mean_orientation(q[: len(held)])
    angles = np.degrees(posture_angles(q[-1:], reference))[0]
    axis, upper_end = UPPER_END_ON_PLUS[name]
    assert angles[axis] == pytest.approx(turn_deg, abs=0.01)
    rise = (
        quat.rotate(q[-1:], np.array([0.0, 0.0, 1.0])) - quat.rotate(reference, np.array([0.0, 0.0, 1.0]))
    )[0, 2]
    assert np.sign(rise) == upper_end * np.sign(turn_deg)


def test_the_documents_name_the_sign_as_the_angles_have_it():
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    for text in (recordings.export_csv.__doc__, sensors.processing.angles.__doc__, readme):
        assert text and "flexion +, extension −" in text
        assert "lift +" not in text and "sag −" not in text
