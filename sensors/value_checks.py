"""The bounds check every settings class uses, so a wrong value is described the same way
whichever package refuses it (each raises its own error with the setting's name)."""

from __future__ import annotations

import math
from numbers import Real

#: Highest frame or sample rate accepted anywhere, Hz (fast research IMUs run at 1–2 kHz).
MAX_RATE_HZ = 2000.0


def out_of_bounds(value: object, low: float, high: float, low_inclusive: bool = False) -> str | None:
    """None when `value` is a real number (not bool) with low < value ≤ high (low ≤ value when
    `low_inclusive`); else what it must be, e.g. "must be a finite number > 0 and ≤ 2000"."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return "must be a number"
    v = float(value)
    above = v >= low if low_inclusive else v > low
    if math.isfinite(v) and above and v <= high:
        return None
    return f"must be a finite number {'≥' if low_inclusive else '>'} {low:g} and ≤ {high:g}"
