"""`ReplaySource`: a recording played back through the common source interface.

Blocks come out exactly as the live runner received them (the arrival log: same sensors, same
sample boundaries, same order, same host stamps and host clock origin), so the same pipeline
reproduces the live session's frames, angles and measures bit for bit. Events the operator, the
drill or the link produced are replayed; events the pipeline derived (calibration, detected
perturbations) are not, because the pipeline derives them again. Connection changes were recorded
as `link` annotation events and come back as those events (a replay has no link of its own).

`recorded_stream` gives the same recording as whole arrays for the batched runner
(`sensors.processing.batch_session`), which reproduces the same result at once.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np

from recordings import load_metadata, schema
from recordings.chunk_columns import ChunkColumn, InflateWhole, chunk_columns
from recordings.errors import RecordingError
from recordings.file_access import root_attributes
from recordings.reader import Recording, open_recording_file, read_recording
from sensors.health import HealthTracker
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.processing import batch_frames
from sensors.processing.batch_session import RecordedStream
from sensors.processing.batch_sync import ArrayRows
from sensors.source import LinkState, SensorHealth, SourceItem


async def _sleep(delay_s: float) -> None:
    import asyncio  # only the block by block replay runs a loop: the analysis commands load less

    await asyncio.sleep(delay_s)


#: Event sources whose events the pipeline recreates on replay.
DERIVED_EVENT_SOURCES = frozenset({"pipeline"})


class ReplaySource:
    """Streams `recording` as fast as possible, or in real time scaled by `speed` (2.0: twice as
    fast). Session time is the recording's: host stamps are replayed, not re-taken."""

    def __init__(self, recording: Recording, realtime: bool = False, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"replay speed must be positive, got {speed}")
        self.recording = recording
        self.realtime = realtime
        self.speed = speed
        self._health = {p: HealthTracker(p) for p in recording.placements}
        self._stopped = False
        self._now_ns = recording.arrival.host_origin_ns
        self._progress = 0.0

    @property
    def sensors(self) -> Mapping[Placement, SensorIdentity]:
        return self.recording.sensors

    @property
    def host_origin_ns(self) -> int:
        return self.recording.arrival.host_origin_ns

    @property
    def progress(self) -> float:
        """Share of the recording's blocks delivered so far, 0–1."""
        return self._progress

    async def start(self) -> None:
        self._stopped = False

    async def stop(self) -> None:
        self._stopped = True

    def health(self) -> Mapping[Placement, SensorHealth]:
        origin = self.host_origin_ns
        return {p: tracker.snapshot(self._now_ns, origin_ns=origin) for p, tracker in self._health.items()}

    async def stream(self) -> AsyncIterator[SourceItem]:
        rec = self.recording
        origin = rec.arrival.host_origin_ns
        events = [e for e in rec.events if e.source not in DERIVED_EVENT_SOURCES]
        events.sort(key=lambda e: e.time_s)
        next_event = 0
        offsets = dict.fromkeys(rec.placements, 0)
        wall_start_ns = time.monotonic_ns()
        first_host_ns: int | None = None
        total = len(rec.arrival.rows)
        for k, (index, rows) in enumerate(zip(rec.arrival.placement_index, rec.arrival.rows, strict=True)):
            if self._stopped:
                break
            placement = rec.placements[int(index)]
            start = offsets[placement]
            offsets[placement] = start + int(rows)
            block = rec.samples[placement].rows(start, start + int(rows))
            host_ns = int(block.host_receive_ns[-1])
            while next_event < len(events) and origin + events[next_event].time_s * 1e9 <= host_ns:
                yield events[next_event]
                next_event += 1
            if self.realtime:
                first_host_ns = host_ns if first_host_ns is None else first_host_ns
                due_ns = wall_start_ns + (host_ns - first_host_ns) / self.speed
                delay_s = (due_ns - time.monotonic_ns()) * 1e-9
                if delay_s > 0:
                    await _sleep(delay_s)
            elif k % 64 == 0:
                await _sleep(0)  # let other tasks (progress, a GUI) run
            self._now_ns = max(self._now_ns, host_ns)
            self._health[placement].update(block)
            self._progress = (k + 1) / total
            yield block
        if not self._stopped:
            for event in events[next_event:]:
                yield event
        for tracker in self._health.values():
            tracker.state = LinkState.STOPPED


def recorded_stream(recording: Recording, stored_times: bool = True) -> RecordedStream:
    """The recording as the live runner received it, for `run_batched`: raw samples in arrival
    order, the arrival log, the source's events (not those the pipeline derives again), and, with
    `stored_times`, the session times the live clock mapping gave (else they are mapped again)."""
    events = [e for e in recording.events if e.source not in DERIVED_EVENT_SOURCES]
    events.sort(key=lambda e: e.time_s)
    samples = recording.samples
    return RecordedStream(
        placements=recording.placements,
        device_time_s={p: s.device_time_s for p, s in samples.items()},
        host_receive_ns={p: s.host_receive_ns for p, s in samples.items()},
        sequence={p: s.sequence for p, s in samples.items()},
        acc_m_s2={p: s.acc_m_s2 for p, s in samples.items()},
        gyr_rad_s={p: s.gyr_rad_s for p, s in samples.items()},
        placement_index=recording.arrival.placement_index,
        rows=recording.arrival.rows,
        host_origin_ns=recording.arrival.host_origin_ns,
        events=tuple(events),
        session_time_s=dict(recording.session_time_s) if stored_times else None,
    )


def replay_health(recording: Recording, window_s: float = 10.0) -> dict[Placement, SensorHealth]:
    """Each sensor's health at the end of the recording, as a replay's source reports it: counts
    over everything, rate and loss over the last `window_s` of blocks."""
    rec, out = recording, {}
    end_ns = max((int(s.host_receive_ns[-1]) for s in rec.samples.values() if len(s)), default=0)
    for k, placement in enumerate(rec.placements):
        tracker = HealthTracker(placement, window_s)
        bounds = np.concatenate([[0], np.cumsum(rec.arrival.rows[rec.arrival.placement_index == k])])
        samples = rec.samples[placement]
        if len(samples) == 0:
            out[placement] = tracker.snapshot(end_ns, origin_ns=rec.arrival.host_origin_ns)
            continue
        last_ns = int(samples.host_receive_ns[-1])  # entries older than window_s before it are dropped
        recent = int(np.searchsorted(samples.host_receive_ns[bounds[1:] - 1], last_ns - window_s * 1e9))
        if recent > 0:
            tracker.update(samples.rows(0, int(bounds[recent])))  # one entry, outside the window
        for a, b in zip(bounds[recent:-1], bounds[recent + 1 :], strict=True):
            tracker.update(samples.rows(int(a), int(b)))
        out[placement] = tracker.snapshot(end_ns, origin_ns=rec.arrival.host_origin_ns)
    return out


#: The raw datasets a window-at-a-time replay reads through (the others: a block, or the counters
#: read while checking them).
_READ_WHOLE = ("host_receive_ns", "acc_m_s2", "gyr_rad_s", "session_time_s")
#: The raw datasets a window-at-a-time replay reads, with the dtype each must have.
_RAW_DATASETS = {
    "device_time_s": np.float64,
    "host_receive_ns": np.int64,
    "sequence": np.int64,
    "acc_m_s2": np.float64,
    "gyr_rad_s": np.float64,
    "session_time_s": np.float64,
}


#: The whole-read datasets inflated on a thread of their own while the metadata is read.
_READ_AHEAD_WHOLE = ("host_receive_ns", "session_time_s")


@contextmanager
def open_recorded_stream(path: Path | str) -> Iterator[tuple[Recording, RecordedStream]]:
    """The recording's metadata (without its samples) and its stream with the raw datasets of
    the open file, read a window at a time, so a replay holds little of the file at once. Files
    that store their raw data otherwise (an older schema, other dtypes) are read whole. The
    columns a replay reads whole first (host stamps, session times) are inflated on a second
    core while the metadata is read."""
    path = Path(path)
    with open_recording_file(path) as f:  # closed again before the metadata is read (a second
        found = _raw_columns(path, f)  # open of a file open here would not see it left open)
    ahead = [c for k, c in (found or {}).items() if k[0] in _READ_AHEAD_WHOLE]
    whole = InflateWhole(ahead) if ahead and batch_frames.usable_cores() > 1 else None
    try:
        recording = read_recording(path, derived=False, raw=False)
        if recording.migrated_from is not None:
            yield recording, recorded_stream(read_recording(path, derived=False))
            return
        if any(len(block.sequence) for block in recording.samples.values()):  # read whole to repair it
            yield recording, recorded_stream(recording)
            return
        with open_recording_file(path) as f:
            groups = {p: f[schema.ACQUISITION][p.value] for p in recording.placements}
            expected = [(g, name, dtype) for g in groups.values() for name, dtype in _RAW_DATASETS.items()]
            if not all(name in g and g[name].dtype == dtype for g, name, dtype in expected):
                full = read_recording(path, derived=False)
                yield full, recorded_stream(full)
                return
            datasets: dict[tuple[str, Placement], ArrayRows] = {
                (name, p): g[name] for p, g in groups.items() for name in _READ_WHOLE
            }
            if found is not None and found.keys() == datasets.keys():
                datasets = dict(found)  # the columns made above (and being inflated)
            for p, g in groups.items():
                datasets["device_time_s", p] = g["device_time_s"]  # only its last block is read
                datasets["sequence", p] = recording.counters[p]  # read once, while checking them

            def columns(name: str) -> dict[Placement, ArrayRows]:
                return {p: datasets[name, p] for p in groups}

            yield (
                recording,
                replace(
                    recorded_stream(recording),
                    device_time_s=columns("device_time_s"),
                    host_receive_ns=columns("host_receive_ns"),
                    sequence=columns("sequence"),
                    acc_m_s2=columns("acc_m_s2"),
                    gyr_rad_s=columns("gyr_rad_s"),
                    session_time_s=columns("session_time_s"),
                ),
            )
    finally:
        if whole is not None:
            whole.stop()
            for column in whole.columns:
                column.drop_cache()


def _raw_columns(path: Path, f: h5py.File) -> dict[tuple[str, Placement], ChunkColumn] | None:
    """The raw datasets a replay reads whole or a window at a time as `ChunkColumn`s (which
    read the file without HDF5: they stay usable once `f` is closed), when the file's
    placements all have them with the dtypes a window-at-a-time replay reads and their chunks
    are ones `chunk_columns` reads; None otherwise, or when anything about the file is not as
    expected (`read_recording` says what)."""
    try:
        placements = load_metadata.placements(path, root_attributes(path, f))
        groups = {p: f[schema.ACQUISITION][p.value] for p in placements}
        if not all(
            name in g and g[name].dtype == dtype
            for g in groups.values()
            for name, dtype in _RAW_DATASETS.items()
        ):
            return None
        return chunk_columns(path, {(name, p): g[name] for p, g in groups.items() for name in _READ_WHOLE})
    except (RecordingError, KeyError, TypeError, ValueError, OSError, RuntimeError):
        return None
