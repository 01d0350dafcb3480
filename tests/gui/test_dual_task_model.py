"""Serial subtraction from memory, the cognitive run's scoring, and the dual-task cost on both
sides, with known answers."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from gui.model.clinic import ClinicConfig, ClinicSession
from gui.model.cognitive import CognitiveRun, ColourWords, SerialSubtraction
from gui.model.protocols import load_protocols
from recordings import read_recording
from recordings.conditions import condition_for
from recordings.dual_task import CognitiveScore, ConditionResult, dual_task_cost_pct, dual_task_effect
from sensors.processing.analysis import AnalysisResult, Measure
from tests.gui.conftest import short_protocol


def test_serial_subtraction_shows_the_start_once_and_scores_each_answer_against_the_previous_one():
    task = SerialSubtraction(seed=3)
    first = task.first()
    assert first.prompt == f"Count back from {task.start} in sevens"
    assert "?" not in first.prompt and "−" not in first.prompt
    assert first.answer == str(task.start - 7)
    # A slip (−6) is wrong, but the next answer is judged from what was said: one slip, one error.
    said = task.start - 6
    assert not task.score(first, str(said))
    second = task.next(str(said))
    assert second.prompt == first.prompt  # nothing new is shown: the sequence is kept in memory
    assert second.answer == str(said - 7)
    third = task.next("um")  # not a number: judged from the expected one
    assert third.answer == str(said - 14)


def test_start_numbers_and_colour_words_come_from_the_seed():
    starts = {SerialSubtraction(seed).start for seed in range(40)}
    assert len(starts) > 20 and all(100 <= s < 200 for s in starts)
    assert SerialSubtraction(5).start == SerialSubtraction(5).start
    words = [[ColourWords(seed).next("") for _ in range(5)] for seed in (1, 2)]
    assert words[0] != words[1]
    assert [ColourWords(1).next("") for _ in range(5)] == words[0]


def test_a_cognitive_run_scores_answers_and_says_what_the_recording_stores():
    run = CognitiveRun("serial-subtraction", seed=11)
    start = run.task.start  # type: ignore[union-attr]
    assert run.about() == {"cognitive_seed": 11, "cognitive_start": start, "cognitive_step": 7}
    given = (str(start - 7), str(start - 14), "1", "-6", "0")
    results = [run.answer(a)[1] for a in given]
    assert results == [True, True, False, True, False]  # -6 follows what was said (1 − 7)
    score = run.score(duration_s=20.0)
    assert score.responses == 5 and score.accuracy == 0.6
    assert score.correct_per_s == pytest.approx(3 / 20.0)


def test_dual_task_cost_sign_convention():
    # Sway (higher is worse) up from 2.0 to 2.6: a 30 % motor cost.
    assert dual_task_cost_pct(2.0, 2.6, higher_is_better=False) == pytest.approx(30.0)
    # Correct responses per second down from 0.5 to 0.4: a 20 % cognitive cost.
    assert dual_task_cost_pct(0.5, 0.4, higher_is_better=True) == pytest.approx(20.0)
    assert math.isnan(dual_task_cost_pct(0.0, 0.4, True))


def _result(condition: str, sway: float | None, correct_per_min: float | None) -> ConditionResult:
    measures = None
    if sway is not None:
        measures = AnalysisResult("quiet-stance", (Measure("sway", "acc_rms_ap", sway, "m/s^2", "test"),))
    cognitive = None
    if correct_per_min is not None:
        cognitive = CognitiveScore(10, correct_per_min / 60 * 30 / 10, correct_per_min, 1.5)
    return ConditionResult(condition, measures, cognitive)


def test_the_protocol_cost_on_both_sides_uses_the_cognitive_only_baseline():
    results = [
        _result("cognitive", 0.05, 20.0),  # seated: its sway is not the single-task stance
        _result("single", 0.10, None),
        _result("dual", 0.13, 16.0),
    ]
    effect = dual_task_effect("quiet-stance", results)
    assert effect is not None
    assert effect.motor_cost_pct["acc_rms_ap"] == pytest.approx(30.0)
    assert effect.cognitive_single.correct_per_min == 20.0
    assert effect.cognitive_cost_pct["correct_per_s"] == pytest.approx(20.0)
    # Without the baseline only the motor side exists.
    assert dual_task_effect("quiet-stance", results[1:]).cognitive_cost_pct == {}


def test_the_bundled_dual_task_protocols_record_the_baseline_first_and_name_it():
    protocols = {p.key: p for p in load_protocols()[0]}
    for key in ("16-dual-task-stance", "17-dual-task-stroop"):
        assert protocols[key].conditions == ("cognitive", "single", "dual")
    condition = condition_for("quiet-stance", "cognitive", "serial-subtraction")
    assert condition.label == "eyes open, firm surface, cognitive task only (serial subtraction)"
    assert condition.file_token == "cognitive-serial-subtraction"


def test_the_cognitive_baseline_is_recorded_scored_and_its_items_come_from_the_recordings_seed(
    data_dir: Path,
):
    session = ClinicSession(ClinicConfig(subject_id="P002", data_dir=data_dir, virtual_link=False))
    protocol = short_protocol(repetitions=2, conditions=("cognitive", "dual"), task_s=3.0)
    try:
        session.run_protocol(protocol)
        deadline = time.monotonic() + 60
        answered: set[int] = set()
        while session.busy:
            assert time.monotonic() < deadline
            trial, repetition = session.trial, session.status.repetition
            if trial is not None and repetition not in answered:
                assert session.answer(trial.answer)
                answered.add(repetition)
            time.sleep(0.1)
    finally:
        session.close()
    baseline, dual = session.results
    for result in (baseline, dual):
        stored = read_recording(result.path).protocol
        # The start number follows from the recording's own (fresh) seed, stored in the file.
        assert stored["cognitive_seed"] == stored["seed"]
        # What the patient was given is marked in the recording when the task begins.
        start = SerialSubtraction(int(stored["cognitive_seed"])).start
        given = [e.label for e in read_recording(result.path).events if e.source == "task"]
        seed = stored["seed"]
        items = f"cognitive_seed {seed}, cognitive_start {start}, cognitive_step 7"
        assert given == [f"serial-subtraction: {items}"]
        assert result.cognitive.responses == 1 and result.cognitive.accuracy == 1.0
    assert "-cognitive-serial-subtraction_" in baseline.path.name
    assert read_recording(baseline.path).condition.task == "cognitive"
    effect = session.dual_task_effect
    assert effect.cognitive_single == baseline.cognitive and effect.cognitive_dual == dual.cognitive
    assert effect.cognitive_cost_pct["accuracy"] == 0.0
