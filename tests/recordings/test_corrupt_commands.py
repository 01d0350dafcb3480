"""The corrupted-recordings suite: damaged copies of a real recording (truncations, flipped bytes,
deleted or retyped datasets and attributes, mismatched lengths, NaN/inf data, a crash left open)
through every command that reads recordings and the review window. Each gives a specific error
that names the file, or a clear partial result; never a traceback, never a signal (the commands
run in subprocesses, so a crash shows). `benchmarks/fuzz_files.py` runs a larger campaign."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from recordings.errors import RecordingError
from recordings.reader import read_recording
from tests.recordings import corruptions
from tests.recordings.command_harness import drive
from tests.recordings.corrupt_helpers import record_simulated
from tests.redate import shifted_copy


@pytest.fixture(scope="module")
def damaged(tmp_path_factory) -> tuple[Path, list[tuple[str, Path]]]:
    root = tmp_path_factory.mktemp("damaged")
    folder = root / "library" / "sub-C01"
    folder.mkdir(parents=True)
    original = record_simulated(root / "original.h5")  # an 11-s stance task: measured when whole
    shifted_copy(original, root / "earlier.h5", -timedelta(days=1))  # each damaged copy's baseline
    cases = (
        corruptions.structural(original, folder)
        + corruptions.byte_level(original, folder, np.random.default_rng(14), flips=8)
        + corruptions.left_open(original, folder)
    )
    assert len(cases) > 90
    return root, cases


def _command_jobs(root: Path, cases: list[tuple[str, Path]], commands: tuple[str, ...]) -> list[dict]:
    jobs = []
    for k, (name, path) in enumerate(cases):
        out = root / "out" / f"{k}"
        argv = {
            "analyze": ["analyze", str(path)],
            "export csv": ["export", str(path), "--format", "csv", "-o", str(out / "csv")],
            "export bids": ["export", str(path), "--format", "bids", "-o", str(out / "bids")],
            "report": ["report", str(path), "-o", str(out / "report.html")],
            "compare": ["compare", str(root / "earlier.h5"), str(path)],
        }
        for command in commands:
            if command == "review":
                jobs.append(
                    {"id": f"{command} | {name}", "review": str(path), "data_dir": str(root / "library")}
                )
            else:
                jobs.append(
                    {"id": f"{command} | {name}", "argv": argv[command], "names": [str(path), path.name]}
                )
    return jobs


def _assert_clear(results: dict[str, dict]) -> Counter:
    bad = {
        k: r
        for k, r in results.items()
        if r["outcome"] in ("traceback", "crash") or (r["outcome"] == "error" and not r["clear"])
    }
    assert not bad, "\n".join(
        f"{k}: {r['outcome']}: {r.get('detail')}\n{r.get('trace', '')}" for k, r in bad.items()
    )
    return Counter(r["outcome"] for r in results.values())


def test_analyze_and_the_review_window_on_every_damaged_file(damaged):
    root, cases = damaged
    jobs = _command_jobs(root, cases, ("analyze", "review"))
    results = drive(jobs)
    assert len(results) == len(jobs)
    counts = _assert_clear(results)
    assert counts["error"] > 40 and counts["partial"] > 10  # both kinds were exercised


def _in_a_library_of_its_own(root: Path, k: int, path: Path) -> Path:
    """A copy of the damaged `path` in a subject folder of its own, beside a copy of the sound
    original (the subject's earlier session: a baseline, a trend point and a visit run)."""
    folder = root / "alone" / f"{k}" / "sub-C01"
    folder.mkdir(parents=True)
    shutil.copyfile(root / "original.h5", folder / "sub-C01_quiet-stance_20250101T000000000Z.h5")
    if path.is_dir():
        shutil.copytree(path, folder / path.name)
    else:
        shutil.copy2(path, folder / path.name)
    return folder / path.name


def test_export_report_and_compare_on_a_sample_of_damaged_files(damaged):
    """A report reads every session of the subject's folder (baseline, trend, visit): one report
    among all the damaged files shows each of them met as a sibling; the sample's reports each
    run beside the sound original only (36 reports of the whole folder read each sibling 36 times)."""
    root, cases = damaged
    sample = cases[::3]
    jobs = _command_jobs(root, sample, ("export csv", "export bids", "compare"))
    alone = [(name, _in_a_library_of_its_own(root, k, path)) for k, (name, path) in enumerate(sample)]
    jobs += _command_jobs(root, alone, ("report",))
    crashed = dict(cases)["left open by a crash"]
    among_all = {
        "id": "report among every damaged file | left open by a crash",
        "argv": ["report", str(crashed), "-o", str(root / "out" / "among-all.html")],
        "names": [str(crashed), crashed.name],
    }
    results = drive([*jobs, among_all])
    assert len(results) == len(jobs) + 1
    _assert_clear(results)
    assert results[among_all["id"]]["outcome"] in ("ok", "partial"), results[among_all["id"]]


def test_sessions_lists_every_file_with_its_problem(damaged):
    root, cases = damaged
    done = subprocess.run(
        [sys.executable, "-m", "stabmon", "sessions", "--data-dir", str(root / "library")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    listed = done.stdout
    for name, path in cases:
        assert str(path) in listed, name
    assert listed.count("(") >= 40  # the damaged ones say what is wrong


def test_recover_on_every_damaged_file(damaged, tmp_path):
    _, cases = damaged
    jobs = []
    for k, (name, path) in enumerate(cases):
        target = tmp_path / f"{k}" / path.name
        target.parent.mkdir()
        if path.is_dir():
            target.mkdir()
        else:
            shutil.copyfile(path, target)
        jobs.append(
            {"id": f"recover | {name}", "argv": ["recover", str(target)], "names": [str(target), target.name]}
        )
    results = drive(jobs)
    _assert_clear(results)
    assert results["recover | left open by a crash"]["outcome"] in ("ok", "partial")
    # A file no crash left open has nothing to recover: said, exit 0, when the reader finds nothing
    # wrong with it (damage only analysis meets, e.g. a rate of 0); its damaged raw chunks are left
    # out as gaps in a new file (exit 0); an error naming what is wrong otherwise.
    for name, path in cases:
        if name == "left open by a crash":
            continue
        try:
            found = read_recording(path) if path.is_file() else None
        except RecordingError:
            found = None
        expected = "error" if found is None or (found.problems and not found.damaged) else "ok"
        outcome = results[f"recover | {name}"]["outcome"]
        if found is not None and found.damaged and outcome == "error":  # damaged beyond what it mends
            continue  # (said clearly: `_assert_clear` above)
        assert outcome == expected, name
