"""A session file's events and calibration, checked (what is unusable is left out and said)."""

from __future__ import annotations

import math
from pathlib import Path

import h5py
import numpy as np

from recordings import hdf5_checks, schema
from recordings.chunk_damage import DamagedRows, mark_times, read_around_damage
from sensors.events import Event, EventKind
from sensors.placements import Placement


def events(path: Path, f: h5py.File, problems: list[str], damaged: list[DamagedRows]) -> tuple[Event, ...]:
    """The events; those in chunks that cannot be read are left out, listed in `damaged` and
    `problems`."""
    group = hdf5_checks.group(path, f, schema.EVENTS)
    columns = {
        name: hdf5_checks.dataset(path, group, name, (), "f") if kind == "f8" else group[name]
        for name, (kind, _) in schema.EVENT_DATASETS.items()
    }
    n = min(ds.shape[0] for ds in columns.values())
    read = {name: read_around_damage(ds, n) for name, ds in columns.items()}
    values = {name: rows for name, (rows, _) in read.items()}
    unreadable = np.zeros(n, dtype=bool)
    times = np.asarray(values["time_s"], dtype=np.float64)
    for name, (_, bad) in read.items():
        for part in mark_times(columns[name].name, bad, times):
            unreadable[part.start : part.stop] = True
            damaged.append(part)
            problems.append(f"{part.describe()} (a damaged chunk): those {part.rows} events are left out")
    events, skipped = [], 0
    for t, kind, label, value, source in zip(
        *(values[name][~unreadable] for name in ("time_s", "kind", "label", "value", "source")), strict=True
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


def calibration(
    path: Path, f: h5py.File, placements: tuple[Placement, ...], problems: list[str]
) -> tuple[dict[Placement, np.ndarray], float]:
    group = hdf5_checks.group(path, f, schema.CALIBRATION)
    mount = hdf5_checks.dataset(path, group, "mount_q", (4,), "f")[:].astype(np.float64)
    times = hdf5_checks.dataset(path, group, "time_s", (), "f")[:]
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
