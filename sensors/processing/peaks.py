"""Peaks of a 1-D signal by height and spacing, in numpy: `scipy.signal.find_peaks(x, height=h,
distance=d)` without importing scipy.signal (about a second of CPU on import).

Same rules as scipy's (NaN compares false, as there): a peak is a sample, or the middle of a
flat run (rounded down), higher than its neighbours on both sides (never the first or last run);
peaks below `height` are dropped; then, from the highest down (ties in the order `np.argsort`
gives, as scipy does), each kept peak removes the others closer than `distance` samples.
tests/sensors/processing/test_peaks.py checks it against scipy.signal.find_peaks itself.
"""

from __future__ import annotations

import math

import numpy as np


def local_maxima(x: np.ndarray) -> np.ndarray:
    """Indices (m,) of the local maxima of x (n,): the middle of each flat run (rounded down)
    higher than the runs on both sides. Temporaries: about 5 bytes a sample."""
    x = np.asarray(x, dtype=float)
    if len(x) < 3:
        return np.zeros(0, dtype=np.intp)
    steps = np.diff(x)
    # +1 up, -1 down, 0 flat, 2 to or from NaN (n - 1,): as in scipy, a NaN is never a peak nor
    # lower than its neighbours, so no run next to one is a peak.
    rises = np.where(np.isnan(steps), 2, np.sign(steps)).astype(np.int8)
    del steps
    index = np.int32 if len(x) < np.iinfo(np.int32).max else np.int64
    moves = np.flatnonzero(rises).astype(index)  # steps that change the value
    direction = rises[moves]
    del rises
    # A run [a, b] is a peak when the step into it rises and the step out of it falls.
    top = np.flatnonzero((direction[:-1] == 1) & (direction[1:] == -1))
    first, last = moves[top].astype(np.intp) + 1, moves[top + 1].astype(np.intp)
    return (first + last) // 2


def find_peaks(x: np.ndarray, height: float, distance: float) -> np.ndarray:
    """Indices (k,) of the peaks of x (n,) at least `height` high and at least `distance` (≥ 1)
    samples apart, as `scipy.signal.find_peaks(x, height=height, distance=distance)[0]`."""
    if distance < 1:
        raise ValueError("`distance` must be greater or equal to 1")
    x = np.asarray(x, dtype=float)
    peaks = local_maxima(x)
    peaks = peaks[x[peaks] >= height]
    if len(peaks) < 2:
        return peaks
    spacing = math.ceil(distance)
    close = np.diff(peaks) < spacing
    crowded = np.zeros(len(peaks), dtype=bool)  # a neighbour closer than `spacing`
    crowded[1:] |= close
    crowded[:-1] |= close
    keep = np.ones(len(peaks), dtype=bool)
    order = np.argsort(x[peaks])  # as scipy orders them, ties included
    for j in order[::-1].tolist():  # highest first; a peak with no close neighbour changes nothing
        if not crowded[j] or not keep[j]:
            continue
        k = j - 1
        while k >= 0 and peaks[j] - peaks[k] < spacing:
            keep[k] = False
            k -= 1
        k = j + 1
        while k < len(peaks) and peaks[k] - peaks[j] < spacing:
            keep[k] = False
            k += 1
    return peaks[keep]
