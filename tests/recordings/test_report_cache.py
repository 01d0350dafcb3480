"""`stabmon report` reads and analyses each of the subject's files at most once (the baseline,
the trend and the visit all ask for the same files), and writes the same report byte for byte
as when every file is read and analysed again each time it is asked for."""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from pathlib import Path

import pytest

import recordings.analysis
import recordings.reader
from engine.factory import record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings.analysis import analyze_recording
from recordings.reader import read_recording
from recordings.report_cache import FileAnalyses
from sensors.processing import SessionSettings
from sensors.processing.errors import ProcessingError
from stabmon.cli import main

#: One visit of subject P-31: (drill, seconds, seed). The 4 s stance is too short to analyse; the
#: others' tasks (3 s on) are as long as the stance measures need.
SESSIONS = (
    ("quiet-stance", 14.0, 1),
    ("forward-bend", 8.0, 2),
    ("quiet-stance", 4.0, 3),
    ("quiet-stance", 14.0, 4),
    ("forward-bend", 8.0, 5),
    ("quiet-stance", 14.0, 6),
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> list[Path]:
    """The visit's recordings in one subject folder, oldest first (simulator, no radio)."""
    subject = tmp_path_factory.mktemp("lib") / "sub-P-31"
    paths = []
    for k, (drill, seconds, seed) in enumerate(SESSIONS):
        spec = SessionSpec(
            SourceSpec(SourceKind.SIMULATED, seed=seed, realtime=False),
            processing=SessionSettings(rate_hz=100.0, duration_s=seconds),
        )
        path = subject / f"sub-P-31_{drill}_{k}.h5"
        paths.append(asyncio.run(record(spec, "P-31", path, drill, seconds)).path)
    return paths


def _count_reads_and_analyses(monkeypatch) -> tuple[Counter, Counter]:
    """Files opened by `read_recording` and recordings replayed by `analyze_recording`, by
    name (the real functions run; they are only counted)."""
    reads, analyses = Counter(), Counter()
    open_recording, replay = recordings.reader.open_recording, recordings.analysis.replay

    def counted_open(path, *args, **kwargs):
        reads[Path(path).name] += 1
        return open_recording(path, *args, **kwargs)

    def counted_replay(recording, *args, **kwargs):
        analyses[recording.path.name] += 1
        return replay(recording, *args, **kwargs)

    monkeypatch.setattr(recordings.reader, "open_recording", counted_open)
    monkeypatch.setattr(recordings.analysis, "replay", counted_replay)
    return reads, analyses


def test_a_report_reads_and_analyses_each_file_of_the_visit_once(folder, tmp_path, monkeypatch, capsys):
    reads, analyses = _count_reads_and_analyses(monkeypatch)
    current = folder[-1]
    assert main(["report", str(current), "-o", str(tmp_path / "r.html")]) == 0
    others = [p.name for p in folder[:-1]]
    # Every other file of the visit was read and analysed (the baseline and the trend's stances,
    # the visit's bends), and none twice; the report's own file is read once.
    assert reads == Counter({p.name: 1 for p in folder})
    assert {name: analyses[name] for name in others} == dict.fromkeys(others, 1)
    assert set(analyses) <= {p.name for p in folder} and analyses[current.name] <= 1  # (its own replay
    # is counted when stabmon.outputs was first imported here, after the counter was put in)
    # The stance too short to analyse is left out of the trend, with its note, once.
    err = capsys.readouterr().err
    assert err.count(f"{folder[2].name}: cannot analyse") == 1
    assert "left out of the trend" in err


class _Forgetful(FileAnalyses):
    """Reads and analyses a file again every time it is asked for, as reports did before."""

    def read(self, path):
        return read_recording(path)

    def result(self, path, label=""):
        return self._analyze(read_recording(path), label)


def test_the_report_is_the_same_byte_for_byte_as_when_every_file_is_read_again(folder, tmp_path, monkeypatch):
    current = folder[-1]
    assert main(["report", str(current), "-o", str(tmp_path / "once.html")]) == 0
    reads, _ = _count_reads_and_analyses(monkeypatch)
    monkeypatch.setattr("stabmon.outputs.FileAnalyses", _Forgetful)
    assert main(["report", str(current), "-o", str(tmp_path / "again.html")]) == 0
    assert reads[folder[0].name] >= 3  # the baseline: read again for the trend and the visit
    once = (tmp_path / "once.html").read_bytes()
    assert once == (tmp_path / "again.html").read_bytes()
    assert folder[0].name.encode() in once  # the baseline
    # The history: one visit (no trend of one point), whose too-short stance is named.
    assert b"Trend by date" not in once
    assert f"history: {folder[2].name} (".encode() in once and b"could not be analysed: " in once


def test_a_file_that_changed_is_read_again_and_an_error_is_given_again(folder, tmp_path):
    analyses = FileAnalyses()
    path = tmp_path / "changing.h5"
    shutil.copyfile(folder[0], path)
    first = analyses.result(path)
    assert first == analyses.result(path) and (analyses.reads, analyses.analyses) == (1, 1)
    shutil.copyfile(folder[3], path)  # another session under the same name: another size
    assert analyses.result(path) == analyze_recording(read_recording(folder[3])) != first
    assert (analyses.reads, analyses.analyses) == (2, 2)
    with pytest.raises(ProcessingError) as error:
        analyses.result(folder[2])
    with pytest.raises(ProcessingError) as again:
        analyses.result(folder[2])
    assert again.value is error.value and (analyses.reads, analyses.analyses) == (3, 3)
