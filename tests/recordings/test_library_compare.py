"""Session library listing and re-test comparison against the baseline with MDC95."""

import math
import os
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from recordings.compare import MdcBasis, Verdict, compare_results
from recordings.library import SessionLibrary
from sensors.processing.collector import SessionCollector
from sensors.processing.comparison import mdc95_between_session_means
from sensors.processing.errors import ProcessingError
from sensors.simulator import DrillOptions, make_drill
from stabmon.cli import main
from tests.cli_args import RECORD_NO_RADIO, RECORD_SIMULATED
from tests.conftest import run_drill
from tests.redate import redate


def test_mdc_between_session_means_matches_the_textbook_formula():
    a = np.array([10.0, 12.0, 11.0, 13.0])
    b = np.array([14.0, 12.0, 13.0, 15.0])
    sd = np.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2)  # equal sizes: plain average
    sem = sd / np.sqrt(4)
    assert mdc95_between_session_means(a, b) == pytest.approx(1.96 * np.sqrt(2) * sem)
    # Walkthrough s10 #11: from two windows a session the pooled SD is no error estimate.
    with pytest.raises(ProcessingError, match="at least 3 repetitions in each session, got 4 and 2"):
        mdc95_between_session_means(a, [1.0, 2.0, math.nan])


def _analysis(drill: str, seed: int, seconds: float, dual_task: float = 1.0):
    drilled = make_drill(drill, DrillOptions(duration_s=seconds, seed=seed, dual_task_factor=dual_task))
    collector = SessionCollector()
    run_drill(drilled, [collector], seed=seed)
    return collector.analysis(drill)


def test_doubled_sway_is_a_real_change_and_a_repeat_is_not():
    baseline = _analysis("quiet-stance", seed=1, seconds=61.0)
    repeat = _analysis("quiet-stance", seed=2, seconds=61.0)  # another day, same sway settings
    worse = _analysis("quiet-stance", seed=1, seconds=61.0, dual_task=2.0)
    assert baseline.value("repetitions") == 5  # five 10 s windows after calibration: the error
    same = compare_results(baseline, repeat)
    # The windows' spread is the error of their mean: that mean is judged, the same quantity on
    # both sides; the whole-recording value beside it defers to it.
    assert same.row("acc_rms_ap").verdict is Verdict.NOT_JUDGED
    assert same.judged_row("acc_rms_ap") is same.row("mean_acc_rms_ap")
    assert same.row("mean_acc_rms_ap").change != 0
    assert same.row("mean_acc_rms_ap").verdict is Verdict.NO_REAL_CHANGE
    assert same.row("mean_acc_rms_ap").basis is MdcBasis.WITHIN_SESSION
    assert same.row("mean_acc_rms_ap").basis_note == "5 + 5 10 s windows"
    changed = compare_results(baseline, worse)
    row = changed.row("mean_acc_rms_ap")
    # More sway is worse; beyond only the within-session (lower-bound) MDC it is "possibly" so.
    assert row.retest > 1.5 * row.baseline and row.verdict is Verdict.POSSIBLY_WORSE, row
    assert changed.row("repetitions").verdict is Verdict.NOT_JUDGED  # counts are never judged
    clinic = compare_results(baseline, worse, {"acc_rms_ap": 10.0})  # a huge clinic MDC wins
    assert clinic.row("acc_rms_ap").verdict is Verdict.NO_REAL_CHANGE
    assert clinic.row("acc_rms_ap").basis is MdcBasis.CLINIC
    with pytest.raises(ValueError, match="cannot compare"):
        compare_results(baseline, _analysis("forward-bend", seed=1, seconds=20.0))


def _record(data_dir, subject, drill, seconds, seed, radio=False):
    """`stabmon record` on the simulated body, over the virtual BLE link when `radio` (the library
    and the comparison do not depend on the link)."""
    record = RECORD_SIMULATED if radio else RECORD_NO_RADIO
    argv = [*record, "--drill", drill, "--seconds", str(seconds), "--seed", str(seed)]
    assert main([*argv, "--subject", subject, "--data-dir", str(data_dir)]) == 0


def test_library_lists_by_subject_and_drill_and_compare_finds_the_baseline(tmp_path, capsys):
    _record(tmp_path, "P01", "quiet-stance", 15, 1, radio=True)
    first = next((tmp_path / "sub-P01").glob("*.h5"))
    redate(first, datetime.now(UTC) - timedelta(days=14))  # the baseline visit, two weeks ago
    _record(tmp_path, "P01", "quiet-stance", 15, 2)
    _record(tmp_path, "P02", "forward-bend", 12, 3)
    (tmp_path / "sub-P03").mkdir()
    (tmp_path / "sub-P03" / "sub-P03_gait_20260101T000000000Z.h5").write_bytes(os.urandom(3000))
    library = SessionLibrary(tmp_path)
    everything = library.sessions()
    assert [(e.subject_id, e.drill) for e in everything if not e.problem] == [
        ("P01", "quiet-stance"),
        ("P01", "quiet-stance"),
        ("P02", "forward-bend"),
    ]
    assert [e.problem for e in everything if e.problem] == [
        "not an HDF5 file (wrong file, or truncated before its header)"
    ]
    p01 = library.sessions("P01")
    assert len(p01) == 2 and p01[0].created_utc < p01[1].created_utc
    assert all(e.duration_s == pytest.approx(15, abs=1.5) for e in p01)
    assert library.sessions(drill="forward-bend")[0].subject_id == "P02"
    assert library.baseline("P01", "quiet-stance").path == p01[0].path
    capsys.readouterr()
    assert main(["compare", str(p01[1].path), "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"Baseline {p01[0].path.name}" in out and "Sway front–back (acceleration)" in out
    assert "MDC95" in out and "acc_rms_ap" not in out and "nan" not in out
    # Walkthrough s11 #5: named the other way round, the later session was taken as the baseline
    # and every change's sign reversed without a word. compare swaps them and says so.
    assert main(["compare", str(p01[1].path), str(p01[0].path)]) == 0
    swapped = capsys.readouterr()
    assert f"Baseline {p01[0].path.name}\nRe-test  {p01[1].path.name}" in swapped.out
    assert f"note: the baseline named ({p01[1].path.name}, recorded " in swapped.err
    assert "was recorded after the re-test" in swapped.err
    assert swapped.out == out  # the same comparison as with the baseline the library found
    # A report is about its own session: a baseline recorded after it is refused, before any
    # analysis, and no report is written.
    html = tmp_path / "report.html"
    assert main(["report", str(p01[0].path), "--baseline", str(p01[1].path), "-o", str(html)]) == 2
    err = capsys.readouterr().err
    assert f"the baseline {p01[1].path.name}, recorded " in err and "after this session" in err
    assert not html.exists()
    assert main(["sessions", "--subject", "P02", "--data-dir", str(tmp_path)]) == 0
    listed = capsys.readouterr().out
    assert "forward-bend" in listed and "P01" not in listed
    assert main(["compare", str(p01[0].path), "--data-dir", str(tmp_path)]) == 2  # it is the baseline
    # The drill's display name, never its key (walkthrough s8 #3).
    err = capsys.readouterr().err
    assert "first Quiet stance, eyes open (single task) visit of subject P01" in err
    assert "quiet-stance" not in err.split("first", 1)[1].split("visit", 1)[0]

    # Walkthrough s9 #14: P02's recording copied by hand into P01's folder under a P01 name was
    # listed without comment (and hidden from `sessions --subject P01`).
    (p02,) = library.sessions("P02")
    stray = tmp_path / "sub-P01" / "sub-P01_quiet-stance_20260101T000000000Z.h5"
    stray.write_bytes(p02.path.read_bytes())
    (listed_stray,) = [e for e in library.sessions("P01") if e.path == stray]
    assert listed_stray.subject_id == "P02" and listed_stray.drill == "forward-bend"
    assert listed_stray.problem.startswith("holds subject P02's forward-bend recording, not P01's")
    assert "sub-P02/" in listed_stray.problem
    assert library.baseline("P01", "quiet-stance").path == p01[0].path  # never its baseline
    assert library.baseline("P02", "forward-bend").path == p02.path
    assert main(["sessions", "--subject", "P01", "--data-dir", str(tmp_path)]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if stray.name in line)
    assert "holds subject P02's forward-bend recording, not P01's: move it to sub-P02/" in line
