"""Analyse a recording: replay its raw data through the live pipeline, then compute its measures.

Replay (not the stored /processing arrays) is the source of truth: it rebuilds the synchronised
frames the measures need and gives exactly what the live session computed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from recordings.reader import Recording
from recordings.replay import ReplaySource
from sensors.processing.analysis import AnalysisResult, analyze
from sensors.processing.collector import SessionCollector
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import NullSink, SessionReport, SessionRunner, SessionSink
from sensors.samples import Frame

#: progress(fraction 0–1) is called at most every half second of wall time.
ProgressCallback = Callable[[float], None]


class _ProgressSink(NullSink):
    def __init__(self, source: ReplaySource, progress: ProgressCallback, interval_s: float = 0.5) -> None:
        self.source = source
        self.progress = progress
        self.interval_s = interval_s
        self._last = time.monotonic()

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval_s:
            self._last = now
            self.progress(self.source.progress)


@dataclass(frozen=True)
class ReplayedSession:
    """A recording after a replay: what the live runner's sinks received, and its report."""

    recording: Recording
    collector: SessionCollector
    report: SessionReport


def replay(
    recording: Recording,
    extra_sinks: list[SessionSink] | None = None,
    progress: ProgressCallback | None = None,
) -> ReplayedSession:
    """Replay the recording as fast as possible through a `SessionRunner` with its stored settings."""
    source = ReplaySource(recording)
    collector = SessionCollector()
    sinks: list[SessionSink] = [collector, *(extra_sinks or [])]
    if progress is not None:
        sinks.append(_ProgressSink(source, progress))
    report = asyncio.run(SessionRunner(source, sinks, recording.settings).run())
    if progress is not None:
        progress(1.0)
    return ReplayedSession(recording, collector, report)


def analyze_recording(recording: Recording, progress: ProgressCallback | None = None) -> AnalysisResult:
    """The drill's measures table for a recording (ProcessingError when it cannot be analysed,
    e.g. it never calibrated)."""
    return analyze(replay(recording, progress=progress).collector.session_data(), recording.drill)
