"""numpy functions applied to many slices of one array at once, each equal bit for bit to the
function applied to every slice in turn (the same floating-point operations, element by element).

The slices are given as a flat array of their elements one after the other and `bounds` (k + 1,)
int: slice r is flat[bounds[r] : bounds[r + 1]]. tests/sensors/processing/test_segmented.py checks
each against numpy's own function slice by slice.
"""

from __future__ import annotations

import numpy as np


def concatenated_ranges(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The indices of ranges [starts[r], stops[r]) (k,) one after the other (m,) intp, and the
    bounds (k + 1,) of each range in them."""
    lengths = np.maximum(np.asarray(stops, dtype=np.intp) - np.asarray(starts, dtype=np.intp), 0)
    bounds = np.zeros(len(lengths) + 1, dtype=np.intp)
    np.cumsum(lengths, out=bounds[1:])
    index = np.arange(bounds[-1], dtype=np.intp) + np.repeat(
        np.asarray(starts, dtype=np.intp) - bounds[:-1], lengths
    )
    return index, bounds


def segment_of(bounds: np.ndarray) -> np.ndarray:
    """The slice (m,) intp each flat element belongs to."""
    return np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))


def gradient(values: np.ndarray, x: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """`np.gradient(values[a:b], x[a:b])` of every slice (each of at least two elements), flat (m,):
    second-order differences inside, first-order at both ends, numpy's even-spacing formula for a
    slice whose steps all equal its first."""
    f = np.asarray(values, dtype=float)
    x = np.asarray(x, dtype=float)
    m = len(f)
    out = np.empty(m)
    if m == 0:
        return out
    first, last = bounds[:-1], bounds[1:] - 1
    if np.any(last - first < 1):
        raise ValueError("a numerical gradient needs at least two elements in every slice")
    dx = np.diff(x)  # dx[i] = x[i + 1] - x[i]; the step across a slice boundary is never used
    # Inside (uneven spacing): element i from f[i - 1 .. i + 1], over the whole flat array at once
    # (the elements next to a boundary are overwritten below).
    dx1, dx2 = dx[:-1], dx[1:]
    a = -(dx2) / (dx1 * (dx1 + dx2))
    b = (dx2 - dx1) / (dx1 * dx2)
    c = dx1 / (dx2 * (dx1 + dx2))
    out[1:-1] = a * f[:-2] + b * f[1:-1] + c * f[2:]
    del a, b, c, dx1, dx2
    # A slice is evenly spaced when every step inside it equals its first (numpy's test).
    step0 = dx[first]
    steps = np.diff(bounds) - 1
    uneven = np.repeat(step0, steps) != np.delete(dx, last[:-1])  # the steps inside slices
    even = ~np.logical_or.reduceat(uneven, np.cumsum(steps) - steps) if len(uneven) else np.ones(0, bool)
    if even.any():  # rare: float times are seldom exactly evenly spaced
        inside_even = np.repeat(even, steps + 1)
        inside_even[first] = inside_even[last] = False
        e = np.flatnonzero(inside_even)
        out[e] = (f[e + 1] - f[e - 1]) / (2.0 * np.repeat(step0, steps + 1)[e])
    step_n = np.where(even, step0, dx[last - 1])
    out[first] = (f[first + 1] - f[first]) / step0
    out[last] = (f[last] - f[last - 1]) / step_n
    return out


def interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """`np.interp(x, xp[a:b], fp[a:b])` for every slice (x (q,) the same points for each, xp
    increasing within a slice, no slice empty), (k, q): numpy's rule (below the first point its
    value, above the last the last value, on a point that point's value, else the line between
    the two points around it)."""
    x = np.asarray(x, dtype=float)
    xp = np.asarray(xp, dtype=float)
    fp = np.asarray(fp, dtype=float)
    k, q = len(bounds) - 1, len(x)
    lo, hi = np.repeat(bounds[:-1], q), np.repeat(bounds[1:], q)
    if np.any(hi <= lo):
        raise ValueError("interpolation needs at least one point in every slice")
    xs = np.tile(x, k)
    # The last point of each slice at or before x (lo - 1: none), by binary search per slice: the
    # slices are searched all at once by offsetting each into its own band of a shared key.
    j = _last_at_or_before(xp, bounds, xs, lo, hi)
    out = np.empty(k * q)
    below = j < lo
    above = xs > xp[hi - 1]
    at_end = (j == hi - 1) & ~above
    between = ~(below | above | at_end)
    jb, xb = j[between], xs[between]
    exact = xp[jb] == xb
    slope = (fp[jb + 1] - fp[jb]) / (xp[jb + 1] - xp[jb])
    value = slope * (xb - xp[jb]) + fp[jb]
    broken = np.isnan(value)  # numpy's retry from the other end (a NaN slope or value)
    if broken.any():
        retry = slope * (xb - xp[jb + 1]) + fp[jb + 1]
        retry = np.where(np.isnan(retry) & (fp[jb] == fp[jb + 1]), fp[jb], retry)
        value = np.where(broken, retry, value)
    out[between] = np.where(exact, fp[jb], value)
    out[below] = fp[lo[below]]
    out[above | at_end] = fp[hi[above | at_end] - 1]
    return out.reshape(k, q)


def _last_at_or_before(
    xp: np.ndarray, bounds: np.ndarray, xs: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """For each query xs (with its slice's [lo, hi)), the last index j in [lo, hi) with
    xp[j] <= xs, or lo - 1: a binary search per query, all queries at once."""
    left, right = lo.copy(), hi.copy()  # invariant: xp[left - 1] <= x (or left = lo), xp[right] > x
    while True:
        active = left < right
        if not active.any():
            break
        mid = (left + right) // 2
        take = active & (xp[np.minimum(mid, len(xp) - 1)] <= xs)
        left = np.where(take, mid + 1, left)
        right = np.where(active & ~take, mid, right)
    return left - 1


def means(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """`np.mean(values[a:b])` of every slice (k,). numpy sums pairwise, which `np.add.reduceat`
    does not, so each slice is one call: a loop over the slices, not over their elements."""
    return np.array(
        [np.mean(values[a:b]) for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]
    )
