"""The dual-task cost of a visit in `stabmon visit` and the clinical report, from the recordings'
own measures and answers, computed by the code the dashboard shows it with."""

import json

import h5py
import pytest

from recordings import read_recording
from recordings.analysis import analyze_recording
from recordings.conditions import Condition
from recordings.dual_task import answer_label, recorded_score
from recordings.dual_task_visit import dual_task_tables
from recordings.library import SessionLibrary
from recordings.protocol_results import summarise, visit_sessions
from stabmon.cli import main
from tests.cli_args import RECORD_NO_RADIO

TASK_S = 12.0
#: Per condition: the simulated dual-task factor and the answers given (correct or not).
PLAN = {
    "cognitive": (1.0, [True, True, True]),
    "single": (1.0, []),
    "dual": (1.6, [True, False, True, False]),
}


def _make_protocol_run(path, repetition: int, condition: str, answers: list[bool]) -> None:
    """Turn a `stabmon record` file into repetition `repetition` of a dual-task protocol run, as
    the dashboard's engine writes it, with the patient's answers as the dashboard marks them."""
    with h5py.File(path, "a") as f:
        protocol = json.loads(f.attrs["protocol_json"])
        cognitive = "serial-subtraction" if condition != "single" else ""
        protocol |= {
            "protocol": "16-dual-task-stance",
            "protocol_run": "run-dt",
            "repetition": repetition,
            "repetitions": 3,
            "condition": condition,
            "cognitive_task": cognitive,
            "task_s": TASK_S,
        }
        f.attrs["protocol_json"] = json.dumps(protocol)
        f.attrs["condition"] = Condition(condition, cognitive, "eyes-open", "firm").to_attribute()
        events = f["events"]
        n = events["time_s"].shape[0]
        for k, correct in enumerate(answers):
            row = {
                "time_s": 4.0 + 2 * k,
                "kind": "annotation",
                "label": answer_label("serial-subtraction", "Count back from 150", "", "143", correct),
                "value": 1.5,
                "source": "patient",
            }
            for name, value in row.items():
                events[name].resize((n + k + 1,))
                events[name][n + k] = value.encode() if isinstance(value, str) else value


@pytest.fixture(scope="module")
def dual_visit(tmp_path_factory):
    root = tmp_path_factory.mktemp("lib")
    paths = {}
    for repetition, (condition, (factor, answers)) in enumerate(PLAN.items(), start=1):
        seconds = "14"  # an 11-s task: a stance shorter is not measured (nor its visit row)
        argv = [*RECORD_NO_RADIO, "--drill", "quiet-stance", "--seconds", seconds, "--seed", str(repetition)]
        assert main([*argv, "--dual-task", str(factor), "--subject", "P-31", "--data-dir", str(root)]) == 0
        (path,) = {e.path for e in SessionLibrary(root).sessions("P-31")} - set(paths.values())
        _make_protocol_run(path, repetition, condition, answers)
        paths[condition] = path
    return root, paths


def test_a_recordings_answers_give_its_cognitive_score(dual_visit):
    _, paths = dual_visit
    score = recorded_score(read_recording(paths["dual"]).events, TASK_S)
    assert (score.responses, score.accuracy) == (4, 0.5)
    assert score.correct_per_s == pytest.approx(2 / TASK_S)


def test_the_visit_command_shows_the_dual_task_cost_on_both_sides(dual_visit, capsys):
    root, paths = dual_visit
    single = analyze_recording(read_recording(paths["single"])).value("acc_rms_ap")
    dual = analyze_recording(read_recording(paths["dual"])).value("acc_rms_ap")
    motor = (dual - single) / single * 100
    assert motor > 20  # the simulated dual task sways more
    day = _day(root)
    capsys.readouterr()
    assert main(["visit", "P-31", "--date", day.isoformat(), "--data-dir", str(root)]) == 0
    out = capsys.readouterr().out
    section = out[out.index("dual-task cost (positive = worse with the dual task)") :]
    ap = next(line for line in section.splitlines() if "Sway front–back (acceleration)" in line)
    assert ap.split()[-2:] == [f"{motor:+.0f}", "%"]
    # Correct answers per second: 3/12 alone, 2/12 while standing: (0.25 − 0.167)/0.25 = +33 %.
    rate = next(line for line in section.splitlines() if "Correct answers per second" in line)
    assert rate.split()[-4:] == ["0.25/s", "0.17/s", "+33", "%"]
    accuracy = next(line for line in section.splitlines() if "Answers correct" in line)
    assert accuracy.split()[-6:] == ["100", "%", "50", "%", "+50", "%"]
    assert "Kelly et al. 2010" in section


def test_the_report_shows_the_cost_beside_each_side_of_it(dual_visit, tmp_path):
    root, paths = dual_visit
    out = tmp_path / "dual.html"
    assert main(["report", str(paths["dual"]), "--data-dir", str(root), "-o", str(out)]) == 0
    html = out.read_text()
    assert "Dual-task cost (this visit): dual task (serial subtraction)" in html
    assert "+33 %" in html and "+50 %" in html
    # The cognitive-only baseline's report carries the same table; another drill's none.
    baseline = read_recording(paths["cognitive"], derived=False, raw=False)
    visit = summarise(visit_sessions(SessionLibrary(root), "P-31", _day(root), _analyze))
    (table,) = dual_task_tables(visit, baseline.drill, baseline.condition)
    assert table.rows[-1] == ("Answers correct", "100 %", "50 %", "+50 %")
    assert dual_task_tables(visit, "forward-bend", baseline.condition) == []


def _day(root):
    return SessionLibrary(root).sessions("P-31")[0].created_utc.astimezone().date()


def _analyze(path):
    return analyze_recording(read_recording(path))
