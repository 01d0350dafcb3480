"""Analyse a recording: replay its raw data through the live pipeline, then compute its measures.

Replay (not the stored /processing arrays) is the source of truth: it rebuilds the synchronised
frames the measures need and gives exactly what the live session computed. `replay` runs the
whole recording through the pipeline at once (`sensors.processing.batch_session`); the block by
block `replay_streamed` (a `ReplaySource` through a `SessionRunner`) gives the same result, far
more slowly, and stays as the reference the batched path is tested against.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from recordings import c_heap_policy
from recordings.analysis_coverage import measured_part, silent_sensors_text
from recordings.chunk_columns import ChunkColumn, Prefetch
from recordings.coverage import Coverage, coverage_of
from recordings.errors import NotARecordingError
from recordings.reader import Recording, read_recording
from recordings.replay import ReplaySource, open_recorded_stream, recorded_stream, replay_health
from recordings.subjects import SubjectError, subject_beside
from sensors.drills import HOLD_FAMILIES, DrillFamily, drill_family
from sensors.processing import batch_frames
from sensors.processing.analysis import AnalysisResult, SessionData, analyze, missing_placements
from sensors.processing.angles import AngleDefinition
from sensors.processing.batch_session import RecordedStream, run_batched
from sensors.processing.collector import SessionCollector
from sensors.processing.errors import ProcessingError
from sensors.processing.pipeline import ANGLE_OUTPUTS, AngleBlock, angle_definition
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
    """A recording after a replay: what the live runner's sinks received, its report, and which
    part of the session each sensor's data cover (from the replay's own sample times)."""

    recording: Recording
    collector: SessionCollector
    report: SessionReport
    coverage: Coverage


def replay(
    recording: Recording,
    extra_sinks: list[SessionSink] | None = None,
    progress: ProgressCallback | None = None,
    running_measures: bool = True,
) -> ReplayedSession:
    """Replay the recording with its stored settings, all at once; sinks receive the raw data as
    one block per sensor, the frames in blocks of a minute, then the events, the calibration and
    (with `running_measures`, which cost most of the time) the running measures."""
    if replays_block_by_block(recording):
        return replay_streamed(recording, extra_sinks, progress)
    collector = SessionCollector()
    stream = recorded_stream(recording)
    return _replay(recording, stream, collector, extra_sinks or [], progress, running_measures)


def replays_block_by_block(recording: Recording) -> bool:
    """Hold drills replay block by block: the hold posture is fixed within the live frame blocks
    (a start key takes effect from the block after it arrived), so only the block-by-block replay
    gives the live hold angles bit for bit. Holds last minutes, so its speed does not matter."""
    return angle_definition(recording.settings.drill) is AngleDefinition.HOLD


def _replay(
    recording: Recording,
    stream: RecordedStream,
    collector: SessionCollector,
    extra_sinks: list[SessionSink],
    progress: ProgressCallback | None,
    running_measures: bool,
) -> ReplayedSession:
    sinks: list[SessionSink] = [collector, *extra_sinks]
    for sink in sinks:
        sink.on_start(stream.host_origin_ns)
    for p, samples in recording.samples.items():  # empty when the replay reads the file itself
        if len(samples):
            for sink in extra_sinks:
                sink.on_samples(samples, recording.session_time_s[p])
    end_s = float(recording.frame_time_s[-1]) if len(recording.frame_time_s) else 0.0

    def on_frame(frame: Frame, angles: AngleBlock) -> None:
        for sink in sinks:
            sink.on_frame(frame, angles)
        if progress is not None and end_s > 0:
            progress(min(float(frame.time_s[-1]) / end_s, 0.99))

    # Only the angles the sinks keep (all when any other sink than the collector listens).
    outputs = None if extra_sinks else collector.keep & ANGLE_OUTPUTS
    ahead = _inflate_ahead(stream)

    def before_frames(frames: int) -> None:
        collector.expect_frames(frames)  # room for all at once: no doubling and copying at the end
        if ahead is not None:
            ahead.stop()

    try:
        batched = run_batched(
            stream,
            recording.settings,
            on_frame,
            running_measures=running_measures,
            outputs=outputs,
            before_frames=before_frames,
        )
    finally:
        if ahead is not None:
            ahead.stop()
            for column in ahead.columns:
                column.drop_cache()
    for event in batched.events:
        for sink in sinks:
            sink.on_event(event)
    if batched.calibration is not None:
        for sink in sinks:
            sink.on_calibration(batched.calibration)
    for update in batched.measures:
        for sink in sinks:
            sink.on_measures(update)
    if progress is not None:
        progress(1.0)
    health = {
        p: replace(h, drift_ppm=batched.drift_ppm[p], latency_s=batched.latency_s[p])
        for p, h in replay_health(recording).items()
    }
    report = SessionReport(
        health=health,
        drift_ppm=batched.drift_ppm,
        frames=batched.frames,
        session_s=batched.session_s,
        calibrated=batched.calibration is not None,
        calibration_failures=batched.calibration_failures,
        late_samples=batched.late_samples,
    )
    coverage = coverage_of(recording, batched.session_time_s, batched.late_samples)
    return ReplayedSession(recording, collector, report, coverage)


#: Raw rows inflated ahead while the frames' schedule is worked out (one core is idle then): the
#: first rows of the accelerometer and gyroscope columns, which the frames read first.
AHEAD_BYTES = 48 << 20


def _inflate_ahead(stream: RecordedStream) -> Prefetch | None:
    """Start inflating the stream's first accelerometer and gyroscope rows ahead, where they are
    chunk columns and there are two cores (None otherwise)."""
    raw = (*stream.acc_m_s2.values(), *stream.gyr_rad_s.values())
    columns = [c for c in raw if isinstance(c, ChunkColumn)]
    cores = batch_frames.usable_cores()
    if not columns or cores < 2 or _busy(cores):
        return None
    return Prefetch(columns, AHEAD_BYTES)


def _busy(cores: int) -> bool:
    """No core is likely to be idle (the last minute's load average): nothing to inflate ahead
    on (e.g. one analysis per core in a cohort's workers)."""
    try:
        return os.getloadavg()[0] > cores - 1
    except (AttributeError, OSError):  # no load average here: assume a core is free
        return False


def _run_to_end(session: Coroutine[Any, Any, SessionReport]) -> SessionReport:
    """Run a session coroutine to its end, on a thread of its own when this thread already runs
    an event loop (an analysis called from inside a live session's loop)."""
    import asyncio  # only the block by block replay needs it: the analysis commands load less

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(session)
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, session).result()


def replay_streamed(
    recording: Recording,
    extra_sinks: list[SessionSink] | None = None,
    progress: ProgressCallback | None = None,
) -> ReplayedSession:
    """Replay the recording block by block through a `SessionRunner` with its stored settings, as
    the live session ran (the reference for `replay`)."""
    source = ReplaySource(recording)
    collector = SessionCollector()
    sinks: list[SessionSink] = [collector, *(extra_sinks or [])]
    if progress is not None:
        sinks.append(_ProgressSink(source, progress))
    # To the file's end, as the live session read on past its duration to its stop (session_end)
    settings = replace(recording.settings, duration_s=None)
    report = _run_to_end(SessionRunner(source, sinks, settings).run())
    if progress is not None:
        progress(1.0)
    return ReplayedSession(
        recording, collector, report, coverage_of(recording, late_samples=report.late_samples)
    )


def subject_settings(recording_path: Path | str, subject_id: str) -> dict[str, float]:
    """The subject's settings stored beside a recording that its analysis uses, as `SessionData`
    fields (the pelvic sensor's height for stride length and gait speed); empty when none are
    stored. A damaged subject file is logged and left out. (`stabmon cohort` keys its journal on
    these: a change re-analyses the subject's files.)"""
    try:
        height = subject_beside(Path(recording_path), subject_id).sensor_height
    except SubjectError as error:
        logging.getLogger(__name__).warning("%s; analysed without the subject's settings", error)
        return {}
    return {} if height is None else {"sensor_height_m": height}


def with_subject_settings(data: SessionData, recording: Recording) -> SessionData:
    """The session's data with the subject's settings stored beside the recording."""
    return replace(data, **subject_settings(recording.path, recording.subject_id))  # type: ignore[arg-type]


def measures_of(
    collector: SessionCollector, recording: Recording, coverage: Coverage | None = None
) -> AnalysisResult:
    """The drill's measures table of a replayed (or just recorded) session, with the subject's
    settings stored beside the recording, over the part of the task its sensors cover
    (`analysis_coverage.measured_part`; `coverage`: a replay's, else the recording's), with
    notes on what limits it (ProcessingError when it cannot be analysed)."""
    coverage = coverage or coverage_of(recording)
    if collector.calibration is None and collector.frame is not None:
        silent = silent_sensors_text(recording.drill, coverage)  # why it could not calibrate, first
        raise ProcessingError(silent or never_calibrated(collector, recording.settings.calibration_s))
    data = with_subject_settings(collector.session_data(), recording)
    part = measured_part(data, recording.drill, coverage)
    try:
        result = analyze(part.data, recording.drill)
    except ProcessingError as error:
        if not part.limit:
            raise
        raise ProcessingError(f"{error} ({part.limit})") from None
    return replace(result, notes=part.notes)


def never_calibrated(collector: SessionCollector, calibration_s: float) -> str:
    """Why a replayed session has no measures when it never calibrated, and what a reviewer can
    do, with what its failed captures showed (the pipeline's CALIBRATION events, one per kind)."""
    shown = [e.label.removeprefix("failed: ") for e in collector.events if e.label.startswith("failed: ")]
    why = f" ({'; '.join(shown)})" if shown else ""
    return (
        f"the session was never calibrated, so there are no measures: the recording holds no "
        f"{calibration_s:g} s of still, upright standing to calibrate from{why}; a recording that "
        "starts with it can be measured"
    )


def analyze_recording(recording: Recording, progress: ProgressCallback | None = None) -> AnalysisResult:
    """The drill's measures table for a recording (ProcessingError when it cannot be analysed,
    e.g. it never calibrated), with the subject's settings stored beside it."""
    session = replay(recording, progress=progress, running_measures=False)
    return measures_of(session.collector, recording, session.coverage)


#: The frame and angle arrays each analysis family reads (sensors.processing.analysis); a replay
#: for analysis keeps only these. A test checks every family against a replay that keeps all.
ANALYSIS_READS: dict[DrillFamily, frozenset[str]] = {
    DrillFamily.QUIET_STANCE: frozenset({"valid", "acc_m_s2", "gyr_rad_s"}),
    DrillFamily.SINGLE_LEG: frozenset({"valid", "acc_m_s2", "gyr_rad_s", "inclination_rad"}),
    DrillFamily.PERTURBATIONS: frozenset({"acc_m_s2", "inclination_rad"}),
    DrillFamily.FORWARD_BEND: frozenset({"inclination_rad"}),
    DrillFamily.SIT_TO_STAND: frozenset({"acc_m_s2", "inclination_rad", "orientation"}),
    DrillFamily.GAIT: frozenset({"valid", "acc_m_s2", "gyr_rad_s", "orientation"}),
    **dict.fromkeys(HOLD_FAMILIES, frozenset({"orientation"})),
}


def analyze_file(
    path: Path | str, progress: ProgressCallback | None = None
) -> tuple[Recording, AnalysisResult]:
    """A recording's metadata and its drill's measures table, reading the raw data from the file
    a window at a time and keeping only what the drill's measures read (flat memory for long
    files); the same table as `analyze_recording`. The C heap keeps the memory freed between
    frame blocks while it runs (`c_heap_policy.keeping_freed_memory`)."""
    with c_heap_policy.keeping_freed_memory():
        return _analyze_file(path, progress)


def _analyze_file(path: Path | str, progress: ProgressCallback | None) -> tuple[Recording, AnalysisResult]:
    with open_recorded_stream(path) as (recording, stream):
        lacking = missing_placements(recording.drill, recording.placements)
        if lacking is not None:  # said before a replay that could only end in it
            raise ProcessingError(lacking)
        if replays_block_by_block(recording):
            full = read_recording(path)
            session = replay_streamed(full, progress=progress)
            return full, measures_of(session.collector, full, session.coverage)
        try:
            keep = ANALYSIS_READS.get(drill_family(recording.drill))
        except ProcessingError:
            keep = None  # analyze() below says what is wrong
        c_heap_policy.trim()  # what reading the metadata left (HDF5 chunk maps) before the long arrays
        try:
            collector = SessionCollector(keep, capacity_frames=len(recording.frame_time_s) + 1)
            session = _replay(recording, stream, collector, [], progress, running_measures=False)
        except (OSError, RuntimeError) as error:  # h5py on damaged chunks read a window at a time
            problem: str | None = f"raw data cannot be read ({error})"
        else:
            problem = None
    if problem is not None:  # read whole, the damaged chunks left out as gaps (`chunk_damage`)
        full = read_recording(path)
        if not full.damaged:
            raise NotARecordingError(recording.path, problem)
        return full, analyze_recording(full, progress)
    c_heap_policy.trim()
    return recording, measures_of(session.collector, recording, session.coverage)
