"""Open and validate a session file, and load it into memory as typed arrays."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from recordings import migration, schema
from recordings.conditions import Condition, recording_condition
from recordings.consistency import common_length, complete_arrival_entries
from recordings.errors import ForeignFileError, NewerSchemaError, NotARecordingError, RecordingNotFoundError
from recordings.settings_codec import session_settings_from_json
from sensors.events import Event, EventKind
from sensors.identity import SensorFamily, SensorIdentity
from sensors.placements import Placement
from sensors.processing.session import SessionSettings
from sensors.samples import SampleBlock


@dataclass(frozen=True)
class ProcessedAngles:
    """/processing: time_s (n,), valid (n, p), orientation (n, p, 4), inclination_rad (n, p, 2),
    axial_rad (n, p), angular_velocity_rad_s (n, p, 3), lumbar_rad (n, 3)."""

    time_s: np.ndarray
    valid: np.ndarray
    orientation: np.ndarray
    inclination_rad: np.ndarray
    axial_rad: np.ndarray
    angular_velocity_rad_s: np.ndarray
    lumbar_rad: np.ndarray


@dataclass(frozen=True)
class ArrivalLog:
    """Blocks in the order the live runner received them: placement_index (k,) into the
    recording's placements, rows (k,) samples per block; host_origin_ns is session time 0."""

    placement_index: np.ndarray
    rows: np.ndarray
    host_origin_ns: int


@dataclass(frozen=True)
class Recording:
    """A whole session file in memory. `migrated_from` names the schema version the file was
    written in when it was older than this reader's (its missing parts were rebuilt in memory).
    frame_time_s (m,) is the frame grid of /processing; stored_processing the angles as stored,
    None when the file does not hold them (the default since schema 0.3.0: `processing` then
    replays the raw data, once, on first use)."""

    path: Path
    attributes: dict[str, Any]
    sensors: dict[Placement, SensorIdentity]
    samples: dict[Placement, SampleBlock]
    session_time_s: dict[Placement, np.ndarray]
    lost_before: dict[Placement, np.ndarray]
    events: tuple[Event, ...]
    calibration_mount_q: dict[Placement, np.ndarray]
    calibration_time_s: float
    frame_time_s: np.ndarray
    stored_processing: ProcessedAngles | None
    arrival: ArrivalLog
    settings: SessionSettings
    migrated_from: str | None = None

    @property
    def placements(self) -> tuple[Placement, ...]:
        return tuple(Placement(p) for p in self.attributes["placements"])

    @property
    def protocol(self) -> dict[str, Any]:
        return json.loads(self.attributes.get("protocol_json", "{}"))

    @property
    def condition(self) -> Condition:
        """Drill condition (task, vision, surface, side); derived for files older than 0.3."""
        try:
            return recording_condition(self.drill, self.attributes, self.protocol)
        except ValueError as error:  # a bad attribute, or bad protocol JSON
            raise NotARecordingError(self.path, f"unreadable drill condition: {error}") from None

    @property
    def subject_id(self) -> str:
        return str(self.attributes["subject_id"])

    @property
    def drill(self) -> str:
        return str(self.attributes["drill"])

    @property
    def duration_s(self) -> float:
        """Session time covered by the synchronised frames, s (0 when there are none)."""
        t = self.frame_time_s
        return float(t[-1] - t[0] + 1.0 / self.settings.rate_hz) if len(t) else 0.0

    @cached_property
    def processing(self) -> ProcessedAngles:
        """/processing: as stored, or recomputed by a replay (bit for bit what the live session
        computed) when the file holds only the frame grid."""
        if self.stored_processing is not None:
            return self.stored_processing
        from recordings.derived import replayed_processing  # it imports this module

        return replayed_processing(self)


def open_recording_file(path: Path) -> h5py.File:
    """Open for reading. A plain open checks the file's stored length, so truncation fails fast
    (an SWMR reader would retry unreadable metadata for a long time instead); a file whose
    writer has it open, or left it open in a crash, is then opened as an SWMR reader."""
    if not path.exists():
        raise RecordingNotFoundError(path, "no such file")
    if not h5py.is_hdf5(path):
        raise NotARecordingError(path, "not an HDF5 file (wrong file, or truncated before its header)")
    try:
        return h5py.File(path, "r")
    except OSError as error:
        if "truncated" in str(error):
            raise NotARecordingError(
                path, "HDF5 file is truncated (cut short while copying or saving)"
            ) from None
        try:
            return h5py.File(path, "r", swmr=True)
        except OSError:
            raise NotARecordingError(path, f"HDF5 file is damaged ({error})") from None


def check_schema(path: Path, attributes: dict[str, Any]) -> None:
    """Raise a specific error if these root attributes are not a readable stabmon recording."""
    version = attributes.get("schema_version")
    if version is None:
        raise ForeignFileError(path, "HDF5 file without a stabmon schema_version: written by another program")
    try:
        major = schema.schema_major(schema.decode_text(version))
    except ValueError:
        raise ForeignFileError(path, f"schema_version {version!r} is not a version number") from None
    if major > schema.schema_major(schema.SCHEMA_VERSION):
        raise NewerSchemaError(
            path,
            f"schema {version} is newer than this stabmon reads ({schema.SCHEMA_VERSION}); update stabmon",
        )


def read_recording(path: Path | str, derived: bool = True, raw: bool = True) -> Recording:
    """Load and validate the recording at `path`; raises a `RecordingError` subclass on bad files.
    derived=False leaves out the stored /processing angles, if the file has them (a replay
    computes them again): only the frame times are read.
    raw=False leaves out the raw samples of a current-schema file (`samples`, `session_time_s`
    and `lost_before` are then empty; the arrival log is still checked against the file), for a
    reader that takes them from the file a window at a time."""
    path = Path(path)
    with open_recording_file(path) as f:
        attributes = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in f.attrs.items()}
        attributes = {
            k: ([schema.decode_text(x) for x in v] if isinstance(v, list) else v)
            for k, v in attributes.items()
        }
        check_schema(path, attributes)
        try:
            return _load(path, f, attributes, derived, raw)
        except (KeyError, OSError, ValueError) as error:
            raise NotARecordingError(path, f"recording is incomplete or damaged: {error}") from None


def _rows(dataset: h5py.Dataset, n: int | None = None, step: int = 100_000) -> np.ndarray:
    """The first n rows (all: None) of a dataset, read in requests of `step` rows: HDF5 keeps
    ~8 KB for every chunk one request touches, so a long column read at once costs hundreds of
    MB that are never given back."""
    n = len(dataset) if n is None else n
    parts = [dataset[a : min(a + step, n)] for a in range(0, n, step)]
    return np.concatenate(parts) if parts else dataset[:0]


def _load(
    path: Path, f: h5py.File, attributes: dict[str, Any], derived: bool = True, raw: bool = True
) -> Recording:
    placements = tuple(Placement(p) for p in attributes["placements"])
    version = schema.decode_text(attributes["schema_version"])
    current = schema.parse_version(version) >= schema.parse_version("0.2.0")
    sensors, samples, session_time, lost, lengths = {}, {}, {}, {}, {}
    raw = raw or not current  # an older file's arrival log is rebuilt from its samples
    for placement in placements:
        group = f[schema.ACQUISITION][placement.value]
        a = group.attrs
        sensors[placement] = SensorIdentity(
            SensorFamily(schema.decode_text(a["family"])),
            schema.decode_text(a["address"]),
            schema.decode_text(a["serial"]),
            schema.decode_text(a["firmware"]),
            schema.decode_text(a["model"]),
        )
        lengths[placement] = common_length(group)
        n = lengths[placement] if raw else 0
        samples[placement] = SampleBlock(
            placement=placement,
            device_time_s=group["device_time_s"][:n],
            acc_m_s2=group["acc_m_s2"][:n],
            gyr_rad_s=group["gyr_rad_s"][:n],
            sequence=group["sequence"][:n],
            host_receive_ns=group["host_receive_ns"][:n],
        )
        session_time[placement] = group["session_time_s"][:n]
        lost[placement] = group["lost_before"][:n] if current else schema.lost_before(group["sequence"][:n])
    if current:
        log_group = f[schema.ACQUISITION][schema.ARRIVAL]
        index, rows = _rows(log_group["placement_index"]), _rows(log_group["rows"])
        k = complete_arrival_entries(index, rows, [lengths[p] for p in placements])
        arrival = ArrivalLog(index[:k], rows[:k], int(log_group["host_origin_ns"][0]))
        settings = session_settings_from_json(schema.decode_text(f[schema.PROCESSING].attrs["settings_json"]))
    else:
        index, rows = migration.arrival_from_host_stamps(placements, samples)
        arrival = ArrivalLog(index, rows, migration.host_origin_from_mapping(samples, session_time))
        settings = SessionSettings(rate_hz=float(attributes["rate_hz"]))
    ev = f[schema.EVENTS]
    n_events = common_length(ev)
    events = tuple(
        Event(
            float(t),
            EventKind(schema.decode_text(k)),
            schema.decode_text(label),
            float(v),
            schema.decode_text(src),
        )
        for t, k, label, v, src in zip(
            *(ev[name][:n_events] for name in ("time_s", "kind", "label", "value", "source")), strict=True
        )
    )
    cal = f[schema.CALIBRATION]
    mount = cal["mount_q"][:]
    cal_time = float(cal["time_s"][0])
    proc = f[schema.PROCESSING]
    m = common_length(proc)
    names = schema.processing_datasets(len(placements))
    has_angles = all(n in proc for n in names)
    stored = ProcessedAngles(*(_rows(proc[name], m) for name in names)) if derived and has_angles else None
    return Recording(
        path=path,
        attributes=attributes,
        sensors=sensors,
        samples=samples,
        session_time_s=session_time,
        lost_before=lost,
        events=events,
        calibration_mount_q={} if math.isnan(cal_time) else dict(zip(placements, mount, strict=True)),
        calibration_time_s=cal_time,
        frame_time_s=_rows(proc["time_s"], m),
        stored_processing=stored,
        arrival=arrival,
        settings=settings,
        migrated_from=None if current else version,
    )
