"""Checks every `LinkSettings` value runs through when it is built, so a wrong one (from the
command line, a specification or a harness) is refused at once, naming the setting and why,
instead of surfacing minutes later as a sensor that is never retried or a scan that never ends."""

from __future__ import annotations

from typing import Any

from sensors.ble.errors import LinkSettingsError
from sensors.value_checks import MAX_RATE_HZ, out_of_bounds

#: Longest wait accepted for any link timeout, s (a day).
MAX_WAIT_S = 86_400.0


def _number(name: str, value: object, why: str, low: float, high: float, low_inclusive: bool) -> None:
    wrong = out_of_bounds(value, low, high, low_inclusive)
    if wrong is not None:
        raise LinkSettingsError(f"LinkSettings.{name} {wrong} ({why}), got {value!r}")


def check_link_settings(settings: Any) -> None:
    """Raise LinkSettingsError naming the first wrong value of `settings` and why it is wrong."""
    _number("rate_hz", settings.rate_hz, "the sensor rate, Hz", 0.0, MAX_RATE_HZ, False)
    waits = {
        "scan_timeout_s": "how long to look for the sensors, s; 0 would never see one",
        "connect_timeout_s": "how long one connection attempt may take, s; 0 would fail every one",
        "give_up_after_s": "how long a silent sensor is retried before it is reported lost, s",
        "decode_error_log_interval_s": "how often malformed notifications are logged, s",
    }
    for name, why in waits.items():
        _number(name, getattr(settings, name), why, 0.0, MAX_WAIT_S, False)
    delays = settings.reconnect_delays_s
    if not isinstance(delays, tuple) or not delays:
        raise LinkSettingsError(
            "LinkSettings.reconnect_delays_s must be a non-empty tuple of waits in s (the last one "
            f"repeats until give_up_after_s; without one a dropped sensor is never retried), got {delays!r}"
        )
    for k, delay in enumerate(delays):
        _number(
            f"reconnect_delays_s[{k}]",
            delay,
            "a wait before a reconnection attempt, s",
            0.0,
            MAX_WAIT_S,
            True,
        )
    if delays[-1] <= 0:
        raise LinkSettingsError(
            "LinkSettings.reconnect_delays_s must end with a wait > 0 s: the last one repeats, and "
            f"0 would retry a lost sensor in a busy loop, got {delays!r}"
        )
    _number("acc_range_g", settings.acc_range_g, "the accelerometers' full scale, g", 0.0, 1000.0, False)
    _number("gyr_range_dps", settings.gyr_range_dps, "the gyroscopes' full scale, °/s", 0.0, 100_000.0, False)
