"""The key instants of forward bends, for all peaks at once: movement starts and ends (velocity
threshold crossings) and whether a repetition's lost samples allow measuring it (rhythm.py)."""

from __future__ import annotations

import numpy as np


class Crossings:
    """`start` and `end` of movements in one velocity trace (n,) against one limit, for many
    instants at once: the indices where it is at or above the limit and where it is below (NaN
    is neither) are found once, then each query is a binary search (O(n log n) in all)."""

    def __init__(self, velocity: np.ndarray, limit: float) -> None:
        v = np.asarray(velocity, dtype=float)
        self.n = len(v)
        index = np.int32 if self.n < np.iinfo(np.int32).max else np.int64  # half the memory
        self.fast = np.flatnonzero(v >= limit).astype(index)
        self.slow = np.flatnonzero(v < limit).astype(index)

    def start(self, peak: np.ndarray) -> np.ndarray:
        """Per peak (k,): the last sample below the limit before the last one at or above it
        before the peak (0 if none below; the peak itself if none at or above)."""
        fast = _last_before(self.fast, peak)
        return np.where(fast < 0, peak, np.maximum(_last_before(self.slow, fast), 0))

    def end(self, start: np.ndarray) -> np.ndarray:
        """Per start (k,): the first sample below the limit after the first one at or above it
        from the start (the start itself if none at or above; the last sample if none below)."""
        fast = self.first_fast(start)
        slowed = np.minimum(_first_from(self.slow, fast, self.n), self.n - 1)
        return np.where(fast >= self.n, start, slowed)

    def first_fast(self, start: np.ndarray) -> np.ndarray:
        """The first index ≥ start (k,) where the velocity is at or above the limit (n if none)."""
        return _first_from(self.fast, start, self.n)


def _last_before(indices: np.ndarray, before: np.ndarray) -> np.ndarray:
    """The last of the sorted `indices` below each of `before` (k,) (-1 if none)."""
    before = np.asarray(before, dtype=np.int64)
    if len(indices) == 0:
        return np.full(len(before), -1, dtype=np.int64)
    at = np.searchsorted(indices, before.astype(indices.dtype), side="left") - 1  # no cast of indices
    return np.where(at >= 0, indices[np.maximum(at, 0)].astype(np.int64), -1)


def _first_from(indices: np.ndarray, start: np.ndarray, none: int) -> np.ndarray:
    """The first of the sorted `indices` at or after each of `start` (k,) (`none` if none)."""
    start = np.asarray(start, dtype=np.int64)
    if len(indices) == 0:
        return np.full(len(start), none, dtype=np.int64)
    at = np.searchsorted(indices, np.minimum(start, np.iinfo(indices.dtype).max).astype(indices.dtype))
    return np.where(at < len(indices), indices[np.minimum(at, len(indices) - 1)].astype(np.int64), none)


def measurable(
    finite: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    keys: tuple[np.ndarray, ...],
    max_gap: float,
    margin: int,
) -> np.ndarray:
    """Per repetition (k,) bool: within samples [first, last] no run of missing samples (not
    `finite` (n,)) is longer than `max_gap` samples, and every key instant (each of `keys` (k,))
    has `margin` finite samples either side (clipped at the trace's ends)."""
    n = len(finite)
    missing = ~np.asarray(finite, dtype=bool)
    count = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(missing, out=count[1:])
    ok = np.ones(len(first), dtype=bool)
    for key in keys:
        ok &= count[np.minimum(key + margin + 1, n)] == count[np.maximum(key - margin, 0)]
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    run_start, run_stop = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if len(run_start) == 0:
        return ok
    stop = last + 1
    # The runs that overlap [first, stop): from i0 (the first ending after `first`) to i1 - 1.
    i0 = np.searchsorted(run_stop, first, side="right")
    i1 = np.searchsorted(run_start, stop, side="left")
    some = i1 > i0
    a, z = np.minimum(i0, len(run_start) - 1), np.maximum(i1 - 1, 0)
    first_len = np.minimum(run_stop[a], stop) - np.maximum(run_start[a], first)
    last_len = np.minimum(run_stop[z], stop) - np.maximum(run_start[z], first)
    long = np.zeros(len(run_start) + 1, dtype=np.int64)  # long runs before each run
    np.cumsum((run_stop - run_start) > max_gap, out=long[1:])
    inner = np.where(z > a + 1, long[np.maximum(z, a + 1)] - long[np.minimum(a + 1, len(run_start))], 0)
    too_long = some & ((first_len > max_gap) | (last_len > max_gap) | (inner > 0))
    return ok & ~too_long
