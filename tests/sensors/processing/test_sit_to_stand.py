"""Sit-to-stand phases against the simulator's script."""

import numpy as np
import pytest

from sensors import Placement
from sensors import quaternion as quat
from sensors.constants import GRAVITY_M_S2
from sensors.processing import SessionSettings
from sensors.processing.angles import inclination_angles
from sensors.processing.sit_to_stand import sit_to_stand_phases, vertical_displacement
from sensors.simulator import DrillOptions, SimulatedSource, make_drill
from sensors.simulator.body import segment_quaternions
from tests.conftest import run_session


def test_vertical_displacement_of_a_known_move():
    t = np.arange(0, 2.0001, 0.01)
    height = 0.4 * (10 * (t / 2) ** 3 - 15 * (t / 2) ** 4 + 6 * (t / 2) ** 5)  # minimum-jerk rise
    acc = np.gradient(np.gradient(height, t), t)
    assert vertical_displacement(t, acc) == pytest.approx(0.4, abs=0.01)


def test_rises_are_found_and_sitting_down_is_not_counted():
    drill = make_drill("sit-to-stand", DrillOptions(duration_s=45, seed=6))
    sink, _ = run_session(SimulatedSource(drill, seed=6), SessionSettings())
    frame, angles = sink.frame, sink.all_angles
    trunk = np.degrees(angles.inclination(Placement.LUMBAR)[:, 0])
    k = frame.index(Placement.PELVIS)
    vertical = quat.rotate(angles.orientation[:, k], frame.acc_m_s2[:, k])[:, 2] - GRAVITY_M_S2
    rises = sit_to_stand_phases(frame.time_s, trunk, vertical)
    truths = drill.truth.rises
    assert len(rises) == len(truths) >= 3
    # Reference: the same phase rule on the true trunk motion (threshold timing trims each move).
    q = segment_quaternions(drill.pose(frame.time_s), drill.heading_rad)[Placement.LUMBAR]
    true_trunk = np.degrees(inclination_angles(q)[:, 0])
    for rise, truth in zip(rises, truths, strict=True):
        assert rise.peak_flexion_s == pytest.approx(truth.seat_off_s, abs=0.05)
        assert rise.trunk_flexion_deg == pytest.approx(truth.trunk_flexion_deg, abs=1.5)
        assert rise.flexion_duration_s == pytest.approx(truth.flexion_duration_s, abs=0.15)
        assert rise.extension_duration_s == pytest.approx(truth.extension_duration_s, abs=0.15)
        assert rise.flexion_peak_velocity_deg_s == pytest.approx(truth.flexion_peak_velocity_deg_s, rel=0.08)
        assert rise.extension_peak_velocity_deg_s == pytest.approx(
            truth.extension_peak_velocity_deg_s, rel=0.08
        )
        assert rise.pelvis_rise_m == pytest.approx(0.44, abs=0.08)  # seat height 0.48 m → standing 0.92 m
    reference = sit_to_stand_phases(frame.time_s, true_trunk, vertical)
    for rise, ref in zip(rises, reference, strict=True):
        assert rise.flexion_start_s == pytest.approx(ref.flexion_start_s, abs=0.03)
        assert rise.extension_end_s == pytest.approx(ref.extension_end_s, abs=0.03)
