"""The Qt-free clinic session on virtual sensors over the real BLE stack (bumble), in real time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.calibration_check import judge_calibration
from gui.model.clinic import ClinicConfig, ClinicSession, Phase
from gui.model.review import review
from gui.review_header import recording_header
from recordings import read_recording
from recordings.analysis import analyze_recording
from recordings.conditions import condition_for
from sensors.events import EventKind
from sensors.placements import Placement
from sensors.processing.collector import SessionCollector
from sensors.processing.comparison import dual_task_effect_pct
from stabmon.cli import main
from tests.gui.conftest import short_protocol


def _wait(session: ClinicSession, until, timeout_s: float = 40.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not until():
        assert time.monotonic() < deadline, (
            f"timed out; status {session.status}, notices {list(session.notices)}"
        )
        time.sleep(0.05)


def test_a_dual_task_protocol_records_every_repetition_with_markers_answers_and_measures(data_dir: Path):
    session = ClinicSession(ClinicConfig(subject_id="P001", data_dir=data_dir, virtual_link=False))
    # 11-s tasks: the stance measures' settling second and one 10-s window (a shorter one is not measured)
    protocol = short_protocol(
        repetitions=2, conditions=("single", "dual"), cognitive_task="serial-subtraction", task_s=11.0
    )
    given = []
    try:
        session.run_protocol(protocol)
        deadline = time.monotonic() + 90
        while session.busy:
            assert time.monotonic() < deadline
            trial = session.trial
            if trial is not None and len(given) < 5:
                answer = trial.answer if len(given) % 2 == 0 else "1"
                assert session.answer(answer) == (answer == trial.answer)
                given.append(answer)
            time.sleep(0.2)
    finally:
        session.close()
    assert session.take_notices() == []
    assert [(r.repetition, r.condition) for r in session.results] == [(1, "single"), (2, "dual")]
    assert len(given) == 5
    for result in session.results:
        assert result.path.parent == data_dir / "sub-P001"
        recording = read_recording(result.path)
        assert recording.protocol["condition"] == result.condition
        # The condition is in the file (root attribute) and its name, with the cognitive task.
        assert recording.condition == condition_for(protocol.drill, result.condition, "serial-subtraction")
        assert ("-dual-serial-subtraction_" in result.path.name) == (result.condition == "dual")
        starts = [e for e in recording.events if e.kind is EventKind.TASK_START]
        ends = [e for e in recording.events if e.kind is EventKind.TASK_END]
        assert [e.time_s for e in starts] == [3.0] and [e.time_s for e in ends] == [14.0]
        assert recording.duration_s == pytest.approx(14.0, abs=0.3)
        # The measures the dashboard shows are what `stabmon analyze` computes from the file.
        offline = analyze_recording(recording)
        assert [(m.name, m.repetition) for m in offline.measures] == [
            (m.name, m.repetition) for m in result.measures.measures
        ]
        for live, again in zip(result.measures.measures, offline.measures, strict=True):
            assert live.value == again.value or (live.value != live.value and again.value != again.value)
    dual = session.results[1]
    answers = [e for e in read_recording(dual.path).events if e.source == "patient"]
    assert len(answers) == 5 and all(e.kind is EventKind.ANNOTATION for e in answers)
    assert dual.cognitive.responses == 5 and dual.cognitive.accuracy == pytest.approx(3 / 5)
    effect = session.dual_task_effect
    single_value = session.results[0].measures.value("acc_rms_ap")
    dual_value = dual.measures.value("acc_rms_ap")
    assert effect.motor_cost_pct["acc_rms_ap"] == pytest.approx(
        -dual_task_effect_pct(single_value, dual_value, False)
    )
    assert effect.cognitive_dual == dual.cognitive and effect.cognitive_single is None


def test_stopping_during_a_recording_keeps_everything_recorded_so_far(data_dir: Path, capsys):
    session = ClinicSession(ClinicConfig(subject_id="P002", data_dir=data_dir, virtual_link=False))
    try:
        # A push drill: measured per push, so the part recorded before the stop is analysed (a
        # stance would be "not measured" under its 11-s minimum).
        session.run_protocol(short_protocol(task_s=60.0, drill="perturbations"))
        _wait(session, lambda: session.status.phase is Phase.TASK and session.status.elapsed_s > 4.5)
        with pytest.raises(RuntimeError, match="already running"):
            session.run_protocol(short_protocol())
        event = session.mark(EventKind.PERTURBATION, "push")
        time.sleep(0.5)  # the clinician stops a little after the push
        session.stop()
        session.wait(20)
    finally:
        session.close()
    (result,) = session.results
    recording = read_recording(result.path)
    assert 4.5 < recording.duration_s < 7.0
    labels = [(e.kind, e.label) for e in recording.events]
    assert (EventKind.ANNOTATION, "stopped by the clinician") in labels
    # The review says so above the measures (they cover a shorter task than planned).
    stop = next(e for e in recording.events if e.label == "stopped by the clinician")
    header = recording_header(review(result.path, data_dir))
    assert f"Stopped by the clinician at {stop.time_s:.1f} s, before the planned end of the task" in header
    # The file keeps the planned length (still stance and task), so `analyze` says it ended early.
    planned = short_protocol().calibration_s + 60.0
    assert (
        recording.planned_s == planned and recording.settings.duration_s is None
    )  # a replay runs to the end
    capsys.readouterr()
    assert main(["analyze", str(result.path)]) == 0
    out = capsys.readouterr().out
    assert f"{recording.duration_s:.0f} s of {planned:.0f} s planned)" in out.splitlines()[0]
    assert "ended early: " in out and f"s of the {planned:.0f} s planned were recorded" in out
    (push,) = [e for e in recording.events if e.kind is EventKind.PERTURBATION]
    assert push.time_s == event.time_s and 4.5 < push.time_s < recording.duration_s
    assert session.status.phase is Phase.IDLE and session.status.recording is None


def test_the_calibration_step_with_a_forward_bend(data_dir: Path):
    session = ClinicSession(ClinicConfig(subject_id="P003", data_dir=data_dir))
    try:
        session.check_calibration(with_bend=True)
        session.wait(40)
    finally:
        session.close()
    check = session.calibration_check
    assert check is not None and check.ok, check
    assert check.lines[0].startswith("Neutral stance calibrated (lumbar, pelvis)")
    assert check.lines[1].startswith("Forward bend: deepest tilt lumbar")
    assert not data_dir.exists()  # the check is not a recording


def test_a_failed_calibration_says_why():
    check = judge_calibration(
        SessionCollector(), ["pelvis sensor turned at 20 °/s on average"], with_bend=False
    )
    assert not check.ok
    assert check.lines == ("Calibration failed: pelvis sensor turned at 20 °/s on average",)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (ClinicConfig(subject_id=""), "pseudonymous id"),
        (ClinicConfig(subject_id="Jane Doe"), "never a name"),
        (ClinicConfig(subject_id="P1", simulate=False, assignments={Placement.LUMBAR: "AA"}), "pelvis"),
    ],
)
def test_a_session_that_cannot_start_says_what_is_missing(config: ClinicConfig, message: str):
    session = ClinicSession(config)
    try:
        with pytest.raises(ValueError, match=message):
            session.run_protocol(short_protocol())
        with pytest.raises(RuntimeError, match="start a drill first"):
            session.mark(EventKind.PERTURBATION)
    finally:
        session.close()
