"""A visit is what the clinician recorded as one — a protocol run's repetitions — never every
recording of a calendar day: a baseline and a re-test on the same day (before and after
treatment) stay two visits and are never averaged as repetitions."""

from __future__ import annotations

import json
import shutil

import h5py
import pytest

from recordings import read_recording
from recordings.analysis import analyze_recording
from recordings.library import SessionLibrary
from recordings.protocol_results import summarise, visit_of, visit_sessions
from recordings.references import bundled_references
from recordings.report_visit import visit_tables
from recordings.visit_runs import run_keys, split_visits
from stabmon.cli import main
from tests.cli_args import RECORD_NO_RADIO


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    """Four quiet-stance recordings of one subject on one day, oldest first: an unsteady patient
    (sway × 2) twice, then the same patient steadier (× 1) twice."""
    root = tmp_path_factory.mktemp("lib")
    for seed, scale in ((1, "2"), (2, "2"), (3, "1"), (4, "1")):
        # 14.5 s: a task (3 s on) as long as the stance measures need
        argv = [*RECORD_NO_RADIO, "--drill", "quiet-stance", "--seconds", "14.5", "--seed", str(seed)]
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
    """Two `stabmon record` sessions the same day (before and after treatment) were averaged as
    "2 repetitions" of one visit; each is a visit of its own."""
    library = _library(tmp_path, four[1:3])  # unsteady, then steadier
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
    assert len(set(keys.values())) == 2  # `stabmon record` twice: two runs of one recording
