"""A visit is what the clinician recorded as one — a protocol run's repetitions, or recordings made
back to back — never every recording of a calendar day: a baseline and a re-test on the same day
(before and after treatment) stay two visits and are never averaged as repetitions. A re-test
compares a visit with a visit, each one's repetitions pooled, so their 10 s windows together give
the within-session error; a damaged baseline recording is named, never silently replaced
(walkthrough s11b #1, #2, #9, #10)."""

from __future__ import annotations

import json
import math
import shutil
from datetime import UTC, datetime, timedelta

import h5py
import pytest

from recordings import read_recording
from recordings.analysis import analyze_recording
from recordings.compare import find_baseline
from recordings.library import SessionLibrary
from recordings.protocol_results import summarise, visit_of, visit_sessions
from recordings.references import bundled_references
from recordings.report_visit import visit_tables
from recordings.visit_pool import pool_results
from recordings.visit_runs import REPEAT_GAP, run_keys, split_visits
from sensors.processing.analysis_data import AnalysisResult, Measure
from stabmon.cli import main
from tests.cli_args import RECORD_NO_RADIO
from tests.redate import redate

#: 3 s calibration + 21 s of stance: two 10 s windows after the 1 s settle, one fewer than a
#: within-session MDC needs in each session; two repetitions a visit make four.
SECONDS = "24"


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    """Four quiet-stance recordings of one subject on one day, oldest first: an unsteady patient
    (sway × 2) twice, then the same patient steadier (× 1) twice."""
    root = tmp_path_factory.mktemp("lib")
    for seed, scale in ((1, "2"), (2, "2"), (3, "1"), (4, "1")):
        argv = [*RECORD_NO_RADIO, "--drill", "quiet-stance", "--seconds", SECONDS, "--seed", str(seed)]
        assert main([*argv, "--sway-scale", scale, "--subject", "P-41", "--data-dir", str(root)]) == 0
    return sorted((root / "sub-P-41").glob("*.h5"))


def _library(tmp_path, files, protocol=None):
    """A library of copies of `files`; `protocol`: per file, the protocol settings a protocol run
    of the engine wrote before runs had ids (key, repetition, of how many), merged in."""
    folder = tmp_path / "lib" / "sub-P-41"
    folder.mkdir(parents=True)
    for k, path in enumerate(files):
        copy = folder / path.name
        shutil.copy(path, copy)
        if protocol is not None:
            with h5py.File(copy, "a") as f:
                stored = json.loads(f.attrs["protocol_json"])
                key, repetition, of = protocol[k]
                stored |= {"protocol": key, "protocol_name": key, "repetition": repetition}
                stored |= {"repetitions": of, "condition": "single", "task_s": 5.0}
                f.attrs["protocol_json"] = json.dumps(stored, sort_keys=True)
    return SessionLibrary(tmp_path / "lib")


def _analyse(path):
    return analyze_recording(read_recording(path))


def test_a_same_day_baseline_and_retest_are_two_visits(four, tmp_path, capsys):
    """Two `stabmon record` sessions the same day (before and after an hour's treatment) were
    averaged as "2 repetitions" of one visit; each is a visit of its own."""
    library = _library(tmp_path, four[1:3])  # unsteady, then steadier
    before, after = sorted(library.root.glob("*/*.h5"))
    morning = library.sessions("P-41")[0].created_utc.replace(hour=9, minute=0)
    redate(before, morning)
    redate(after, morning + timedelta(hours=1))
    baseline, retest = (read_recording(p) for p in sorted(library.root.glob("*/*.h5")))
    day = library.sessions("P-41")[0].created_utc.astimezone().date()
    visit = visit_of(library, retest, _analyse(retest.path))
    assert [len(s.sessions) for s in visit] == [1]
    assert visit[0].sessions[0].path == retest.path
    tables, _ = visit_tables(visit, retest, bundled_references())
    assert not [t for t in tables if t.title.startswith("This visit")]
    capsys.readouterr()
    assert main(["visit", "P-41", "--date", day.isoformat(), "--data-dir", str(library.root)]) == 0
    out = capsys.readouterr().out
    assert "2 repetition(s)" not in out
    assert f"visit 1 of 2 on {day}" in out and f"visit 2 of 2 on {day}" in out
    assert out.count("quiet-stance — eyes open, firm surface, single task: 1 repetition(s)") == 2
    assert visit_of(library, baseline, _analyse(baseline.path))[0].sessions[0].path == baseline.path


def test_old_protocol_files_are_grouped_by_their_run(four, tmp_path):
    """Files of protocol runs written before runs had an id: a run is the consecutive files of one
    protocol numbered 1, 2, …; the same protocol run again the same day is a second run (and
    a second visit), not repetitions 3 and 4."""
    library = _library(
        tmp_path, four, [("stance", 1, 2), ("stance", 2, 2), ("stance", 1, 2), ("stance", 2, 2)]
    )
    entries = library.sessions("P-41")
    keys = run_keys(entries)
    assert len({keys[e.path] for e in entries}) == 2
    assert keys[entries[0].path] == keys[entries[1].path] != keys[entries[2].path] == keys[entries[3].path]
    day = entries[0].created_utc.astimezone().date()
    summaries = summarise(visit_sessions(library, "P-41", day, _analyse))
    assert [len(s.sessions) for s in summaries] == [2, 2]
    visits = split_visits(summaries)
    assert [[len(s.sessions) for s in v] for v in visits] == [[2], [2]]
    # Each visit's mean is over its own run: the unsteady patient's sway is about twice the other's.
    before, after = (v[0].measure("acc_rms_ap").mean for v in visits)
    assert before == pytest.approx(2 * after, rel=0.25)
    retest = read_recording(entries[3].path)
    assert [s.path for s in visit_of(library, retest, _analyse(retest.path))[0].sessions] == [
        entries[2].path,
        entries[3].path,
    ]


def test_run_ids_decide_and_a_recording_alone_is_a_run_of_one(four, tmp_path):
    library = _library(tmp_path, four[:3], [("stance", 1, 3), ("stance", 2, 3), ("other", 1, 1)])
    for path, run in zip(sorted(library.root.glob("*/*.h5")), ("a", "b", "a"), strict=True):
        with h5py.File(path, "a") as f:
            stored = json.loads(f.attrs["protocol_json"]) | {"protocol_run": run}
            f.attrs["protocol_json"] = json.dumps(stored)
    entries = library.sessions("P-41")
    keys = [run_keys(entries)[e.path] for e in entries]
    assert keys[0] == keys[2] != keys[1]  # the stored id, not the numbering, says which run
    alone = _library(tmp_path / "alone", four[:2])
    keys = run_keys(alone.sessions("P-41"))
    assert len(set(keys.values())) == 1  # `stabmon record` twice back to back: repetitions of one run
    later = sorted(alone.root.glob("*/*.h5"))[1]
    redate(later, alone.sessions("P-41")[0].created_utc + REPEAT_GAP + timedelta(seconds=30))
    keys = run_keys(alone.sessions("P-41"))
    assert len(set(keys.values())) == 2  # a pause longer than REPEAT_GAP: two runs of one recording


def _two_visits(four, tmp_path):
    """`four` in a library as two visits: two weeks ago the unsteady patient's two recordings,
    today the steadier patient's two. Returns the data folder."""
    root = _library(tmp_path, four).root
    began = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=14)
    first, second = _files(root)[:2]
    redate(first, began)
    redate(second, began + timedelta(minutes=1))
    return root


def _files(root):
    return sorted((root / "sub-P-41").glob("*.h5"))


def _row(out: str, name: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(name))


def test_a_visit_is_compared_with_the_baseline_visit_its_windows_pooled(four, tmp_path, capsys):
    library = _two_visits(four, tmp_path)
    files = _files(library)
    capsys.readouterr()
    assert main(["compare", str(files[0]), str(files[3])]) == 0  # two files named: each alone
    alone = capsys.readouterr().out
    assert "too few 10 s windows to judge: 2 + 2, needs ≥ 3 in each" in alone
    assert main(["compare", str(files[3]), "--data-dir", str(library)]) == 0
    out = capsys.readouterr().out
    assert f"Baseline visit of 2 recordings (repetitions pooled): {files[0].name}, {files[1].name}" in out
    assert f"Re-test  visit of 2 recordings (repetitions pooled): {files[2].name}, {files[3].name}" in out
    assert "too few" not in out
    assert _row(out, "10 s windows measured").split()[4:6] == ["4", "4"]
    # Half the sway: beyond the error of four windows' mean, judged (a lower-bound MDC: "possibly").
    assert "possibly better" in _row(out, "Sway front–back (acceleration), mean of 10 s")


def test_a_damaged_baseline_is_named_and_never_silently_replaced(four, tmp_path, capsys):
    root = _two_visits(four, tmp_path)
    files = _files(root)
    files[0].write_bytes(files[0].read_bytes()[:200_000])  # cut short while copying
    capsys.readouterr()
    assert main(["compare", str(files[3]), "--data-dir", str(root)]) == 0
    out, err = capsys.readouterr()
    assert f"note: baseline {files[0].name} could not be read (HDF5 file is truncated" in err
    assert f"note: the baseline used instead: {files[1].name}" in err
    assert f"Baseline {files[1].name}\n" in out
    # The review window's single baseline file says so too.
    entry, note = find_baseline(SessionLibrary(root), read_recording(files[3]))
    assert entry.path == files[1] and note.startswith(f"baseline {files[0].name} could not be read")
    assert note.endswith(f"used instead: {files[1].name}")
    report = tmp_path / "r.html"
    assert main(["report", str(files[3]), "--data-dir", str(root), "-o", str(report)]) == 0
    assert f"baseline {files[0].name} could not be read (HDF5 file is truncated" in report.read_text()
    # `visit` names the file of that day it could not read, and says so in its exit status.
    day = (datetime.now(UTC) - timedelta(days=14)).date().isoformat()
    assert main(["visit", "P-41", "--date", day, "--data-dir", str(root)]) == 2
    out, err = capsys.readouterr()
    assert f"stabmon visit: {files[0].name} could not be read (HDF5 file is truncated" in err
    assert ": 1 repetition(s)" in out
    files[2].write_bytes(files[2].read_bytes()[:200_000])  # a repetition of the re-test visit lost
    assert main(["compare", str(files[3]), "--data-dir", str(root)]) == 0
    out, err = capsys.readouterr()
    assert f"note: re-test {files[2].name} could not be read (HDF5 file is truncated" in err
    assert f"Re-test  {files[3].name}\n" in out
    files[1].write_bytes(files[1].read_bytes()[:200_000])  # the whole baseline visit lost
    assert main(["compare", str(files[3]), "--data-dir", str(root)]) == 2
    err = capsys.readouterr().err
    assert f"baseline {files[0].name} could not be read" in err
    assert f"baseline {files[1].name} could not be read" in err and "it is the baseline" in err


def test_back_to_back_recordings_of_a_day_are_one_visit(four, tmp_path, capsys):
    library = _two_visits(four, tmp_path)
    today = _files(library)[3].name.split("_")[-1][:8]
    day = f"{today[:4]}-{today[4:6]}-{today[6:]}"
    capsys.readouterr()
    assert main(["visit", "P-41", "--date", day, "--data-dir", str(library)]) == 0
    out = capsys.readouterr().out
    assert f"Subject P-41, visit {day}\n" in out and "visit 1 of" not in out
    assert "single task: 2 repetition(s)" in out and "(mean ± SD of 2)" in out


def test_a_recording_is_not_compared_with_itself(four, tmp_path, capsys):
    retest = four[3]
    copy = tmp_path / retest.name
    shutil.copy(retest, copy)
    for other in (retest, copy):
        capsys.readouterr()
        assert main(["compare", str(retest), str(other)]) == 2
        assert "are the same recording twice" in capsys.readouterr().err


def _window(name: str, value: float, k: int | None) -> Measure:
    return Measure("trunk control", name, value, "m/s²", "", k)


def test_pooling_numbers_the_windows_on_and_takes_each_mean_over_all_of_them():
    one = AnalysisResult(
        "quiet-stance",
        (
            _window("acc_rms_ap", 0.3, None),
            _window("repetitions", 2.0, None),
            _window("mean_acc_rms_ap", 0.2, None),
            _window("acc_rms_ap", 0.1, 1),
            _window("acc_rms_ap", 0.3, 2),
        ),
    )
    two = AnalysisResult(
        "quiet-stance",
        (
            _window("acc_rms_ap", 0.5, None),
            _window("repetitions", 3.0, None),
            _window("mean_acc_rms_ap", 0.6, None),
            *(_window("acc_rms_ap", v, k) for k, v in ((1, 0.5), (2, 0.6), (3, math.nan))),
        ),
    )
    pooled = pool_results([one, two])
    assert pooled.value("repetitions") == 5
    assert [pooled.value("acc_rms_ap", k) for k in range(1, 5)] == [0.1, 0.3, 0.5, 0.6]
    assert math.isnan(pooled.value("acc_rms_ap", 5))
    assert pooled.value("mean_acc_rms_ap") == pytest.approx(1.5 / 4)  # over the finite windows
    assert pooled.value("acc_rms_ap") == pytest.approx(0.4)  # the recordings' whole values, averaged
    assert pool_results([one]) is one
