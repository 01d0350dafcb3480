"""Checks every processing setting runs through when its dataclass is built, so a bad value (from
the command line, a settings file or a recording's stored settings) is refused with its name
before it reaches numpy allocations or the C code under vqf (which aborts on a negative rate)."""

from __future__ import annotations

import math
from numbers import Real

from sensors.processing.errors import SettingsError

#: Highest frame or sample rate accepted, Hz (fast research IMUs run at 1–2 kHz).
MAX_RATE_HZ = 2000.0
#: Longest session or time setting accepted, s (a day).
MAX_DURATION_S = 86_400.0


def number(
    owner: str, name: str, value: object, low: float, high: float, low_inclusive: bool = False
) -> None:
    """Raise SettingsError unless `value` is a real number (not bool) with low < value ≤ high
    (low ≤ value when `low_inclusive`)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise SettingsError(f"{owner}.{name} must be a number, got {value!r}")
    v = float(value)
    above = v >= low if low_inclusive else v > low
    if not (math.isfinite(v) and above and v <= high):
        bound = "≥" if low_inclusive else ">"
        raise SettingsError(
            f"{owner}.{name} must be a finite number {bound} {low:g} and ≤ {high:g}, got {value!r}"
        )


def rate(owner: str, value: object, name: str = "rate_hz") -> None:
    """A rate in Hz: positive, finite, at most MAX_RATE_HZ."""
    number(owner, name, value, 0.0, MAX_RATE_HZ)


def duration(owner: str, name: str, value: object, allow_zero: bool = False) -> None:
    """A time in s: finite, positive (or ≥ 0 with `allow_zero`), at most MAX_DURATION_S."""
    number(owner, name, value, 0.0, MAX_DURATION_S, low_inclusive=allow_zero)


def count(owner: str, name: str, value: object, low: int, high: int) -> None:
    """An integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(f"{owner}.{name} must be an integer from {low} to {high}, got {value!r}")
