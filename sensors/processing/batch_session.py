"""A recorded session through the session runner's stages at once, with the live session's result.

`SessionRunner` maps clocks, synchronises and steps the pipeline block by block as data arrive.
Given every block in arrival order, `run_batched` gives the same frames, angles, calibration and
derived events (bit for bit) with numpy over whole arrays: clocks mapped per bin
(`batch_clock`), the synchroniser's emissions worked out per block (`batch_sync`), and the
pipeline stepped over a few large frames (its result does not depend on the chunking). The
running measures (sway over the last 10 s, once a second) cost more than all of that together;
they are computed only when asked for.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sensors.events import Event
from sensors.placements import Placement
from sensors.processing.batch_clock import map_clock
from sensors.processing.batch_frames import frames_beside
from sensors.processing.batch_sync import ArrayRows, ArrivalBlocks, BatchSynchronizer
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.live_measures import RunningMeasures
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import SessionSettings, session_processing
from sensors.processing.start_hold import release_block
from sensors.samples import Frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordedStream:
    """What a session's runner received. Per placement, in arrival order: device_time_s (n,) s,
    host_receive_ns (n,) ns, sequence (n,), acc_m_s2 (n, 3), gyr_rad_s (n, 3), and optionally
    session_time_s (n,) s as the live clock mapping gave them (float64; None: map them again).
    Blocks: placement_index (k,) and rows (k,) in arrival order; host_origin_ns is session time 0;
    events: the source's own events (operator, drill, link), sorted by time. The per-sample
    arrays may be HDF5 datasets of an open file: they are read a window at a time."""

    placements: tuple[Placement, ...]
    device_time_s: Mapping[Placement, ArrayRows]
    host_receive_ns: Mapping[Placement, ArrayRows]
    sequence: Mapping[Placement, ArrayRows]
    acc_m_s2: Mapping[Placement, ArrayRows]
    gyr_rad_s: Mapping[Placement, ArrayRows]
    placement_index: np.ndarray
    rows: np.ndarray
    host_origin_ns: int
    events: Sequence[Event] = ()
    session_time_s: Mapping[Placement, ArrayRows] | None = None


@dataclass(frozen=True)
class BatchedSession:
    """What the live runner's sinks would have received. events: the source's events that
    reached the runner, then the derived ones (calibration, detected perturbations), each group
    in order; measures: empty unless asked for."""

    session_time_s: Mapping[Placement, np.ndarray]
    events: tuple[Event, ...]
    calibration: SegmentCalibration | None
    calibration_failures: tuple[str, ...]
    measures: tuple[RunningMeasures, ...]
    drift_ppm: Mapping[Placement, float]
    latency_s: Mapping[Placement, float]
    frames: int
    session_s: float
    late_samples: int


#: Receives every frame block and its angles, in order.
FrameCallback = Callable[[Frame, AngleBlock], None]


def run_batched(
    stream: RecordedStream,
    settings: SessionSettings,
    on_frame: FrameCallback,
    running_measures: bool = False,
    chunk_s: float = 60.0,
    outputs: Collection[str] | None = None,
    before_frames: Callable[[int], None] | None = None,
) -> BatchedSession:
    """Run the recorded stream through clock mapping, synchroniser, pipeline and live measures,
    handing each frame block (`chunk_s` of frames) to `on_frame`; the session ends where the live
    one did: the stream's end (a live session records what it read after reaching its duration,
    up to its stop and what its source held then: `sensors.processing.session_end`). `outputs`:
    the angle arrays `on_frame` needs (None: all; the others are NaN). `before_frames(n)` is called
    once the frames' schedule is made, with the number of frames to come, before they are made (and
    their process forked)."""
    placements = stream.placements
    index = np.asarray(stream.placement_index, dtype=np.int64)
    rows = np.asarray(stream.rows, dtype=np.int64)
    now_s, _ = _session_now(stream, index, rows)
    kept = {p: int(rows[index == k].sum()) for k, p in enumerate(placements)}
    held: dict[Placement, np.ndarray] = {}
    release = 0
    if len(rows):  # the runner held the first blocks until the clocks settled, then sent them on
        release, held = release_block(
            placements,
            index,
            rows,
            stream.device_time_s,
            stream.host_receive_ns,
            stream.host_origin_ns,
            now_s,
            settings.clock,
            settings.synchronizer.longest_wait_s,
        )
        now_s = now_s.copy()
        now_s[:release] = now_s[release]
    times, drift, latency = {}, {}, {}
    squeezed = _squeezed_start(stream, held)
    for k, p in enumerate(placements):
        stored = None if stream.session_time_s is None else stream.session_time_s.get(p)
        mine = rows[index == k]
        if not squeezed and stored is not None and stored.dtype == np.float64 and len(stored) >= kept[p]:
            times[p] = _rows(stored, 0, kept[p])  # what the live clock mapping gave: the live times
            a = kept[p] - int(mine[-1]) if len(mine) else 0
            drift[p], latency[p] = _clock_figures(
                np.asarray(stream.device_time_s[p][a : kept[p]], dtype=float),
                np.asarray(stream.host_receive_ns[p][a : kept[p]], dtype=np.int64),
                times[p][a:],
                stream.host_origin_ns,
            )
        else:
            device = np.asarray(_rows(stream.device_time_s[p], 0, kept[p]), dtype=float)
            host = np.asarray(_rows(stream.host_receive_ns[p], 0, kept[p]), dtype=np.int64)
            times[p], clock = map_clock(device, host, mine, stream.host_origin_ns, settings.clock)
            first = held.get(p, np.zeros(0))
            times[p][: len(first)] = first
            drift[p], latency[p] = clock.drift_ppm, clock.latency_s
    _drop_caches((stream.session_time_s or {}).values())  # read whole above: kept as `times`
    pipeline, live = session_processing(placements, settings, outputs)
    derived: list[Event] = []
    measures: list[RunningMeasures] = []
    frames, late = 0, 0
    if len(rows):
        sync = BatchSynchronizer(
            placements,
            times,
            stream.sequence,  # read a window at a time (arrays, or datasets of an open file)
            stream.acc_m_s2,
            stream.gyr_rad_s,
            ArrivalBlocks(index, rows, now_s, release),
            settings.synchronizer,
        )
        late = sync.late_samples
        if before_frames is not None:
            before_frames(sync.last_index - sync.first_index + 1)
        for frame in frames_beside(sync, chunk_s):
            angles = pipeline.step(frame)
            frames += len(frame)
            on_frame(frame, angles)
            if running_measures:
                update, detected = live.step(frame, angles, pipeline.calibration)
                measures += update
            else:
                detected = live.perturbations(frame)  # the same detector, without the sway updates
            derived += pipeline.take_events() + detected
    source_events = stream.events  # the runner read its source to the end: every event
    return BatchedSession(
        session_time_s=times,
        events=(*source_events, *derived),
        calibration=pipeline.calibration,
        calibration_failures=tuple(dict.fromkeys(pipeline.calibration_failures)),
        measures=tuple(measures),
        drift_ppm=drift,
        latency_s=latency,
        frames=frames,
        session_s=float(now_s[-1]) if len(now_s) else 0.0,
        late_samples=late,
    )


#: Rows read from a file dataset in one request: HDF5 builds a map of every chunk a request
#: touches and keeps that memory for reuse, ~8 KB per chunk (a whole 4-h column at once: ~230 MB).
READ_ROWS = 100_000


def _rows(values: ArrayRows, start: int, stop: int) -> np.ndarray:
    """values[start:stop] as an array, read from a file dataset in requests of READ_ROWS (at
    once where the rows are in memory already: a source's `cached_rows`)."""
    if isinstance(values, np.ndarray) or getattr(values, "cached_rows", 0) >= stop:
        return np.asarray(values[start:stop])
    parts = [np.asarray(values[a : min(a + READ_ROWS, stop)]) for a in range(start, stop, READ_ROWS)]
    return np.concatenate(parts) if parts else np.asarray(values[start:stop])


def _drop_caches(sources: Iterable[ArrayRows]) -> None:
    """Free the rows a source holds in memory (inflated ahead), where it has any."""
    for source in sources:
        drop = getattr(source, "drop_cache", None)
        if drop is not None:
            drop()


#: Stored session times of the first samples this far (s) from the settled mapping's were
#: squeezed by a live runner that did not hold its first blocks (recorded before it did).
SQUEEZED_START_S = 0.05
#: A backlog is seconds long; stored times further off than this (s) are a damaged file's.
MAX_BACKLOG_S = 600.0


def _squeezed_start(stream: RecordedStream, held: Mapping[Placement, np.ndarray]) -> bool:
    """Whether the stored session times of the samples the runner holds at the start (`held`,
    per placement (n,) s) are later than the settled mapping's (by more than SQUEEZED_START_S,
    less than MAX_BACKLOG_S): a recording made before the runner held them, whose first
    notifications came in a burst; its clocks are then mapped again."""
    for p, times in held.items():
        stored = None if stream.session_time_s is None else stream.session_time_s.get(p)
        if stored is None or len(times) == 0 or len(stored) < len(times):
            continue
        if not (np.all(np.isfinite(times)) and float(np.min(times)) > -SQUEEZED_START_S):
            continue  # damaged stamps (before session time 0): the stored times stand
        off = float(np.max(np.asarray(stored[: len(times)], dtype=float) - times))
        if SQUEEZED_START_S < off < MAX_BACKLOG_S:
            log.warning(
                "the stored session times of the first %d %s samples are up to %.2f s off the sensor "
                "clock (a backlog at the start, recorded before the runner held it): mapped again",
                len(times),
                p.value,
                off,
            )
            return True
    return False


def _clock_figures(
    device_s: np.ndarray, host_ns: np.ndarray, times_s: np.ndarray, origin_ns: int
) -> tuple[float, float]:
    """The clock's drift (ppm) and latency (s) as the live mapping stood at the last block, from
    that block's (n,) device times, host stamps and the session times the mapping gave (within
    one block they lie on its line)."""
    if len(device_s) == 0:
        return math.nan, math.nan
    span = device_s[-1] - device_s[0]
    rate_error = (times_s[-1] - times_s[0]) / span - 1.0 if span > 0 else 0.0
    ends = np.flatnonzero(np.diff(host_ns, append=host_ns[-1] + 1))
    delay = float(np.mean((host_ns[ends] - origin_ns) * 1e-9 - times_s[ends]))
    return float(-rate_error / (1.0 + rate_error) * 1e6), delay


def _session_now(
    stream: RecordedStream, index: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """After each block: the session time the runner had reached (s, its newest host stamp),
    and that block's last host stamp (ns)."""
    last_sample = np.empty(len(rows), dtype=np.int64)
    for k, p in enumerate(stream.placements):
        mine = index == k
        ends = np.cumsum(rows[mine]) - 1
        host = stream.host_receive_ns[p]
        last_sample[mine] = _rows(host, 0, int(ends[-1]) + 1 if len(ends) else 0)[ends]
        _drop_caches([host])  # the rest of it is not read again (the clock figures: one block)
    now = np.maximum.accumulate(np.maximum((last_sample - stream.host_origin_ns) * 1e-9, 0.0))
    return now, last_sample
