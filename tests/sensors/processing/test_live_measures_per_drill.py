"""Live measures run only where they mean something (issue: a side plank reported 22 pushes
nobody made, a forward bend showed 41.7° of "sway")."""

import pytest

from sensors.events import EventKind
from sensors.processing import SessionSettings
from sensors.processing.live_measures import live_measures_for
from sensors.simulator import DrillOptions, SimulatedSource, make_drill
from tests.sensors.processing.runs import run_session


def _run(name, drill_setting, seconds=30.0, **parameters):
    drill = make_drill(name, DrillOptions(duration_s=seconds, seed=9), **parameters)
    sink, _ = run_session(SimulatedSource(drill, seed=9), SessionSettings(drill=drill_setting))
    detected = [e for e in sink.events if e.kind is EventKind.PERTURBATION and e.source == "pipeline"]
    return sink, detected


@pytest.mark.parametrize(
    ("drill", "sway", "perturbations"),
    [
        ("quiet-stance", True, False),
        ("quiet-stance-foam", True, False),
        ("single-leg-left", True, False),
        ("perturbations", False, True),
        ("forward-bend", False, False),
        ("side-plank-left", False, False),
        ("biering-sorensen", False, False),
        ("gait", False, False),
        ("sit-to-stand", False, False),
        ("", True, True),  # a free recording: everything, as before
    ],
)
def test_which_live_measures_each_drill_gets(drill, sway, perturbations):
    settings = live_measures_for(drill, 50.0)
    assert (settings.sway, settings.perturbations, settings.rate_hz) == (sway, perturbations, 50.0)


def test_a_side_plank_reports_no_pushes_and_no_sway():
    unaware, detected_unaware = _run("side-plank-left", "", held_s=15.0)
    # Without the drill (as before): the pelvis jerks while getting down and the live detector
    # calls it a push; the sway card measures the patient lying down.
    assert detected_unaware and unaware.measures
    aware, detected = _run("side-plank-left", "side-plank-left", held_s=15.0)
    assert detected == [] and aware.measures == []


def test_a_forward_bend_shows_no_sway_but_stance_and_pushes_keep_theirs():
    bend, _ = _run("forward-bend", "forward-bend")
    assert bend.measures == []
    stance, _ = _run("quiet-stance", "quiet-stance", seconds=20.0)
    assert stance.measures and stance.measures[-1].trunk_angle_sway.rms_ap < 2.0
    drill = make_drill("perturbations", DrillOptions(duration_s=30, seed=9))
    _, detected = _run("perturbations", "perturbations")
    assert len(detected) == len(drill.truth.perturbations)
