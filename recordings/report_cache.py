"""One read and one analysis per file per command. A report looks at the subject's files several
times over (the baseline, the trend over earlier sessions, the visit's protocol results); the
same file's measures are the same each time, so `FileAnalyses` keeps them, or the error the file
gave, for as long as the command lives. A file is known by its resolved path, size and
modification time: one that changes meanwhile is read again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from recordings.analysis import analyze_recording
from recordings.reader import Recording, read_recording
from sensors.processing.analysis import AnalysisResult

log = logging.getLogger(__name__)

#: (resolved path, size in bytes, modification time in ns).
FileKey = tuple[str, int, int]


def file_key(path: Path | str) -> FileKey | None:
    """What identifies a file's content within one command; None when it cannot be looked at
    (then nothing is kept for it, and reading it says why)."""
    try:
        resolved = Path(path).resolve()
        status = resolved.stat()
    except (OSError, RuntimeError):
        return None
    return str(resolved), status.st_size, status.st_mtime_ns


def _analyze(recording: Recording, label: str) -> AnalysisResult:
    return analyze_recording(recording)


class FileAnalyses:
    """Measures of recordings by file for one command: each file read at most once and analysed
    at most once, its result or its error kept and given again. `analyze(recording, label)`
    analyses one recording (default `analyze_recording`; a command passes one that shows its
    progress under `label`). `reads` and `analyses` count what was actually done."""

    def __init__(self, analyze: Callable[[Recording, str], AnalysisResult] = _analyze) -> None:
        self._analyze = analyze
        self._results: dict[FileKey, AnalysisResult | Exception] = {}
        self._read: dict[FileKey, Recording | Exception] = {}
        self.reads = 0
        self.analyses = 0

    def remember(self, path: Path | str, result: AnalysisResult) -> None:
        """`result` is the measures of the file at `path` (one the command analysed itself)."""
        key = file_key(path)
        if key is not None:
            self._results[key] = result

    def read(self, path: Path | str) -> Recording:
        """The recording at `path` (`read_recording`), read once: its reading error is raised
        again on a second call; the recording is kept only until its measures are known."""
        key = file_key(path)
        kept = self._read.get(key) if key is not None else None
        if kept is None:
            self.reads += 1
            try:
                kept = read_recording(path)
            except Exception as error:
                kept = error
            if key is not None:
                self._read[key] = kept
        if isinstance(kept, Exception):
            raise kept
        return kept

    def result(self, path: Path | str, label: str = "") -> AnalysisResult:
        """The measures of the recording at `path`, analysed once; a file that could not be read
        or analysed raises the same error each time it is asked for."""
        key = file_key(path)
        kept = self._results.get(key) if key is not None else None
        if kept is None:
            try:
                recording = self.read(path)
                self.analyses += 1
                kept = self._analyze(recording, label)
            except Exception as error:
                kept = error
            if key is not None:
                self._results[key] = kept
                self._read.pop(key, None)  # the measures are known: the samples can go
        if isinstance(kept, Exception):
            raise kept
        return kept

    def __repr__(self) -> str:
        return f"FileAnalyses({len(self._results)} files, {self.reads} reads, {self.analyses} analyses)"
