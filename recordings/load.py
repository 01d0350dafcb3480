"""Reading the parts of a session file, each checked, into the fields of a `Recording`.

Every way a part can be damaged gives either a specific error naming the file and the part, or
a partial result with a line in `problems` saying what was left out or assumed.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from recordings import migration, schema
from recordings.consistency import complete_arrival_entries
from recordings.errors import NotARecordingError
from recordings.repair import repair_rows
from recordings.settings_codec import session_settings_from_json
from sensors.events import Event, EventKind
from sensors.identity import SensorFamily, SensorIdentity
from sensors.placements import Placement
from sensors.processing.session import SessionSettings
from sensors.samples import SampleBlock

log = logging.getLogger(__name__)

_INT32_MAX = np.iinfo(np.int32).max


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


def load_recording(
    path: Path,
    f: h5py.File,
    attributes: dict[str, Any],
    left_open: bool,
    derived: bool = True,
    raw: bool = True,
) -> dict[str, Any]:
    """The keyword arguments of `Recording` for the open file `f` with these root attributes
    (`derived`, `raw`: as `read_recording` says)."""
    problems: list[str] = []
    if left_open:
        problems.append(
            "the file was not closed properly (still being written, or its writer crashed): "
            "read what was flushed; if the session has ended, run `stabmon recover` on it"
        )
    placements = _placements(path, attributes)
    for name in ("subject_id", "drill", "created_utc"):
        if name not in attributes:
            raise NotARecordingError(path, f"root attribute {name!r} is missing")
        if not isinstance(attributes[name], str | bytes):
            raise NotARecordingError(path, f"root attribute {name!r} is not text: {attributes[name]!r}")
        attributes[name] = schema.decode_text(attributes[name])
    try:
        schema.check_subject_id(attributes["subject_id"])
        datetime.fromisoformat(attributes["created_utc"])
    except ValueError as error:
        raise NotARecordingError(path, f"root attributes: {error}") from None
    version = schema.decode_text(attributes["schema_version"])
    current = schema.parse_version(version) >= schema.parse_version("0.2.0")
    settings = _settings(path, f, attributes, current, problems)
    acquisition = _group(path, f, schema.ACQUISITION)
    groups = {p: _group(path, acquisition, p.value, f"/{schema.ACQUISITION}/{p.value}") for p in placements}
    skip_raw = not raw and current and not left_open and all(_sound(path, g) for g in groups.values())
    sensors, samples, session_time, lost, keeps, stored = {}, {}, {}, {}, {}, {}
    for placement, group in groups.items():
        sensors[placement] = _identity(path, group, placement)
        if skip_raw:  # read a window at a time by the caller
            stored[placement] = group["sequence"].shape[0]
            keeps[placement] = np.ones(stored[placement], dtype=bool)
            samples[placement] = SampleBlock(
                placement,
                np.zeros(0),
                np.zeros((0, 3)),
                np.zeros((0, 3)),
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
            )
            session_time[placement], lost[placement] = np.zeros(0), np.zeros(0, np.int32)
            continue
        columns = _raw_arrays(path, group, placement, current, left_open, problems)
        stored[placement] = len(columns["sequence"])
        fixed = repair_rows(
            columns["device_time_s"],
            columns["sequence"],
            columns["host_receive_ns"],
            columns["acc_m_s2"],
            columns["gyr_rad_s"],
            settings.rate_hz,
        )
        keep = fixed.keep
        if fixed.report.changed:
            problems.append(fixed.report.describe(placement.value))
            log.warning("%s: %s", path, problems[-1])
        keeps[placement] = keep
        samples[placement] = SampleBlock(
            placement=placement,
            device_time_s=fixed.device_time_s,
            acc_m_s2=columns["acc_m_s2"][keep],
            gyr_rad_s=columns["gyr_rad_s"][keep],
            sequence=fixed.sequence,
            host_receive_ns=columns["host_receive_ns"][keep],
        )
        session_time[placement] = columns["session_time_s"][keep]
        lost[placement] = _lost_before(columns.get("lost_before"), keep, fixed.sequence, fixed.report.changed)
        if not fixed.report.changed and "lost_before" in columns and (columns["lost_before"] < 0).any():
            problems.append(
                f"{placement.value}: negative loss counts (a wrapped counter) recomputed from the counters"
            )
    if current:
        arrival = _arrival_log(path, acquisition, placements, stored, keeps, left_open, problems)
    else:
        index, rows = migration.arrival_from_host_stamps(placements, samples)
        arrival = ArrivalLog(index, rows, migration.host_origin_from_mapping(samples, session_time))
    calibration_mount_q, cal_time = _calibration(path, f, placements, problems)
    return {
        "path": path,
        "attributes": attributes,
        "sensors": sensors,
        "samples": samples,
        "session_time_s": session_time,
        "lost_before": lost,
        "events": _events(path, f, problems),
        "calibration_mount_q": calibration_mount_q,
        "calibration_time_s": cal_time,
        **_processing(path, f, len(placements), derived, problems),
        "arrival": arrival,
        "settings": settings,
        "migrated_from": None if current else version,
        "problems": tuple(problems),
        "left_open": left_open,
    }


def _placements(path: Path, attributes: dict[str, Any]) -> tuple[Placement, ...]:
    raw = attributes.get("placements")
    if raw is None:
        raise NotARecordingError(path, "root attribute 'placements' is missing")
    names = [schema.decode_text(p) for p in (raw if isinstance(raw, list) else [raw])]
    if not names:
        raise NotARecordingError(path, "root attribute 'placements' is empty")
    try:
        placements = tuple(Placement(p) for p in names)
    except ValueError:
        raise NotARecordingError(
            path, f"root attribute 'placements' names an unknown placement: {names}"
        ) from None
    twice = sorted({p.value for p in placements if placements.count(p) > 1})
    if twice:
        raise NotARecordingError(path, f"root attribute 'placements' lists {', '.join(twice)} more than once")
    return placements


def _group(path: Path, parent: h5py.Group, name: str, where: str | None = None) -> h5py.Group:
    item = parent.get(name)
    if not isinstance(item, h5py.Group):
        what = "missing" if item is None else "not a group"
        raise NotARecordingError(path, f"group {where or '/' + name} is {what}")
    return item


def _dataset(path: Path, group: h5py.Group, name: str, tail: tuple[int, ...], kind: str) -> h5py.Dataset:
    """The dataset `name` of `group`, checked to have rows of shape `tail` and numbers of `kind`
    ('f' float, 'i' integer, 'b' bool; integers are accepted for floats)."""
    where = f"{group.name}/{name}"
    item = group.get(name)
    if not isinstance(item, h5py.Dataset):
        raise NotARecordingError(path, f"dataset {where} is {'missing' if item is None else 'not a dataset'}")
    if item.ndim != 1 + len(tail) or item.shape[1:] != tail:
        expected = "(n" + "".join(f", {d}" for d in tail) + ")"
        raise NotARecordingError(path, f"dataset {where} has shape {item.shape}, expected {expected}")
    accepted = {"f": "fiu", "i": "iu", "b": "biu"}[kind]
    if item.dtype.kind not in accepted:
        raise NotARecordingError(path, f"dataset {where} holds {item.dtype}, not numbers")
    return item


def _identity(path: Path, group: h5py.Group, placement: Placement) -> SensorIdentity:
    a = group.attrs
    family = schema.decode_text(a.get("family", ""))
    try:
        sensor_family = SensorFamily(family)
    except ValueError:
        raise NotARecordingError(
            path, f"{group.name}: sensor family {family!r} is missing or unknown"
        ) from None
    text = {k: schema.decode_text(a.get(k, "")) for k in ("address", "serial", "firmware", "model")}
    return SensorIdentity(sensor_family, text["address"], text["serial"], text["firmware"], text["model"])


_RAW = {
    "device_time_s": ((), "f"),
    "acc_m_s2": ((3,), "f"),
    "gyr_rad_s": ((3,), "f"),
    "sequence": ((), "i"),
    "host_receive_ns": ((), "i"),
    "session_time_s": ((), "f"),
    "lost_before": ((), "i"),
}


def _raw_arrays(
    path: Path, group: h5py.Group, placement: Placement, current: bool, left_open: bool, problems: list[str]
) -> dict[str, np.ndarray]:
    names = [n for n in _RAW if current or n != "lost_before"]
    datasets = {n: _dataset(path, group, n, *_RAW[n]) for n in names}
    lengths = {n: ds.shape[0] for n, ds in datasets.items()}
    n = min(lengths.values())
    if not left_open and len(set(lengths.values())) > 1:
        longer = ", ".join(f"{k} {v}" for k, v in lengths.items() if v != n)
        problems.append(
            f"{placement.value}: its datasets hold different numbers of rows ({longer}, the shortest {n}); "
            f"only the first {n} samples are read"
        )
    dtypes = {"f": np.float64, "i": np.int64}
    return {k: ds[:n].astype(dtypes[_RAW[k][1]]) for k, ds in datasets.items()}


def _lost_before(
    stored: np.ndarray | None, keep: np.ndarray, sequence: np.ndarray, repaired: bool
) -> np.ndarray:
    """Samples lost before each kept sample (k,) int32: as stored when the rows were consistent,
    else from the repaired counters; never negative (an int32 that wrapped) nor beyond int32."""
    if stored is not None and not repaired:
        lost = stored[keep]
        if (lost >= 0).all():
            return lost.astype(np.int32)
    first = int(max(stored[keep][0], 0)) if stored is not None and len(sequence) else 0
    steps = np.diff(
        np.asarray(sequence, dtype=np.int64), prepend=sequence[0] - 1 - first if len(sequence) else 0
    )
    return np.clip(steps - 1, 0, _INT32_MAX).astype(np.int32)


def _settings(
    path: Path, f: h5py.File, attributes: dict[str, Any], current: bool, problems: list[str]
) -> SessionSettings:
    processing = f.get(schema.PROCESSING)
    text = processing.attrs.get("settings_json") if current and isinstance(processing, h5py.Group) else None
    try:
        if text is not None:
            return session_settings_from_json(schema.decode_text(text))
        if "rate_hz" not in attributes:
            raise NotARecordingError(
                path, "neither /processing settings_json nor the root rate_hz is present"
            )
        if current:
            problems.append(
                "/processing settings_json is missing: default settings at the stored rate_hz used"
            )
        return SessionSettings(rate_hz=float(attributes["rate_hz"]))
    except (ValueError, TypeError) as error:
        where = "/processing settings_json" if text is not None else "root attribute rate_hz"
        raise NotARecordingError(path, f"{where} is not usable: {error}") from None


def _arrival_log(
    path: Path,
    acquisition: h5py.Group,
    placements: tuple[Placement, ...],
    stored: dict[Placement, int],
    keeps: dict[Placement, np.ndarray],
    left_open: bool,
    problems: list[str],
) -> ArrivalLog:
    group = _group(path, acquisition, schema.ARRIVAL, f"/{schema.ACQUISITION}/{schema.ARRIVAL}")
    index = _dataset(path, group, "placement_index", (), "i")[:].astype(np.int64)
    rows = _dataset(path, group, "rows", (), "i")[:].astype(np.int64)
    origin = _dataset(path, group, "host_origin_ns", (), "i")
    if origin.shape[0] < 1:
        raise NotARecordingError(path, f"dataset {origin.name} is empty")
    host_origin_ns = int(origin[0])
    n = min(len(index), len(rows))
    bad = np.flatnonzero((rows[:n] <= 0) | (index[:n] < 0))
    n = int(bad[0]) if len(bad) else n
    k = complete_arrival_entries(index[:n], rows[:n], [stored[p] for p in placements])
    index, rows = index[:k], rows[:k]
    covered = {p: int(rows[index == i].sum()) for i, p in enumerate(placements)}
    missing = {p.value: stored[p] - covered[p] for p in placements if stored[p] > covered[p]}
    if not left_open and (k < max(len(index), n) or missing):
        problems.append(
            "the arrival log does not match the samples stored"
            + (f" (samples it does not list: {missing}; a replay leaves them out)" if missing else "")
        )
    new_rows = rows.copy()
    for i, placement in enumerate(placements):
        mine = np.flatnonzero(index == i)
        if len(mine) == 0:
            continue
        bounds = np.concatenate([[0], np.cumsum(rows[mine])])
        kept = np.concatenate([[0], np.cumsum(keeps[placement])])
        new_rows[mine] = kept[bounds[1:]] - kept[bounds[:-1]]
    nonempty = new_rows > 0
    return ArrivalLog(index[nonempty].astype(np.uint8), new_rows[nonempty].astype(np.int32), host_origin_ns)


def _events(path: Path, f: h5py.File, problems: list[str]) -> tuple[Event, ...]:
    group = _group(path, f, schema.EVENTS)
    columns = {
        name: _dataset(path, group, name, (), "f") if kind == "f8" else group[name]
        for name, (kind, _) in schema.EVENT_DATASETS.items()
    }
    n = min(ds.shape[0] for ds in columns.values())
    values = {name: ds[:n] for name, ds in columns.items()}
    events, skipped = [], 0
    for t, kind, label, value, source in zip(
        *(values[name] for name in ("time_s", "kind", "label", "value", "source")), strict=True
    ):
        try:
            events.append(
                Event(
                    float(t),
                    EventKind(schema.decode_text(kind)),
                    schema.decode_text(label),
                    float(value),
                    schema.decode_text(source),
                )
            )
        except (ValueError, TypeError, UnicodeDecodeError):
            skipped += 1
    if skipped:
        problems.append(f"{skipped} events with an unknown kind or a non-finite time left out")
    return tuple(events)


def _calibration(
    path: Path, f: h5py.File, placements: tuple[Placement, ...], problems: list[str]
) -> tuple[dict[Placement, np.ndarray], float]:
    group = _group(path, f, schema.CALIBRATION)
    mount = _dataset(path, group, "mount_q", (4,), "f")[:].astype(np.float64)
    times = _dataset(path, group, "time_s", (), "f")[:]
    if len(times) == 0:
        problems.append("/calibration/time_s is empty: treated as not calibrated")
        return {}, math.nan
    cal_time = float(times[0])
    if math.isnan(cal_time):
        return {}, cal_time
    if len(mount) != len(placements) or not np.isfinite(mount).all():
        problems.append(
            f"/calibration/mount_q has {len(mount)} rows (or non-finite values) for {len(placements)} "
            "placements: treated as not calibrated"
        )
        return {}, math.nan
    return dict(zip(placements, mount, strict=True)), cal_time


def _sound(path: Path, group: h5py.Group) -> bool:
    """The raw datasets of one sensor have equal lengths and strictly increasing counters (read
    in slices): nothing to repair, so a caller can read them a window at a time."""
    names = [n for n in _RAW if n in group]
    if len(names) < len(_RAW) or len({group[n].shape[0] for n in names}) > 1:
        return False
    sequence = _dataset(path, group, "sequence", (), "i")
    last = None
    for a in range(0, sequence.shape[0], _SLICE_ROWS):
        part = sequence[a : a + _SLICE_ROWS].astype(np.int64)
        if len(part) and ((last is not None and part[0] <= last) or (np.diff(part) <= 0).any()):
            return False
        last = int(part[-1]) if len(part) else last
    return True


#: Rows per request when reading long columns: HDF5 keeps ~8 KB for every chunk one request
#: touches, so a long column read at once costs hundreds of MB that are never given back.
_SLICE_ROWS = 100_000


def _rows(dataset: h5py.Dataset, n: int) -> np.ndarray:
    """The first n rows of a dataset, read `_SLICE_ROWS` at a time."""
    parts = [dataset[a : min(a + _SLICE_ROWS, n)] for a in range(0, n, _SLICE_ROWS)]
    return np.concatenate(parts) if parts else dataset[:0]


def _processing(path: Path, f: h5py.File, p: int, derived: bool, problems: list[str]) -> dict[str, Any]:
    """The frame grid (`frame_time_s`) and, with `derived`, the stored angles (`stored_processing`;
    None when the file holds none, since schema 0.3.0 the default, or they are damaged: a replay
    recomputes them from the raw data anyway)."""
    shapes = schema.processing_datasets(p)
    try:
        group = _group(path, f, schema.PROCESSING)
        time_s = _dataset(path, group, "time_s", (), "f")
        valid = _dataset(path, group, "valid", (p,), "b")
        m = min(time_s.shape[0], valid.shape[0])
        frame_time_s = _rows(time_s, m)
    except (NotARecordingError, OSError, ValueError, TypeError) as error:
        problem = error.problem if isinstance(error, NotARecordingError) else str(error)
        problems.append(f"the frame grid is unusable ({problem}); a replay recomputes it")
        return {"frame_time_s": np.zeros(0), "stored_processing": None}
    if not derived or not all(name in group for name in shapes):
        return {"frame_time_s": frame_time_s, "stored_processing": None}
    try:
        datasets = [
            _dataset(path, group, name, tail, "b" if dtype == "bool" else "f")
            for name, (tail, dtype, _) in shapes.items()
        ]
        m = min(ds.shape[0] for ds in datasets)
        return {
            "frame_time_s": frame_time_s,
            "stored_processing": ProcessedAngles(*(_rows(ds, m) for ds in datasets)),
        }
    except (NotARecordingError, OSError, ValueError, TypeError) as error:
        problem = error.problem if isinstance(error, NotARecordingError) else str(error)
        problems.append(f"stored angles unusable ({problem}); they are recomputed from the raw data")
        return {"frame_time_s": frame_time_s, "stored_processing": None}
