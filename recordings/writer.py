"""Write one session to HDF5 on a thread of its own, crash-safely.

Every dataset is created up front (chunked, checksummed, resizable), then the file switches to
SWMR mode so readers can open it while it grows. Data arrive through a queue; the writer thread
gathers rows in memory and, every `flush_interval_s`, appends the *whole chunks* it has to the
file and flushes. Bulk datasets are gzip-compressed; because only whole chunks are written while
the session runs, no compressed chunk is ever rewritten (rewriting one reallocates it and bloated
live files 10x). A chunk holds `CHUNK_S` of data, so a crash loses at most CHUNK_S plus the flush
interval (0.75 s); the partial last chunks are written on close. Acquisition never waits on disk,
nor on compression: whole chunks are compressed outside HDF5, with the interpreter lock released,
and stored as they are (`recordings.pending_rows`, `recordings.chunk_filters`).

The file's layout is `recordings.file_layout`, the chunk policy `recordings.pending_rows`, the
messages the thread takes `recordings.writer_messages`, the rescue file `recordings.rescue`, the
free-space gate `recordings.disk_room`.

Raw data are stored at full width, exactly as decoded. Under /processing only the frame grid and
gap flags are stored unless `SessionMetadata.store_angles` asks for the angles too: a replay of
the raw data gives them bit for bit (schema 0.3.0). Files are in the HDF5 1.10 format
(`schema.FILE_FORMAT`), which HDF5 1.10 and later read.

A full disk: below `MIN_FREE_BYTES` free the writer holds data in memory until there is room. If
a write fails anyway (another program filled the disk between the check and the write, a quota,
an I/O error), the file is not written again: HDF5 loses the chunks of a failed write even when
they are rewritten, and may leave its metadata on disk half-written. Once there is room, the
writer makes a rescue file (`rescue_path`): the rows written safely so far, read back through the
failed file's open handle, then everything since. On close the rescue file takes the
recording's name; the failed one is kept as `<name>.damaged`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import h5py
import numpy as np

from recordings import schema
from recordings.disk_room import MIN_FREE_BYTES, DiskRoom, free_bytes
from recordings.errors import RecordingError
from recordings.file_layout import (
    CHUNK_S,
    Datasets,
    SessionMetadata,
    datasets_of,
    layout,
    open_new,
    processing_written,
)
from recordings.hdf5_memory import release_free_lists
from recordings.pending_rows import PendingRows, Write
from recordings.rescue import detach_and_close, open_rescue_file, rescue_path
from recordings.write_lock import WriteLock
from recordings.writer_messages import (
    CalibrationResult,
    EventRow,
    FrameRows,
    HostOrigin,
    RawSamples,
    WriterMessage,
)
from recordings.writer_rows import (
    calibration_write,
    event_rows,
    first_new_row,
    frame_rows,
    origin_write,
    sample_rows,
)
from sensors.events import Event
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.pipeline import AngleBlock
from sensors.samples import Frame, SampleBlock

__all__ = [
    "CHUNK_S",
    "CLOSE_WAIT_S",
    "MIN_FREE_BYTES",  # (from recordings.disk_room, where it lives)
    "RecordingWriter",
    "SessionMetadata",
    "rescue_path",
]

log = logging.getLogger(__name__)


#: How long closing waits for disk space before it writes anyway, s.
CLOSE_WAIT_S = 30.0
#: How often the writer empties HDF5's free lists (recordings/hdf5_memory.py), s.
RELEASE_FREE_LISTS_S = 60.0


class RecordingWriter:
    """Owns one HDF5 session file. Call the `append_*`/`add_*` methods from any thread; `close()`
    drains the queue and closes the file."""

    def __init__(
        self,
        path: Path,
        metadata: SessionMetadata,
        sensors: Mapping[Placement, SensorIdentity],
        flush_interval_s: float = 0.25,
        min_free_bytes: int = MIN_FREE_BYTES,
        free_space: Callable[[Path], int] = free_bytes,
    ) -> None:
        schema.check_subject_id(metadata.subject_id)
        self.min_free_bytes = min_free_bytes
        self._room = DiskRoom(Path(path), min_free_bytes, free_space)
        #: Set when a write failed: the file the whole recording is written to instead, which
        #: takes the recording's name on close.
        self.rescue_file: Path | None = None
        self._failed: tuple[h5py.File, Datasets] | None = None  # the file a write failed on
        self._rescue_after = 0.0  # monotonic time of the next attempt at the rescue file
        self.path = Path(path)
        self.metadata = metadata
        self.placements = tuple(sensors)
        self.flush_interval_s = flush_interval_s
        # What the producers hand over, taken every flush_interval_s: appending wakes nobody (a
        # thread woken per notification took the interpreter from the acquisition loop).
        self._incoming: deque[WriterMessage | None] = deque()  # None: close
        self._closing = threading.Event()
        self._error: BaseException | None = None
        self._sensors = dict(sensors)
        self._last_sequence: dict[Placement, int] = {}
        self._queued = dict.fromkeys(self.placements, 0)  # raw rows handed over, per sensor
        self._dropped = dict.fromkeys(self.placements, 0)  # of them not written (out of order)
        #: Samples not written because their sequence did not come after the last one written.
        self.out_of_order_samples = 0
        self._settings_writes: list[Write] = []  # origin, calibration
        self._written: dict[str, int] = {}  # rows per dataset path safely in the file
        #: Whole chunks filtered outside HDF5 and stored directly, and row blocks written through
        #: h5py (the small tables, the last partial chunks), over the session so far.
        self.chunks_stored_directly = 0
        self.h5py_writes = 0
        self.filter_ns = 0  # time spent filtering those chunks (the lock mostly released), ns
        self._processing = processing_written(metadata)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = WriteLock(self.path)  # recover/consolidate leave a file being written alone
        except OSError as error:
            raise RecordingError(self.path, f"cannot create the recording: {error}") from None
        try:
            self._file: h5py.File | None = open_new(self.path, "w-")
        except (OSError, FileExistsError) as error:
            self._lock.release()
            raise RecordingError(self.path, f"cannot create the recording: {error}") from None
        layout(self._file, metadata, sensors)
        self._file.swmr_mode = True
        self._datasets = datasets_of(self._file)
        self._thread = threading.Thread(target=self._run, name=f"hdf5-writer {self.path.name}", daemon=True)
        self._thread.start()

    # Producer side -----------------------------------------------------------------------

    def set_host_origin(self, host_origin_ns: int) -> None:
        """Record the host monotonic time (ns) that session time 0 corresponds to."""
        self._put(HostOrigin(int(host_origin_ns)))

    def append_samples(self, block: SampleBlock, session_time_s: np.ndarray) -> None:
        """Queue a raw block with its session times (n,) s."""
        self._put(RawSamples(block, np.asarray(session_time_s)))
        self._queued[block.placement] += len(block)

    def append_frame(self, frame: Frame, angles: AngleBlock) -> None:
        """Queue a synchronised frame's gap flags and the angles computed from it."""
        self._put(FrameRows(frame.time_s, frame.valid, angles))

    def add_event(self, event: Event) -> None:
        self._put(EventRow(event))

    def set_calibration(self, calibration: SegmentCalibration) -> None:
        self._put(CalibrationResult(calibration))

    def _put(self, message: WriterMessage) -> None:
        if self._error is not None:
            raise RecordingError(self.path, f"the writer stopped: {self._error}")
        self._incoming.append(message)

    def put_all(self, messages: Iterable[WriterMessage]) -> None:
        """Queue messages already made (a writer process's batch); dropped once the writer failed."""
        if self._error is None:
            self._incoming.extend(messages)

    def written_rows(self) -> dict[str, int]:
        """Rows safely in the file per dataset path (as of the last flush)."""
        return dict(self._written)

    @property
    def backlog_s(self) -> float:
        """Seconds of data (at the session's rate) handed over but not yet in the file: the most
        of any sensor's raw rows."""
        behind = [
            self._queued[p]
            - self._dropped[p]
            - self._written.get(f"{schema.ACQUISITION}/{p.value}/sequence", 0)
            for p in self.placements
        ]
        return max(behind, default=0) / self.metadata.rate_hz

    @property
    def disk_space_low(self) -> bool:
        """True while the disk is too full to write: data is held in memory until there is room."""
        return self._room.low

    @property
    def held_back_episodes(self) -> int:
        """How many times the writer had to hold data back for lack of space."""
        return self._room.held_back_episodes

    @property
    def failure(self) -> BaseException | None:
        """Why the writer thread stopped (None while it runs or after a clean close)."""
        return self._error

    def close(self) -> Path:
        """Write everything queued, close the file and return its path. After a failed write the
        complete rescue file takes the recording's name and the failed file is kept beside it as
        `<name>.damaged`."""
        if self._thread.is_alive():
            self._incoming.append(None)
            self._closing.set()
            self._thread.join()
        try:
            if self._error is not None:
                raise RecordingError(self.path, f"writing failed: {self._error}")
            if self.rescue_file is not None:
                os.replace(self.path, self.path.with_name(self.path.name + ".damaged"))
                os.replace(self.rescue_file, self.path)
                log.warning("%s: written whole from its rescue file after a failed write", self.path.name)
        finally:
            self._lock.release()
        return self.path

    # Writer thread -----------------------------------------------------------------------

    def _run(self) -> None:
        pending = PendingRows()
        last_flush = last_release = time.monotonic()
        try:
            while True:
                wait = max(self.flush_interval_s - (time.monotonic() - last_flush), 0.0)
                self._closing.wait(wait)
                closing = False
                while self._incoming:
                    message = self._incoming.popleft()
                    if message is None:
                        closing = True
                        break
                    self._gather(pending, message)
                if closing:
                    break
                if time.monotonic() - last_flush >= self.flush_interval_s:
                    if self._room.check():
                        self._write(pending)
                    last_flush = time.monotonic()
                    if last_flush - last_release >= RELEASE_FREE_LISTS_S:  # flat memory over hours
                        release_free_lists()
                        last_release = last_flush
            self._room.wait(CLOSE_WAIT_S)
            self._rescue_after = 0.0  # last chance: no waiting between attempts
            if not (self._write(pending, final=True) or self._write(pending, final=True)):
                raise OSError("there was no room on the disk for the rescue file")
        except BaseException as error:  # keep the file closeable and report on the next call
            log.exception("HDF5 writer for %s failed", self.path)
            self._error = error
        finally:
            if self._failed is not None:  # no room for the rescue file came in time
                failed, self._failed = self._failed, None
                detach_and_close(*failed)
            if self._file is not None:
                self._file.flush()
                self._datasets.clear()
                self._file.close()

    def _write(self, pending: PendingRows, final: bool = False) -> bool:
        """Append what is ready and flush. A write that fails leaves the file as it was at the
        last good flush: everything since stays pending and goes to the rescue file."""
        if self._file is None and not self._open_rescue():
            return False
        assert self._file is not None
        snapshot = pending.snapshot()
        try:
            written = pending.write_to(self._datasets, final)
            self._file.flush()
        except (OSError, RuntimeError) as error:  # h5py raises either for a failed write or flush
            pending.restore(snapshot)
            self._give_up_file(error)
            return False
        for path, rows in written.items():
            self._written[path] = self._written.get(path, 0) + rows
        self.chunks_stored_directly, self.h5py_writes = pending.direct_chunks, pending.h5py_writes
        self.filter_ns = pending.filter_ns
        return True

    def _give_up_file(self, error: Exception) -> None:
        """Stop writing to the file a write just failed on: HDF5 loses the chunks of a failed
        write for good, and its metadata on disk may be half-written. It stays open (to read its
        good rows from) until the rescue file can be made."""
        if self.rescue_file is not None:
            raise error  # the rescue file failed too: nothing safe is left to write to
        assert self._file is not None
        self._failed = (self._file, self._datasets)
        self._file, self._datasets = None, {}
        self.rescue_file = rescue_path(self.path)
        log.error(
            "%s: a write failed (%s); the recording continues in %s",
            self.path.name,
            error,
            self.rescue_file.name,
        )

    def _open_rescue(self) -> bool:
        """Make the rescue file (`recordings.rescue.open_rescue_file`), then close the failed
        file. Returns False (and tries again a second later) when that cannot be done yet."""
        assert self.rescue_file is not None and self._failed is not None
        if time.monotonic() < self._rescue_after:
            return False
        try:
            f, datasets = open_rescue_file(
                self.rescue_file,
                self.metadata,
                self._sensors,
                self._failed[1],
                self._written,
                self._settings_writes,
            )
        except (OSError, RuntimeError) as error:
            log.warning("%s: cannot make the rescue file yet (%s); holding the data", self.path.name, error)
            self._rescue_after = time.monotonic() + 1.0
            return False
        failed, self._failed = self._failed, None  # (never closed twice, however it goes)
        self._file, self._datasets = f, datasets
        detach_and_close(*failed)
        return True

    def _gather(self, pending: PendingRows, message: WriterMessage) -> None:
        """Turn one message into the rows (or settings write) waiting for the next flush."""
        match message:
            case RawSamples(block, session_time_s):
                self._gather_samples(pending, block, session_time_s)
            case FrameRows(time_s, valid, angles):
                for path, rows in frame_rows(self._processing, time_s, valid, angles):
                    pending.add(path, rows)
            case EventRow(event):
                for path, rows in event_rows(event):
                    pending.add(path, rows)
            case HostOrigin(origin):
                self._later(pending, origin_write(origin))
            case CalibrationResult(calibration):
                self._later(pending, calibration_write(self.placements, calibration))

    def _later(self, pending: PendingRows, write: Write) -> None:
        """A settings write: done with the next rows, and again in a rescue file."""
        pending.set_later(write)
        self._settings_writes.append(write)

    def _gather_samples(self, pending: PendingRows, block: SampleBlock, session_time_s: np.ndarray) -> None:
        block, session_time = self._in_order(block, session_time_s)
        if len(block) == 0:
            return
        previous = self._last_sequence.get(block.placement)
        self._last_sequence[block.placement] = int(block.sequence[-1])
        index = self.placements.index(block.placement)
        for path, rows in sample_rows(index, block, session_time, previous):
            pending.add(path, rows)

    def _in_order(self, block: SampleBlock, session_time: np.ndarray) -> tuple[SampleBlock, np.ndarray]:
        """The rows of a block whose sequence numbers come after every one written for its sensor
        (a reader refuses a file whose sequence steps back). Sources deliver them in order (the
        BLE link's gate sees to it); anything else is dropped here, counted and logged."""
        previous = self._last_sequence.get(block.placement)
        first = first_new_row(block.sequence, previous)
        if first == 0:
            return block, session_time
        self.out_of_order_samples += first
        self._dropped[block.placement] += first
        log.warning(
            "%s: %d %s samples not after sequence %d were not written (%d so far)",
            self.path.name,
            first,
            block.placement.value,
            previous,
            self.out_of_order_samples,
        )
        return block.rows(first, len(block)), session_time[first:]
