"""Write one session to HDF5 on a thread of its own, crash-safely.

Every dataset is created up front (chunked, checksummed, resizable), then the file
switches to SWMR mode so readers can open it while it grows. Data arrive through a queue; the
writer thread gathers rows in memory and appends them to the file every `flush_interval_s`
(one write per dataset per interval: small appends would rewrite compressed chunks and bloat
the file), then flushes. A crash loses at most that interval; acquisition never waits on disk.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from recordings import schema
from recordings.errors import RecordingError
from sensors.events import Event
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.pipeline import AngleBlock
from sensors.samples import Frame, SampleBlock

log = logging.getLogger(__name__)

_CHUNK_ROWS = 1024
# Checksummed but not compressed: with a flush every half second, compressed chunks are rewritten
# and reallocated at each flush, which made files 5-10x larger than their data (measured; see
# SCHEMA.md), while IMU float data hardly compress at all.
_FILTERS = {"fletcher32": True}


@dataclass(frozen=True)
class SessionMetadata:
    """Root attributes of a session file. subject_id must be a pseudonym, never a name."""

    subject_id: str
    drill: str
    rate_hz: float
    operator_notes: str = ""
    protocol: Mapping[str, Any] = field(default_factory=dict)
    created_utc: datetime = field(default_factory=lambda: datetime.now(UTC))


def _create(
    group: h5py.Group,
    name: str,
    row_shape: tuple[int, ...],
    dtype: Any,
    unit: str,
    chunk_rows: int = _CHUNK_ROWS,
) -> None:
    dataset = group.create_dataset(
        name,
        shape=(0, *row_shape),
        maxshape=(None, *row_shape),
        chunks=(chunk_rows, *row_shape),
        dtype=dtype,
        **_FILTERS,
    )
    dataset.attrs["unit"] = unit


def _append(dataset: h5py.Dataset, rows: np.ndarray) -> None:
    n = len(rows)
    if n == 0:
        return
    start = dataset.shape[0]
    dataset.resize(start + n, axis=0)
    dataset[start:] = rows


class _PendingRows:
    """Rows waiting to be appended, per dataset path."""

    def __init__(self) -> None:
        self._rows: dict[str, list[np.ndarray]] = {}

    def add(self, path: str, rows: np.ndarray) -> None:
        self._rows.setdefault(path, []).append(rows)

    def write_to(self, f: h5py.File) -> None:
        for path, parts in self._rows.items():
            _append(f[path], np.concatenate(parts))
        self._rows.clear()


class RecordingWriter:
    """Owns one HDF5 session file. Call the `append_*`/`add_*` methods from any thread; `close()`
    drains the queue and closes the file."""

    def __init__(
        self,
        path: Path,
        metadata: SessionMetadata,
        sensors: Mapping[Placement, SensorIdentity],
        flush_interval_s: float = 0.5,
    ) -> None:
        schema.check_subject_id(metadata.subject_id)
        self.path = Path(path)
        self.placements = tuple(sensors)
        self.flush_interval_s = flush_interval_s
        self._queue: queue.Queue[tuple[str, tuple[Any, ...]] | None] = queue.Queue()
        self._error: BaseException | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = h5py.File(self.path, "w-", libver="latest")
        except (OSError, FileExistsError) as error:
            raise RecordingError(self.path, f"cannot create the recording: {error}") from None
        self._layout(metadata, sensors)
        self._file.swmr_mode = True
        self._thread = threading.Thread(target=self._run, name=f"hdf5-writer {self.path.name}", daemon=True)
        self._thread.start()

    def _layout(self, metadata: SessionMetadata, sensors: Mapping[Placement, SensorIdentity]) -> None:
        f = self._file
        f.attrs.update(
            {
                "schema_version": schema.SCHEMA_VERSION,
                "app_version": schema.app_version(),
                "created_utc": metadata.created_utc.isoformat(),
                "subject_id": metadata.subject_id,
                "drill": metadata.drill,
                "rate_hz": metadata.rate_hz,
                "operator_notes": metadata.operator_notes,
                "protocol_json": json.dumps(dict(metadata.protocol), sort_keys=True),
                "placements": [p.value for p in self.placements],
            }
        )
        acquisition = f.create_group(schema.ACQUISITION)
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
                _create(group, name, row_shape, dtype, unit)
        events = f.create_group(schema.EVENTS)
        text = h5py.string_dtype("utf-8", schema.EVENT_TEXT_BYTES)
        for name, (dtype, unit) in schema.EVENT_DATASETS.items():
            _create(events, name, (), text if dtype == "text" else dtype, unit, chunk_rows=32)
        p = len(self.placements)
        calibration = f.create_group(schema.CALIBRATION)
        calibration.create_dataset("mount_q", data=np.full((p, 4), np.nan))
        calibration.create_dataset("time_s", data=np.full(1, np.nan))
        calibration.attrs["method"] = "neutral upright stance (sensors.processing.calibration)"
        processing = f.create_group(schema.PROCESSING)
        processing.attrs["algorithm"] = "sensors.processing.pipeline.SegmentAnglePipeline"
        processing.attrs["algorithm_version"] = schema.app_version()
        for name, row_shape, dtype, unit in (
            ("time_s", (), "f8", "s"),
            ("valid", (p,), "bool", "1"),
            ("orientation", (p, 4), "f8", "1"),
            ("inclination_rad", (p, 2), "f8", "rad"),
            ("axial_rad", (p,), "f8", "rad"),
            ("angular_velocity_rad_s", (p, 3), "f8", "rad/s"),
            ("lumbar_rad", (3,), "f8", "rad"),
        ):
            _create(processing, name, row_shape, dtype, unit)

    # Producer side -----------------------------------------------------------------------

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
        """Write everything queued, close the file and return its path."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise RecordingError(self.path, f"writing failed: {self._error}")
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
                    pending.write_to(self._file)
                    self._file.flush()
                    last_flush = time.monotonic()
            pending.write_to(self._file)
        except BaseException as error:  # keep the file closeable and report on the next call
            log.exception("HDF5 writer for %s failed", self.path)
            self._error = error
        finally:
            self._file.flush()
            self._file.close()

    def _gather(self, pending: _PendingRows, kind: str, payload: tuple[Any, ...]) -> None:
        f = self._file
        if kind == "samples":
            block, session_time = payload
            group = f"{schema.ACQUISITION}/{block.placement.value}"
            for name, values in (
                ("device_time_s", block.device_time_s),
                ("acc_m_s2", block.acc_m_s2),
                ("gyr_rad_s", block.gyr_rad_s),
                ("sequence", block.sequence),
                ("host_receive_ns", block.host_receive_ns),
                ("session_time_s", session_time),
            ):
                pending.add(f"{group}/{name}", values)
        elif kind == "frame":
            time_s, valid, angles = payload
            for name, values in (
                ("time_s", time_s),
                ("valid", valid),
                ("orientation", angles.orientation),
                ("inclination_rad", angles.inclination_rad),
                ("axial_rad", angles.axial_rad),
                ("angular_velocity_rad_s", angles.angular_velocity_rad_s),
                ("lumbar_rad", angles.lumbar_rad),
            ):
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
        elif kind == "calibration":
            (calibration,) = payload
            group = f[schema.CALIBRATION]
            group["mount_q"][...] = np.stack([calibration.mount_q[p] for p in self.placements])
            group["time_s"][0] = calibration.time_s


def _clip_text(text: str) -> str:
    """Text that fits the fixed-size UTF-8 event fields without splitting a character."""
    encoded = text.encode("utf-8")[: schema.EVENT_TEXT_BYTES]
    return encoded.decode("utf-8", errors="ignore")
