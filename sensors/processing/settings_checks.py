"""Checks every processing setting runs through when its dataclass is built, so a bad value (from
the command line, a settings file or a recording's stored settings) is refused with its name
before it reaches numpy allocations or the C code under vqf (which aborts on a negative rate)."""

from __future__ import annotations

from sensors.processing.errors import SettingsError
from sensors.value_checks import MAX_RATE_HZ, out_of_bounds

#: Longest session or time setting accepted, s (a day).
MAX_DURATION_S = 86_400.0


def number(
    owner: str, name: str, value: object, low: float, high: float, low_inclusive: bool = False
) -> None:
    """Raise SettingsError unless `value` is a real number (not bool) with low < value ≤ high
    (low ≤ value when `low_inclusive`)."""
    wrong = out_of_bounds(value, low, high, low_inclusive)
    if wrong is not None:
        raise SettingsError(f"{owner}.{name} {wrong}, got {value!r}")


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
