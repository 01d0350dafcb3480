import re
from pathlib import Path

import pytest

from gui.model.protocols import ProtocolError, bundled_protocol_dir, load_protocol, load_protocols
from sensors.drills import DrillFamily, drill_family
from sensors.processing.analysis_upright import STANCE_SETTLE_S, STANCE_WINDOW_S
from sensors.processing.comparison import MIN_REPETITIONS_FOR_MDC
from sensors.simulator import DrillOptions, make_drill
from tests.gui.conftest import write_protocol


def test_every_bundled_protocol_loads_and_its_drill_can_be_simulated_with_its_timing():
    protocols, problems = load_protocols()
    assert problems == []
    assert len(protocols) == len(list(bundled_protocol_dir().glob("*.toml"))) >= 15
    families = {p.drill for p in protocols}
    for drill in ("quiet-stance", "single-leg-left", "single-leg-right", "perturbations", "forward-bend"):
        assert drill in families
    for drill in (
        "sit-to-stand",
        "gait",
        "plank",
        "side-plank-left",
        "bird-dog",
        "bridge",
        "biering-sorensen",
    ):
        assert drill in families
    assert any(p.dual_task for p in protocols) and any(p.hold_to_failure for p in protocols)
    for p in protocols:
        drill = make_drill(
            p.drill, DrillOptions(duration_s=p.calibration_s + p.task_s, calibration_s=p.calibration_s)
        )
        assert drill.duration_s == pytest.approx(p.calibration_s + p.task_s)
        assert [p.condition(k) for k in range(1, p.repetitions + 1)] == list(
            p.conditions or ["single"] * p.repetitions
        )


def test_a_clinic_protocol_is_added_and_one_with_the_same_name_replaces_the_bundled(tmp_path: Path):
    write_protocol(
        tmp_path,
        "00-quick-stance",
        'name = "Our quick screen"\ndrill = "quiet-stance"\ninstructions = "Stand."\ntask_s = 10\n',
    )
    write_protocol(
        tmp_path,
        "90-bridge-pyramid",
        'name = "Bridge pyramid"\ndrill = "bridge"\ninstructions = "Lift."\ntask_s = 10\nrepetitions = 6\n'
        "rest_s = 5\n",
    )
    protocols, problems = load_protocols(tmp_path)
    by_key = {p.key: p for p in protocols}
    assert problems == []
    assert by_key["00-quick-stance"].name == "Our quick screen"
    assert by_key["90-bridge-pyramid"].repetitions == 6
    assert by_key["90-bridge-pyramid"].task_s == 10.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\ndrill = "quiet-stance"\ninstructions = "x"\n', "missing key 'task_s'"),
        ('name = "x"\ndrill = "hopping"\ninstructions = "x"\ntask_s = 5\n', "unknown drill 'hopping'"),
        (
            'name = "x"\ndrill = "quiet-stance"\ninstructions = "x"\ntask_s = "long"\n',
            "task_s has the wrong type",
        ),
        (
            'name = "x"\ndrill = "quiet-stance"\ninstructions = "x"\ntask_s = 5\ntaks = 1\n',
            "unknown key 'taks'",
        ),
        ('name = "x"\ndrill = "quiet-stance"\ninstructions = "x"\ntask_s = -5\n', "task_s must be positive"),
        (
            'name = "x"\ndrill = "quiet-stance"\ninstructions = "x"\ntask_s = 5\nrepetitions = 2\n'
            'conditions = ["single"]\n',
            "conditions must list 2",
        ),
        ('name = "x\ndrill = 1', "not valid TOML"),
    ],
)
def test_a_bad_protocol_file_is_named_with_what_is_wrong(tmp_path: Path, text: str, message: str):
    path = write_protocol(tmp_path, "bad", text)
    with pytest.raises(ProtocolError, match=message) as caught:
        load_protocol(path)
    assert str(path) in str(caught.value)
    protocols, problems = load_protocols(tmp_path)
    assert len(problems) == 1 and message.split("'")[0] in problems[0]
    assert "bad" not in {p.key for p in protocols}


def test_a_missing_or_file_protocol_folder_is_named_not_ignored(tmp_path):
    with pytest.raises(
        ProtocolError, match=f"^no such protocol folder: {re.escape(str(tmp_path / 'nope'))}$"
    ):
        load_protocols(tmp_path / "nope")
    (tmp_path / "a.toml").write_text("")
    with pytest.raises(ProtocolError, match="is a file, not a folder"):
        load_protocols(tmp_path / "a.toml")


def test_each_bundled_stance_repetition_gives_the_windows_a_retest_mdc_needs():
    """Walkthrough s11b #2: 30 s of stance less the 1 s settle made two 10 s windows, one fewer
    than a within-session MDC needs, so no re-test of the bundled protocol could be judged."""
    stance = [
        p
        for p in load_protocols()[0]
        if drill_family(p.drill) is DrillFamily.QUIET_STANCE and p.repetitions >= MIN_REPETITIONS_FOR_MDC
    ]
    assert len(stance) == 5  # eyes open, eyes closed, foam, two dual-task; not the 20 s quick screen
    for p in stance:
        windows = (p.task_s - STANCE_SETTLE_S) // STANCE_WINDOW_S
        assert windows >= MIN_REPETITIONS_FOR_MDC, (p.name, p.task_s)
