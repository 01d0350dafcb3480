"""`np.gradient(values, t)` worked out a window at a time: the same numbers, bit for bit, without
its whole-length temporaries (numpy makes five or so arrays as long as the trace for uneven
spacing: ~120 MB each for 4 h at 200 Hz).

The same operations as numpy's (second-order central differences inside, first-order at both
ends, the even-spacing formula when every step equals the first), applied element by element
over windows; tests/sensors/processing/test_gradient.py checks it against np.gradient itself.
"""

from __future__ import annotations

import numpy as np

#: Samples per window (each temporary is then ~0.5 MB).
WINDOW = 65_536


def gradient(
    values: np.ndarray, t: np.ndarray, keep: np.ndarray | None = None, window: int = WINDOW
) -> np.ndarray:
    """d values / d t (n,) as `np.gradient(np.where(keep, values, nan), t)`, for values and t (n,)
    float64 (keep (n,) bool: samples to use, the others count as NaN; None: all)."""
    values = np.asarray(values, dtype=float)
    t = np.asarray(t, dtype=float)
    n = len(values)
    if n <= window:
        return np.gradient(values if keep is None else np.where(keep, values, np.nan), t)
    step0 = t[1] - t[0]
    even = all(bool((np.diff(t[a : min(a + window + 1, n)]) == step0).all()) for a in range(0, n - 1, window))
    out = np.empty(n)
    for a in range(1, n - 1, window):  # interior points a .. b-1, from f[a-1 .. b]
        b = min(a + window, n - 1)
        f = values[a - 1 : b + 1]
        if keep is not None:
            f = np.where(keep[a - 1 : b + 1], f, np.nan)
        if even:
            out[a:b] = (f[2:] - f[:-2]) / (2.0 * step0)
            continue
        steps = np.diff(t[a - 1 : b + 1])
        dx1, dx2 = steps[:-1], steps[1:]
        ca = -(dx2) / (dx1 * (dx1 + dx2))
        cb = (dx2 - dx1) / (dx1 * dx2)
        cc = dx1 / (dx2 * (dx1 + dx2))
        out[a:b] = ca * f[:-2] + cb * f[1:-1] + cc * f[2:]
    ends = values[[0, 1, n - 2, n - 1]]
    if keep is not None:
        ends = np.where(keep[[0, 1, n - 2, n - 1]], ends, np.nan)
    first_step = step0
    last_step = step0 if even else t[n - 1] - t[n - 2]
    out[0] = (ends[1] - ends[0]) / first_step
    out[n - 1] = (ends[3] - ends[2]) / last_step
    return out
