"""What a recording's writer process has not yet confirmed on disk, kept by the engine so that a
writer process that dies (killed, crashed) loses nothing the engine had.

`UnconfirmedTail` keeps every message the engine queues for the writer process until one of the
writer's flushes confirms its rows are in the file (`writer_wire.Flushed`: the rows written per
dataset). A raw block is confirmed once its sensor's rows and its arrival-log entry are written, a
frame once its /processing rows are, an event once its row is; the clock origin and calibration
are always kept (one each). The rows are counted as the writer counts them: a block's rows that do
not come after its sensor's last sequence are left out on both sides (`writer_rows.first_new_row`).
So a few flushes' worth is kept (about a second); while the writer process falls behind, more
(`backlog_s` says how much).

When the writer process is gone, `recordings.recovery.recover` copies what it flushed into a fresh
file and `append_tail` adds the kept tail to that copy before it takes the recording's name: raw
rows after the last sequence the copy holds per sensor, arrival entries after its last one, frames
and events after its last rows, the origin and calibration again. The file then holds everything
the session delivered, each sample once, in order.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import h5py

from recordings import schema
from recordings.consistency import common_length
from recordings.file_layout import datasets_of
from recordings.pending_rows import PendingRows
from recordings.writer_messages import (
    CalibrationResult,
    EventRow,
    FrameRows,
    HostOrigin,
    RawSamples,
    WriterMessage,
)
from recordings.writer_rows import (
    ARRIVAL,
    RAW_COLUMNS,
    calibration_write,
    event_rows,
    first_new_row,
    frame_rows,
    origin_write,
    sample_rows,
)
from sensors.placements import Placement

__all__ = ["Tail", "UnconfirmedTail", "append_tail"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tail:
    """The unconfirmed messages at one moment. raw: (arrival-log entry number, block with the rows
    the writer keeps) in the order received; frames: (first /processing row, frame); events:
    (row, event); settings: the newest clock origin and calibration."""

    raw: list[tuple[int, RawSamples]] = field(default_factory=list)
    frames: list[tuple[int, FrameRows]] = field(default_factory=list)
    events: list[tuple[int, EventRow]] = field(default_factory=list)
    settings: list[HostOrigin | CalibrationResult] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return sum(len(message.block) for _, message in self.raw)


class UnconfirmedTail:
    """The engine's copy of what a writer process has not confirmed yet (thread-safe: the engine's
    threads keep, the reader of the writer's replies confirms)."""

    def __init__(self, placements: Sequence[Placement], rate_hz: float) -> None:
        self.placements = tuple(placements)
        self.rate_hz = rate_hz
        self._lock = threading.Lock()
        self._raw: dict[Placement, deque[tuple[int, int, RawSamples]]] = {p: deque() for p in placements}
        self._last_sequence: dict[Placement, int] = {}
        self._rows = dict.fromkeys(self.placements, 0)  # kept by the writer, per sensor
        self._entries = 0  # arrival-log entries the writer makes
        self._frames: deque[tuple[int, FrameRows]] = deque()
        self._frame_rows = 0
        self._events: deque[tuple[int, EventRow]] = deque()
        self._event_rows = 0
        self._settings: dict[type, HostOrigin | CalibrationResult] = {}
        self._confirmed_rows = dict.fromkeys(self.placements, 0)
        self._confirmed_frames = 0

    def keep(self, message: WriterMessage) -> None:
        """Keep one message queued for the writer process."""
        with self._lock:
            match message:
                case RawSamples(block, session_time_s):
                    placement = block.placement
                    previous = self._last_sequence.get(placement)
                    first = first_new_row(block.sequence, previous)
                    if first == len(block):
                        return  # the writer writes nothing of it
                    if first:
                        message = RawSamples(block.rows(first, len(block)), session_time_s[first:])
                    self._last_sequence[placement] = int(block.sequence[-1])
                    self._rows[placement] += len(block) - first
                    self._raw[placement].append((self._entries, self._rows[placement], message))
                    self._entries += 1
                case FrameRows(time_s, _, _):
                    self._frames.append((self._frame_rows, message))
                    self._frame_rows += len(time_s)
                case EventRow():
                    self._events.append((self._event_rows, message))
                    self._event_rows += 1
                case HostOrigin() | CalibrationResult():
                    self._settings[type(message)] = message

    def confirmed(self, written: Mapping[str, int]) -> None:
        """A flush of the writer process wrote `written` rows per dataset path since the file was
        created: forget what that covers."""
        entries = written.get(f"{ARRIVAL}/rows", 0)
        with self._lock:
            for placement, kept in self._raw.items():
                group = f"{schema.ACQUISITION}/{placement.value}"
                rows = min(written.get(f"{group}/{name}", 0) for name in RAW_COLUMNS)
                self._confirmed_rows[placement] = rows
                while kept and kept[0][0] < entries and kept[0][1] <= rows:
                    kept.popleft()
            frames = min(
                (n for path, n in written.items() if path.startswith(f"{schema.PROCESSING}/")), default=0
            )
            self._confirmed_frames = frames
            while self._frames and self._frames[0][0] + len(self._frames[0][1].time_s) <= frames:
                self._frames.popleft()
            events = written.get(f"{schema.EVENTS}/time_s", 0)
            while self._events and self._events[0][0] < events:
                self._events.popleft()

    @property
    def backlog_s(self) -> float:
        """Seconds of data (at the session's rate) sent or queued but not confirmed on disk: the
        most of any sensor's raw rows and of the frames."""
        with self._lock:
            rows = [self._rows[p] - self._confirmed_rows[p] for p in self.placements]
            rows.append(self._frame_rows - self._confirmed_frames)
        return max(rows) / self.rate_hz

    def snapshot(self) -> Tail:
        """What is unconfirmed now."""
        with self._lock:
            raw = sorted(
                ((entry, message) for kept in self._raw.values() for entry, _, message in kept),
                key=lambda item: item[0],
            )
            return Tail(raw, list(self._frames), list(self._events), list(self._settings.values()))


def append_tail(f: h5py.File, tail: Tail) -> int:
    """Append to the recording open in `f` (a recovered copy, not yet in the recording's place)
    whatever of `tail` it does not hold yet; returns the samples appended."""
    placements = [schema.decode_text(p) for p in f.attrs["placements"]]
    datasets = datasets_of(f)
    pending = PendingRows()
    for setting in tail.settings:
        if isinstance(setting, HostOrigin):
            pending.set_later(origin_write(setting.host_origin_ns))
        else:
            pending.set_later(calibration_write([Placement(p) for p in placements], setting.calibration))
    entries = common_length(f[ARRIVAL])
    last: dict[str, int | None] = {}
    for p in placements:
        sequence = f[f"{schema.ACQUISITION}/{p}/sequence"]
        last[p] = int(sequence[-1]) if sequence.shape[0] else None
    if tail.raw and tail.raw[0][0] > entries:
        log.error("%s: the unwritten tail begins after the file's arrival log ends", f.filename)
    appended = 0
    for entry, samples in tail.raw:
        block, session_time_s = samples.block, samples.session_time_s
        p = block.placement.value
        index = placements.index(p)
        if entry >= entries:  # its arrival-log entry: the block as the writer keeps it
            for path, values in sample_rows(index, block, session_time_s, None)[:2]:
                pending.add(path, values)
        first = first_new_row(block.sequence, last[p])
        if first < len(block):  # rows the file does not hold yet (part of the block, maybe)
            block, session_time_s = block.rows(first, len(block)), session_time_s[first:]
            for path, values in sample_rows(index, block, session_time_s, last[p])[2:]:
                pending.add(path, values)
            last[p] = int(block.sequence[-1])
            appended += len(block)
    processing = f[schema.PROCESSING]
    frames = common_length(processing)
    stored = [name for name, item in processing.items() if _growing(item)]
    for start, frame in tail.frames:
        skip = max(frames - start, 0)
        if skip < len(frame.time_s):
            for path, values in frame_rows(stored, frame.time_s, frame.valid, frame.angles):
                pending.add(path, values[skip:])
    events = common_length(f[schema.EVENTS])
    for row, event in tail.events:
        if row >= events:
            for path, values in event_rows(event.event):
                pending.add(path, values)
    pending.write_to(datasets, final=True)
    return appended


def _growing(item: object) -> bool:
    return isinstance(item, h5py.Dataset) and bool(item.maxshape) and item.maxshape[0] is None
