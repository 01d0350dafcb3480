"""A consistent view of a file that is still being written or was left open by a crash.

The writer appends dataset by dataset, so a reader (or a crash) can catch a group with some
datasets one append ahead of the others. Rows beyond the shortest dataset of a group, and arrival
log entries beyond the samples present, are not yet complete and are left out.
"""

from __future__ import annotations

import h5py
import numpy as np


def common_length(group: h5py.Group) -> int:
    """Rows that every growing (resizable) dataset directly in `group` holds."""
    lengths = [
        ds.shape[0]
        for ds in group.values()
        if isinstance(ds, h5py.Dataset) and ds.maxshape and ds.maxshape[0] is None
    ]
    return min(lengths) if lengths else 0


def complete_arrival_entries(placement_index: np.ndarray, rows: np.ndarray, samples: list[int]) -> int:
    """How many leading arrival-log entries (placement_index (k,), rows (k,)) are covered by the
    samples present per placement (`samples[i]` rows for placement i)."""
    n = min(len(placement_index), len(rows))
    index = placement_index[:n].astype(np.int64)
    cumulative = np.zeros(n, dtype=np.int64)
    for i, available in enumerate(samples):
        mine = index == i
        cumulative[mine] = np.cumsum(rows[:n][mine]) - available
    beyond = np.flatnonzero((cumulative > 0) | (index >= len(samples)))
    return int(beyond[0]) if len(beyond) else n
