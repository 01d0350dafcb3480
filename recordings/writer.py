"""Write one session to HDF5 on a thread of its own, crash-safely.

Every dataset is created up front (chunked, checksummed, resizable), then the file switches to
SWMR mode so readers can open it while it grows. Data arrive through a queue; the writer thread
gathers rows in memory and, every `flush_interval_s`, appends the *whole chunks* it has to the
file and flushes. Bulk datasets are gzip-compressed; because only whole chunks are written while
the session runs, no compressed chunk is ever rewritten (rewriting one reallocates it and bloated
live files 10x). A chunk holds `CHUNK_S` of data, so a crash loses at most CHUNK_S plus the flush
interval (0.75 s); the partial last chunks are written on close. Acquisition never waits on disk.

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

import json
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from recordings import schema
from recordings.conditions import Condition, condition_from_protocol
from recordings.errors import RecordingError
from recordings.settings_codec import session_settings_to_json
from sensors.events import Event
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import SessionSettings
from sensors.samples import Frame, SampleBlock

log = logging.getLogger(__name__)

#: Seconds of data per chunk of a bulk dataset (bounds what a crash can lose, with the flush).
CHUNK_S = 0.5
_MIN_CHUNK_ROWS = 16
_COMPRESSED = {"compression": "gzip", "compression_opts": 4, "shuffle": True, "fletcher32": True}
_UNCOMPRESSED = {"fletcher32": True}


@dataclass(frozen=True)
class SessionMetadata:
    """Root attributes of a session file. subject_id must be a pseudonym, never a name; settings
    are the runner settings that produce /processing (stored so a replay runs the same way)."""

    subject_id: str
    drill: str
    settings: SessionSettings = field(default_factory=SessionSettings)
    operator_notes: str = ""
    protocol: Mapping[str, Any] = field(default_factory=dict)
    created_utc: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: Also store the derived angles under /processing (see `schema.ANGLES_STORED`); the frame
    #: times and gap flags are always stored.
    store_angles: bool = False
    #: None: derived from the drill and the protocol settings (task "unknown" if they do not say).
    condition: Condition | None = None
    #: The whole session specification as JSON (`engine.spec.SessionSpec.to_json`), stored as
    #: the root attribute `session_spec_json`; "" (imports, tests) leaves it out.
    spec_json: str = ""

    @property
    def session_condition(self) -> Condition:
        return self.condition or condition_from_protocol(self.drill, self.protocol)

    @property
    def rate_hz(self) -> float:
        return self.settings.rate_hz


#: Every dataset of an open session file by path ("acquisition/lumbar/acc_m_s2"), opened once:
#: writes never open or close dataset objects (after a failed write, closing one fails in HDF5).
Datasets = dict[str, h5py.Dataset]
_Write = Callable[[Datasets], None]


def _open_new(path: Path, mode: str) -> h5py.File:
    """A session file to write. No chunk cache: only whole chunks are written while the session
    runs, so it saves nothing, and with the datasets held open for the file's life each one's
    cache (1 MB by default) grew the writer by about 6 MB a minute with four sensors."""
    return h5py.File(path, mode, libver=schema.FILE_FORMAT, rdcc_nbytes=0)


def _datasets(f: h5py.File) -> Datasets:
    """Open every dataset of the file once."""
    found: Datasets = {}

    def take(name: str, item: h5py.HLObject) -> None:  # returning anything else stops the visit
        if isinstance(item, h5py.Dataset):
            found[name] = item

    f.visititems(take)
    return found


def _create(
    group: h5py.Group,
    name: str,
    row_shape: tuple[int, ...],
    dtype: Any,
    unit: str,
    chunk_rows: int,
    compressed: bool = True,
) -> None:
    """A resizable dataset; compressed ones are written in whole chunks, others at every flush."""
    filters = _COMPRESSED if compressed else _UNCOMPRESSED
    dataset = group.create_dataset(
        name,
        shape=(0, *row_shape),
        maxshape=(None, *row_shape),
        chunks=(chunk_rows, *row_shape),
        dtype=dtype,
        **filters,
    )
    dataset.attrs["unit"] = unit


def _append(dataset: h5py.Dataset, rows: np.ndarray) -> None:
    n = len(rows)
    if n == 0:
        return
    start = dataset.shape[0]
    dataset.resize(start + n, axis=0)
    dataset[start:] = rows


#: Free disk space (bytes) below which the writer holds data in memory instead of writing.
MIN_FREE_BYTES = 64 * 2**20
#: How long closing waits for disk space before it writes anyway, s.
CLOSE_WAIT_S = 30.0
#: Rows copied at a time into a rescue file (bounds the memory the copy takes).
RESCUE_COPY_ROWS = 2**15


def free_bytes(folder: Path) -> int:
    """Free space on the disk holding `folder`, bytes."""
    return shutil.disk_usage(folder).free


def _detach_and_close(f: h5py.File, datasets: Datasets) -> None:
    """Close a file a write failed on without writing to its disk file again. HDF5 retries the
    failed writes whenever one of the file's objects is closed, and an object whose close failed
    stays registered, crashing the process when HDF5 shuts down at exit. So the descriptor is
    pointed at a scratch file in memory first, where every write succeeds, then the datasets and
    the file are closed: on disk it stays as it was at the failure."""
    scratch = os.memfd_create("stabmon-detached") if hasattr(os, "memfd_create") else _scratch_file()
    try:
        os.dup2(scratch, f.id.get_vfd_handle())
    finally:
        os.close(scratch)
    for dataset in datasets.values():
        dataset.id.close()
    datasets.clear()
    f.close()


def _scratch_file() -> int:
    """A descriptor on an unnamed temporary file (where memfd_create is missing)."""
    with tempfile.TemporaryFile() as handle:
        return os.dup(handle.fileno())


def rescue_path(path: Path) -> Path:
    """Where a recording is written again after a write to it failed: `<stem>.rescue.h5`."""
    return path.with_name(f"{path.stem}{schema.RESCUE_SUFFIX}")


class _PendingRows:
    """Rows waiting to be appended, per dataset path. Compressed datasets take whole chunks only
    until the final write, so each compressed chunk is written exactly once. `snapshot()` before a
    write and `restore()` after a failed one put back everything that write took."""

    def __init__(self) -> None:
        self._rows: dict[str, list[np.ndarray]] = {}
        self._direct: list[_Write] = []

    def snapshot(self) -> tuple[dict[str, list[np.ndarray]], list[_Write]]:
        return {path: list(parts) for path, parts in self._rows.items()}, list(self._direct)

    def restore(self, snapshot: tuple[dict[str, list[np.ndarray]], list[_Write]]) -> None:
        """Back to the snapshot, keeping whatever was added since (nothing is added during a write)."""
        self._rows, self._direct = snapshot

    def set_later(self, write: _Write) -> None:
        """A small in-place write (calibration, clock origin), done with the next rows."""
        self._direct.append(write)

    def add(self, path: str, rows: np.ndarray) -> None:
        self._rows.setdefault(path, []).append(rows)

    def write_to(self, datasets: Datasets, final: bool = False) -> dict[str, int]:
        """Append what is ready; returns the rows appended per dataset path."""
        for write in self._direct:
            write(datasets)
        self._direct = []
        written: dict[str, int] = {}
        for path, parts in self._rows.items():
            if not parts:
                continue
            rows = np.concatenate(parts) if len(parts) > 1 else parts[0]
            dataset = datasets[path]
            n = len(rows)
            if dataset.compression is not None and not final:
                n -= n % dataset.chunks[0]
            _append(dataset, rows[:n])
            self._rows[path] = [rows[n:]] if n < len(rows) else []
            written[path] = n
        return written


def _layout(f: h5py.File, metadata: SessionMetadata, sensors: Mapping[Placement, SensorIdentity]) -> None:
    """Every group and dataset of a session file, empty, with the root attributes."""
    placements = tuple(sensors)
    f.attrs.update(
        {
            "schema_version": schema.SCHEMA_VERSION,
            "app_version": schema.app_version(),
            "created_utc": metadata.created_utc.isoformat(),
            "subject_id": metadata.subject_id,
            "drill": metadata.drill,
            "rate_hz": metadata.settings.rate_hz,
            "operator_notes": metadata.operator_notes,
            "protocol_json": json.dumps(dict(metadata.protocol), sort_keys=True),
            "condition": metadata.session_condition.to_attribute(),
            "placements": [p.value for p in placements],
        }
    )
    if metadata.spec_json:
        f.attrs["session_spec_json"] = metadata.spec_json
    rows = max(_MIN_CHUNK_ROWS, round(metadata.settings.rate_hz * CHUNK_S))
    acquisition = f.create_group(schema.ACQUISITION)
    arrival = acquisition.create_group(schema.ARRIVAL)
    for name, (dtype, unit) in schema.ARRIVAL_DATASETS.items():
        # Uncompressed, so it is written up to date at every flush and covers the samples.
        _create(arrival, name, (), dtype, unit, chunk_rows=256, compressed=False)
    arrival.create_dataset("host_origin_ns", data=np.full(1, -1, dtype=np.int64))
    for placement, identity in sensors.items():
        group = acquisition.create_group(placement.value)
        group.attrs.update(
            {
                "family": identity.family.value,
                "address": identity.address,
                "serial": identity.serial,
                "firmware": identity.firmware,
                "model": identity.model,
                "anatomical_site": placement.anatomical_site,
            }
        )
        for name, (row_shape, dtype, unit) in schema.RAW_DATASETS.items():
            _create(group, name, row_shape, dtype, unit, chunk_rows=rows)
    events = f.create_group(schema.EVENTS)
    text = h5py.string_dtype("utf-8", schema.EVENT_TEXT_BYTES)
    for name, (dtype, unit) in schema.EVENT_DATASETS.items():
        _create(events, name, (), text if dtype == "text" else dtype, unit, 32, compressed=False)
    p = len(placements)
    calibration = f.create_group(schema.CALIBRATION)
    calibration.create_dataset("mount_q", data=np.full((p, 4), np.nan))
    calibration.create_dataset("time_s", data=np.full(1, np.nan))
    calibration.attrs["method"] = "neutral upright stance (sensors.processing.calibration)"
    processing = f.create_group(schema.PROCESSING)
    processing.attrs["algorithm"] = "sensors.processing.pipeline.SegmentAnglePipeline"
    processing.attrs["algorithm_version"] = schema.app_version()
    processing.attrs["settings_json"] = session_settings_to_json(metadata.settings)
    processing.attrs[schema.ANGLES_STORED] = metadata.store_angles
    for name in _processing_written(metadata):
        row_shape, dtype, unit = schema.processing_datasets(p)[name]
        _create(processing, name, row_shape, dtype, unit, chunk_rows=rows)


def _processing_written(metadata: SessionMetadata) -> tuple[str, ...]:
    """The /processing datasets a session file holds."""
    every = tuple(schema.processing_datasets(1))
    return every if metadata.store_angles else schema.FRAME_DATASETS


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
        self._free_space = free_space
        #: True while the disk is too full to write: data is held in memory until there is room.
        self.disk_space_low = False
        #: How many times the writer had to hold data back for lack of space.
        self.held_back_episodes = 0
        #: Set when a write failed: the file the whole recording is written to instead, which
        #: takes the recording's name on close.
        self.rescue_file: Path | None = None
        self._failed: tuple[h5py.File, Datasets] | None = None  # the file a write failed on
        self._rescue_after = 0.0  # monotonic time of the next attempt at the rescue file
        self.path = Path(path)
        self.metadata = metadata
        self.placements = tuple(sensors)
        self.flush_interval_s = flush_interval_s
        self._queue: queue.Queue[tuple[str, tuple[Any, ...]] | None] = queue.Queue()
        self._error: BaseException | None = None
        self._sensors = dict(sensors)
        self._last_sequence: dict[Placement, int] = {}
        #: Samples not written because their sequence did not come after the last one written.
        self.out_of_order_samples = 0
        self._settings_writes: list[_Write] = []  # origin, calibration
        self._written: dict[str, int] = {}  # rows per dataset path safely in the file
        self._processing = _processing_written(metadata)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file: h5py.File | None = _open_new(self.path, "w-")
        except (OSError, FileExistsError) as error:
            raise RecordingError(self.path, f"cannot create the recording: {error}") from None
        _layout(self._file, metadata, sensors)
        self._file.swmr_mode = True
        self._datasets = _datasets(self._file)
        self._thread = threading.Thread(target=self._run, name=f"hdf5-writer {self.path.name}", daemon=True)
        self._thread.start()

    # Producer side -----------------------------------------------------------------------

    def set_host_origin(self, host_origin_ns: int) -> None:
        """Record the host monotonic time (ns) that session time 0 corresponds to."""
        self._put("origin", (int(host_origin_ns),))

    def append_samples(self, block: SampleBlock, session_time_s: np.ndarray) -> None:
        """Queue a raw block with its session times (n,) s."""
        self._put("samples", (block, np.asarray(session_time_s)))

    def append_frame(self, frame: Frame, angles: AngleBlock) -> None:
        """Queue a synchronised frame's gap flags and the angles computed from it."""
        self._put("frame", (frame.time_s, frame.valid, angles))

    def add_event(self, event: Event) -> None:
        self._put("event", (event,))

    def set_calibration(self, calibration: SegmentCalibration) -> None:
        self._put("calibration", (calibration,))

    def _put(self, kind: str, payload: tuple[Any, ...]) -> None:
        if self._error is not None:
            raise RecordingError(self.path, f"the writer stopped: {self._error}")
        self._queue.put((kind, payload))

    def close(self) -> Path:
        """Write everything queued, close the file and return its path. After a failed write the
        complete rescue file takes the recording's name and the failed file is kept beside it as
        `<name>.damaged`."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise RecordingError(self.path, f"writing failed: {self._error}")
        if self.rescue_file is not None:
            os.replace(self.path, self.path.with_name(self.path.name + ".damaged"))
            os.replace(self.rescue_file, self.path)
            log.warning("%s: written whole from its rescue file after a failed write", self.path.name)
        return self.path

    # Writer thread -----------------------------------------------------------------------

    def _run(self) -> None:
        pending = _PendingRows()
        last_flush = time.monotonic()
        try:
            while True:
                wait = max(self.flush_interval_s - (time.monotonic() - last_flush), 0.0)
                try:
                    item = self._queue.get(timeout=wait)
                except queue.Empty:
                    item = ("idle", ())
                if item is None:
                    break
                self._gather(pending, *item)
                if time.monotonic() - last_flush >= self.flush_interval_s:
                    if self._room_to_write():
                        self._write(pending)
                    last_flush = time.monotonic()
            self._wait_for_room(CLOSE_WAIT_S)
            self._rescue_after = 0.0  # last chance: no waiting between attempts
            if not (self._write(pending, final=True) or self._write(pending, final=True)):
                raise OSError("there was no room on the disk for the rescue file")
        except BaseException as error:  # keep the file closeable and report on the next call
            log.exception("HDF5 writer for %s failed", self.path)
            self._error = error
        finally:
            if self._failed is not None:  # no room for the rescue file came in time
                _detach_and_close(*self._failed)
            if self._file is not None:
                self._file.flush()
                self._datasets.clear()
                self._file.close()

    def _write(self, pending: _PendingRows, final: bool = False) -> bool:
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
        """Make the rescue file: the same layout, with the rows the failed file wrote safely (read
        back through its still-open handle, which knows where they are even if the metadata on
        disk is half-written), the clock origin and calibration; then close the failed file.
        Returns False (and tries again a second later) when that cannot be done yet."""
        assert self.rescue_file is not None and self._failed is not None
        if time.monotonic() < self._rescue_after:
            return False
        f, datasets = None, {}
        try:
            f = _open_new(self.rescue_file, "w")
            _layout(f, self.metadata, self._sensors)
            datasets = _datasets(f)
            failed = self._failed[1]
            for path, rows in self._written.items():
                for start in range(0, rows, RESCUE_COPY_ROWS):  # in slices: an hour is hundreds of MB
                    _append(datasets[path], failed[path][start : min(start + RESCUE_COPY_ROWS, rows)])
            for write in self._settings_writes:
                write(datasets)
            f.flush()
            f.swmr_mode = True
        except (OSError, RuntimeError) as error:
            log.warning("%s: cannot make the rescue file yet (%s); holding the data", self.path.name, error)
            if f is not None:
                _detach_and_close(f, datasets)
            self.rescue_file.unlink(missing_ok=True)  # a partial copy; the data is still held
            self._rescue_after = time.monotonic() + 1.0
            return False
        _detach_and_close(*self._failed)
        self._failed = None
        self._file, self._datasets = f, datasets
        return True

    def _gather(self, pending: _PendingRows, kind: str, payload: tuple[Any, ...]) -> None:
        if kind == "samples":
            block, session_time = self._in_order(*payload)
            if len(block) == 0:
                return
            group = f"{schema.ACQUISITION}/{block.placement.value}"
            arrival = f"{schema.ACQUISITION}/{schema.ARRIVAL}"
            pending.add(
                f"{arrival}/placement_index", np.array([self.placements.index(block.placement)], "u1")
            )
            pending.add(f"{arrival}/rows", np.array([len(block)], "i4"))
            for name, values in (
                ("device_time_s", block.device_time_s),
                ("acc_m_s2", block.acc_m_s2),
                ("gyr_rad_s", block.gyr_rad_s),
                ("sequence", block.sequence),
                ("host_receive_ns", block.host_receive_ns),
                ("session_time_s", session_time),
                ("lost_before", self._lost_before(block)),
            ):
                pending.add(f"{group}/{name}", values)
        elif kind == "frame":
            time_s, valid, angles = payload
            frame_values = {"time_s": time_s, "valid": valid}
            for name in self._processing:
                values = frame_values[name] if name in frame_values else getattr(angles, name)
                pending.add(f"{schema.PROCESSING}/{name}", values)
        elif kind == "event":
            (event,) = payload
            for name, values in (
                ("time_s", np.array([event.time_s])),
                ("kind", np.array([event.kind.value], dtype=object)),
                ("label", np.array([_clip_text(event.label)], dtype=object)),
                ("value", np.array([event.value])),
                ("source", np.array([_clip_text(event.source)], dtype=object)),
            ):
                pending.add(f"{schema.EVENTS}/{name}", values)
        elif kind == "origin":
            origin = payload[0]

            def write_origin(datasets: Datasets) -> None:
                datasets[f"{schema.ACQUISITION}/{schema.ARRIVAL}/host_origin_ns"][0] = origin

            pending.set_later(write_origin)
            self._settings_writes.append(write_origin)
        elif kind == "calibration":
            (calibration,) = payload
            mount_q = np.stack([calibration.mount_q[p] for p in self.placements])

            def write_calibration(datasets: Datasets) -> None:
                datasets[f"{schema.CALIBRATION}/mount_q"][...] = mount_q
                datasets[f"{schema.CALIBRATION}/time_s"][0] = calibration.time_s

            pending.set_later(write_calibration)
            self._settings_writes.append(write_calibration)

    def _room_to_write(self) -> bool:
        """Whether the disk has room for the next flush. HDF5 does not survive a write that
        fails for lack of space (the chunks written then are lost for good, even once space is
        back), so below `min_free_bytes` the writer keeps everything in memory instead."""
        try:
            room = self._free_space(self.path.parent) >= self.min_free_bytes
        except OSError:
            room = True  # cannot tell: write, as before
        if not room and not self.disk_space_low:
            self.held_back_episodes += 1
            log.warning(
                "%s: less than %d MB free on the disk; holding the recording in memory until there is room",
                self.path.name,
                self.min_free_bytes // 2**20,
            )
        elif room and self.disk_space_low:
            log.warning("%s: disk space is back; writing what was held in memory", self.path.name)
        self.disk_space_low = not room
        return room

    def _wait_for_room(self, timeout_s: float) -> None:
        """Before the final write: wait (up to timeout_s) for the disk to have room."""
        deadline = time.monotonic() + timeout_s
        while not self._room_to_write() and time.monotonic() < deadline:
            time.sleep(0.5)

    def _in_order(self, block: SampleBlock, session_time: np.ndarray) -> tuple[SampleBlock, np.ndarray]:
        """The rows of a block whose sequence numbers come after every one written for its sensor
        (a reader refuses a file whose sequence steps back). Sources deliver them in order (the
        BLE link's gate sees to it); anything else is dropped here, counted and logged."""
        previous = self._last_sequence.get(block.placement)
        if previous is None or int(block.sequence[0]) > previous:
            return block, session_time
        keep = np.flatnonzero(block.sequence > previous)
        dropped = len(block) - len(keep)
        self.out_of_order_samples += dropped
        log.warning(
            "%s: %d %s samples not after sequence %d were not written (%d so far)",
            self.path.name,
            dropped,
            block.placement.value,
            previous,
            self.out_of_order_samples,
        )
        if len(keep) == 0:
            return block.rows(0, 0), session_time[:0]
        return block.rows(int(keep[0]), len(block)), session_time[int(keep[0]) :]

    def _lost_before(self, block: SampleBlock) -> np.ndarray:
        """Samples lost just before each sample of the block (n,), from sequence jumps."""
        previous = self._last_sequence.get(block.placement)
        self._last_sequence[block.placement] = int(block.sequence[-1])
        return schema.lost_before(block.sequence, previous)


def _clip_text(text: str) -> str:
    """Text that fits the fixed-size UTF-8 event fields without splitting a character."""
    encoded = text.encode("utf-8")[: schema.EVENT_TEXT_BYTES]
    return encoded.decode("utf-8", errors="ignore")
