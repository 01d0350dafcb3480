"""Start and end of a movement in an angle trace, by an angular-velocity threshold.

Missing samples (NaN) count as neither slow nor fast, so a gap never passes for the quiet
before or after a movement: the search walks on past it."""

from __future__ import annotations

import numpy as np


def movement_start(velocity: np.ndarray, peak: int, limit: float) -> int:
    """Start of the rise that ends at index `peak` of velocity (n,): step back over any hold to the
    last sample at or above `limit`, then to the last one below it before that (0 if none)."""
    v = np.asarray(velocity, dtype=float)
    fast = np.flatnonzero(v[:peak] >= limit)
    if len(fast) == 0:
        return peak
    below = np.flatnonzero(v[: fast[-1]] < limit)
    return int(below[-1]) if len(below) else 0


def movement_end(velocity: np.ndarray, start: int, limit: float) -> int:
    """End of the rise beginning at `start`: the first sample after its fast part whose velocity
    is below `limit` again (the last index if it never slows down)."""
    v = np.asarray(velocity, dtype=float)
    fast = np.flatnonzero(v[start:] >= limit)
    if len(fast) == 0:
        return start
    slowed = np.flatnonzero(v[start + fast[0] :] < limit)
    return start + int(fast[0]) + int(slowed[0]) if len(slowed) else len(v) - 1
