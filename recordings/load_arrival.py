"""The arrival log (/acquisition/arrival): the blocks in the order the live runner received them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from recordings import hdf5_checks, schema
from recordings.chunk_damage import DamagedRows, mark_times, read_around_damage
from recordings.consistency import complete_arrival_entries
from recordings.errors import NotARecordingError
from sensors.placements import Placement


@dataclass(frozen=True)
class ArrivalLog:
    """Blocks in the order the live runner received them: placement_index (k,) into the
    recording's placements, rows (k,) samples per block; host_origin_ns is session time 0."""

    placement_index: np.ndarray
    rows: np.ndarray
    host_origin_ns: int


def arrival_log(
    path: Path,
    acquisition: h5py.Group,
    placements: tuple[Placement, ...],
    stored: dict[Placement, int],
    keeps: dict[Placement, np.ndarray],
    left_open: bool,
    problems: list[str],
    read: dict[str, np.ndarray] | None = None,
) -> ArrivalLog:
    """The arrival log, its entries cut to the samples stored and counting only the rows kept
    (`keeps`); `read`: its columns already read (`read_log`)."""
    read = read or {}
    group = hdf5_checks.group(path, acquisition, schema.ARRIVAL, f"/{schema.ACQUISITION}/{schema.ARRIVAL}")
    columns = {name: hdf5_checks.dataset(path, group, name, (), "i") for name in ("placement_index", "rows")}
    index, rows = ((read[name] if name in read else columns[name][:]).astype(np.int64) for name in columns)
    origin = hdf5_checks.dataset(path, group, "host_origin_ns", (), "i")
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
        if len(mine) == 0 or keeps[placement].all():  # nothing left out: the rows stand
            continue
        bounds = np.concatenate([[0], np.cumsum(rows[mine])])
        kept = np.concatenate([[0], np.cumsum(keeps[placement])])
        new_rows[mine] = kept[bounds[1:]] - kept[bounds[:-1]]
    nonempty = new_rows > 0
    return ArrivalLog(index[nonempty].astype(np.uint8), new_rows[nonempty].astype(np.int32), host_origin_ns)


def read_log(acquisition: h5py.Group) -> tuple[dict[str, np.ndarray], list[DamagedRows]]:
    """The arrival log's columns as read (for `arrival_log`: read once, a long log costs), and
    its rows in chunks that cannot be read; none of either where a column is missing or
    malformed (`arrival_log` says how)."""
    group = acquisition.get(schema.ARRIVAL)
    if not isinstance(group, h5py.Group):
        return {}, []
    columns, found = {}, []
    for name in schema.ARRIVAL_DATASETS:
        item = group.get(name)
        if isinstance(item, h5py.Dataset) and item.ndim == 1:
            columns[name], bad = read_around_damage(item, item.shape[0])
            found += mark_times(item.name, bad, None)
    return columns, found


def stored_origin(acquisition: h5py.Group) -> int | None:
    """The stored host time of session time 0 (ns), or None when it cannot be read."""
    try:
        origin = acquisition[schema.ARRIVAL]["host_origin_ns"]
        return int(origin[0]) if origin.ndim == 1 and origin.shape[0] else None
    except (KeyError, OSError, TypeError, ValueError):
        return None
