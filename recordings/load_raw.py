"""One sensor's raw datasets (/acquisition/<placement>), checked, and the loss counts."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from recordings import hdf5_checks
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
) -> dict[str, np.ndarray]:
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
    return {k: ds[:n].astype(dtypes[RAW_DATASETS[k][1]]) for k, ds in datasets.items()}


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


def sound(path: Path, group: h5py.Group) -> bool:
    """The raw datasets of one sensor have equal lengths and strictly increasing counters (read
    in slices): nothing to repair, so a caller can read them a window at a time."""
    names = [n for n in RAW_DATASETS if n in group]
    if len(names) < len(RAW_DATASETS) or len({group[n].shape[0] for n in names}) > 1:
        return False
    sequence = hdf5_checks.dataset(path, group, "sequence", (), "i")
    last = None
    for a in range(0, sequence.shape[0], hdf5_checks.SLICE_ROWS):
        part = sequence[a : a + hdf5_checks.SLICE_ROWS].astype(np.int64)
        if len(part) and ((last is not None and part[0] <= last) or (np.diff(part) <= 0).any()):
            return False
        last = int(part[-1]) if len(part) else last
    return True
