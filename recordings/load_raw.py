"""One sensor's raw datasets (/acquisition/<placement>), checked, and the loss counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np

from recordings import hdf5_checks
from recordings.chunk_columns import chunk_columns
from recordings.chunk_damage import DamagedRows, mark_times, read_around_damage
from sensors.placements import Placement

_INT32_MAX = np.iinfo(np.int32).max

#: Raw datasets of one sensor: row shape and kind ('f' float, 'i' integer).
RAW_DATASETS = {
    "device_time_s": ((), "f"),
    "acc_m_s2": ((3,), "f"),
    "gyr_rad_s": ((3,), "f"),
    "sequence": ((), "i"),
    "host_receive_ns": ((), "i"),
    "session_time_s": ((), "f"),
    "lost_before": ((), "i"),
}


def raw_arrays(
    path: Path, group: h5py.Group, placement: Placement, current: bool, left_open: bool, problems: list[str]
) -> tuple[dict[str, np.ndarray], list[DamagedRows]]:
    """One sensor's raw columns (n,) or (n, 3) as float64 or int64, and the rows of chunks that
    cannot be read (`chunk_damage`; filled with NaN or 0 in the columns), each timed."""
    names = [n for n in RAW_DATASETS if current or n != "lost_before"]
    datasets = {n: hdf5_checks.dataset(path, group, n, *RAW_DATASETS[n]) for n in names}
    lengths = {n: ds.shape[0] for n, ds in datasets.items()}
    n = min(lengths.values())
    if not left_open and len(set(lengths.values())) > 1:
        longer = ", ".join(f"{k} {v}" for k, v in lengths.items() if v != n)
        problems.append(
            f"{placement.value}: its datasets hold different numbers of rows ({longer}, the shortest {n}); "
            f"only the first {n} samples are read"
        )
    dtypes = {"f": np.float64, "i": np.int64}
    columns, unreadable = {}, {}
    for k, ds in datasets.items():
        rows, bad = read_around_damage(ds, n)
        columns[k] = rows.astype(dtypes[RAW_DATASETS[k][1]])
        if bad:
            unreadable[ds.name] = bad
    times = columns["session_time_s"]
    return columns, [d for name, bad in unreadable.items() for d in mark_times(name, bad, times)]


def left_out(damaged: list[DamagedRows], n: int) -> np.ndarray:
    """(n,) bool: True for the rows of any of `damaged`."""
    out = np.zeros(n, dtype=bool)
    for rows in damaged:
        out[rows.start : rows.stop] = True
    return out


def damage_problem(placement: Placement, damaged: DamagedRows) -> str:
    """The reader's one line about a damaged chunk of one sensor's raw data."""
    return (
        f"{placement.value}: {damaged.describe()} (a damaged chunk): those {damaged.rows} samples are "
        "left out as a gap; `stabmon recover` writes a copy with the gap flagged (keeping the original)"
    )


def lost_before(
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


class Counters:
    """A sound sensor's sequence counters (n,) int64 as rows (`counters[a:b]`), held as the first
    counter and where they step by more than one, so the column is read from the file once."""

    fork_safe = True

    def __init__(self, first: int, jump_at: np.ndarray, skipped: np.ndarray, n: int) -> None:
        self.shape = (n,)
        self.dtype = np.dtype(np.int64)
        self.ndim = 1
        self._first = first
        self._jump_at = jump_at  # (j,) rows whose counter steps by more than one
        self._skipped = np.concatenate([[0], skipped]).astype(np.int64)  # counters skipped up to each

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: slice) -> np.ndarray:
        start, stop, _ = key.indices(self.shape[0])
        rows = np.arange(start, max(stop, start), dtype=np.int64)
        return self._first + rows + self._skipped[np.searchsorted(self._jump_at, rows, side="right")]


def sound(path: Path, group: h5py.Group) -> Counters | None:
    """The counters of one sensor whose raw datasets have equal lengths and strictly increasing
    counters (read in slices): nothing to repair, so a caller can read the rest a window at a
    time. None otherwise."""
    names = [n for n in RAW_DATASETS if n in group]
    if len(names) < len(RAW_DATASETS) or len({group[n].shape[0] for n in names}) > 1:
        return None
    try:
        return _sound(path, group)
    except OSError:  # a damaged chunk: read whole, around it (`raw_arrays`)
        return None


def _sound(path: Path, group: h5py.Group) -> Counters | None:
    sequence: Any = hdf5_checks.dataset(path, group, "sequence", (), "i")
    fast = chunk_columns(path, {"sequence": sequence})
    sequence = fast["sequence"] if fast is not None else sequence
    n = sequence.shape[0]
    last, first = None, 0
    jumps, skipped = [], []
    total = 0
    for a in range(0, n, hdf5_checks.SLICE_ROWS):
        part = np.asarray(sequence[a : a + hdf5_checks.SLICE_ROWS], dtype=np.int64)
        if not len(part):
            continue
        steps = np.diff(part, prepend=part[0] - 1 if last is None else last)
        if (steps <= 0).any():
            return None
        if last is None:
            first = int(part[0])
        at = np.flatnonzero(steps != 1)
        jumps.append(at + a)
        skipped.append(total + np.cumsum(steps[at] - 1))
        total = int(skipped[-1][-1]) if len(at) else total
        last = int(part[-1])
    if not jumps:
        return Counters(0, np.zeros(0, np.int64), np.zeros(0, np.int64), 0)
    return Counters(first, np.concatenate(jumps), np.concatenate(skipped), n)
