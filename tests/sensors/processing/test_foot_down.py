"""Single-leg stance's foot-down rule (foot_down.py) against the simulator: normal single-leg sway
is never a foot-down, a scripted foot-down is found within 0.5 s, and a clinician's key is shown
with the rule's own answer beside it."""

import math

import numpy as np
import pytest

from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.processing.analysis import SessionData, analyze
from sensors.processing.foot_down import foot_down_rule
from sensors.processing.holds import CLINICIAN_END_LABEL
from sensors.simulator import DrillOptions, SimulatedSource, make_drill
from tests.sensors.processing.runs import run_session

SIDES = ("left", "right")


def _true_tilt(side: str, seed: int, **truth):
    """The simulated pelvic frontal tilt (deg, 100 Hz) and its drill."""
    drill = make_drill(f"single-leg-{side}", DrillOptions(seed=seed), **truth)
    t = np.arange(0.0, drill.duration_s, 0.01)
    return drill, t, np.degrees(drill.pose(t).angles_rad[Placement.PELVIS][:, 1])


@pytest.mark.parametrize("side", SIDES)
def test_normal_single_leg_sway_is_never_a_foot_down(side):
    """Walkthrough s10 #1: 5 of 14 simulated single-leg stances (seeds 11-16, both legs) read
    'Foot put down' at 4-9 s, though the simulator never puts the foot down: the old rule (below a
    third of the plateau for 0.5 s) took the ~1 ° sway's troughs for level."""
    for seed in range(1, 41):
        drill, t, tilt = _true_tilt(side, seed)
        assert drill.truth.foot_down_s is None
        r = foot_down_rule(t, tilt, drill.calibration_end_s, drill.duration_s)
        assert (r.foot_down, r.how) == (False, "held to the end"), seed


@pytest.mark.parametrize("side", SIDES)
def test_a_scripted_foot_down_is_found_within_half_a_second(side):
    for k, down_s in enumerate(np.arange(8.0, 22.5, 1.0)):
        drill, t, tilt = _true_tilt(side, 100 + k, foot_down_s=float(down_s))
        assert drill.truth.foot_down_s == down_s
        r = foot_down_rule(t, tilt, drill.calibration_end_s, drill.duration_s)
        assert r.foot_down and r.how == "pelvis level again", down_s
        assert drill.calibration_end_s + r.time_s == pytest.approx(down_s, abs=0.5)


def test_the_simulator_refuses_a_foot_down_outside_the_stance():
    from sensors.errors import UnknownDrillError

    with pytest.raises(UnknownDrillError, match=r"foot_down_s 30\.0 s must lie between"):
        make_drill("single-leg-left", DrillOptions(seed=1), foot_down_s=30.0)


def _session(side: str, seed: int, **truth) -> tuple[object, SessionData]:
    drill = make_drill(f"single-leg-{side}", DrillOptions(seed=seed), **truth)
    sink, _ = run_session(SimulatedSource(drill, seed=seed), SessionSettings(drill=drill.name))
    return drill, SessionData(sink.frame, sink.all_angles, sink.calibration.mount_q, tuple(sink.events))


def test_a_recorded_stance_held_to_the_end_reads_held_to_the_end():
    """The auditor's seed 14 on the left leg ('Time on one leg 4.3 s'), through the live pipeline."""
    drill, data = _session("left", 14)
    result = analyze(data, drill.name)
    assert result.value("foot_down") == 0.0
    assert result.value("time_on_one_leg") == pytest.approx(drill.duration_s - drill.calibration_end_s)
    assert math.isnan(result.value("time_on_one_leg_imu_rule"))


def test_a_recorded_foot_down_is_timed_and_a_clinicians_key_keeps_the_rule_beside_it():
    drill, data = _session("right", 16, foot_down_s=14.0)
    start = drill.calibration_end_s
    result = analyze(data, drill.name)
    assert result.value("foot_down") == 1.0
    assert start + result.value("time_on_one_leg") == pytest.approx(14.0, abs=0.5)
    assert result.value("time_on_one_leg_imu_rule") == result.value("time_on_one_leg")
    # The clinician ends the task 0.6 s after the touch-down: the key's time is the time on one
    # leg; the rule's own time stays beside it.
    keyed = [e for e in data.events if e.kind is not EventKind.TASK_END]
    keyed.append(Event(14.6, EventKind.TASK_END, CLINICIAN_END_LABEL, source="operator"))
    by_key = analyze(SessionData(data.frame, data.angles, data.mount_q, tuple(keyed)), drill.name)
    assert by_key.value("time_on_one_leg") == pytest.approx(14.6 - start)
    assert start + by_key.value("time_on_one_leg_imu_rule") == pytest.approx(14.0, abs=0.5)
