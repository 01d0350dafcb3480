"""The batched clock mapping and buffer times against the live `ClockSync` and `Synchronizer`
buffer, block by block, on streams made to hit their rare paths."""

import itertools

import numpy as np
import pytest

from sensors.processing.batch_clock import map_clock
from sensors.processing.batch_sync import monotonic_times
from sensors.processing.clock_sync import ClockSync, ClockSyncSettings, polyfit_slopes
from sensors.processing.synchronizer import _Buffer

ORIGIN_NS = 5_000_000_000


def _stream(seconds: float, rate: float, seed: int, reset_at_s: float | None = None):
    """Device times (n,), host stamps (n,) ns and block sizes (k,) of one sensor: 4-sample
    notifications, a drifting clock, random latency; optionally the device clock restarts."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate) // 4 * 4
    true_s = np.arange(n) / rate
    device = 1000.0 + true_s * (1 + 40e-6)
    if reset_at_s is not None:
        device[true_s >= reset_at_s] -= 900.0  # the sensor rebooted: its clock starts again
    arrival = true_s[3::4] + 0.004 + rng.exponential(0.003, n // 4)
    arrival = np.maximum.accumulate(arrival)
    host = ORIGIN_NS + np.repeat(np.round(arrival * 1e9).astype(np.int64), 4)
    rows = rng.choice([4, 8], size=n // 4)  # blocks of one or two notifications
    rows = rows[np.cumsum(rows) <= n]
    rows = np.append(rows, n - rows.sum()) if rows.sum() < n else rows
    return device, host, rows


def _stepwise(device, host, rows, settings=None):
    clock = ClockSync(ORIGIN_NS, settings)
    bounds = np.concatenate([[0], np.cumsum(rows)])
    return np.concatenate([clock.step(device[a:b], host[a:b]) for a, b in itertools.pairwise(bounds)]), clock


@pytest.mark.parametrize(
    ("seconds", "reset_at_s", "settings"),
    [
        (40.0, None, ClockSyncSettings()),
        (40.0, None, ClockSyncSettings(window_bins=12)),  # the window slides: fits of one length
        (30.0, 17.3, ClockSyncSettings()),  # device time goes back: block by block instead
    ],
)
def test_batched_clock_mapping_equals_the_live_mapping_bit_for_bit(seconds, reset_at_s, settings):
    device, host, rows = _stream(seconds, 100.0, seed=2, reset_at_s=reset_at_s)
    live, live_clock = _stepwise(device, host, rows, settings)
    batched, clock = map_clock(device, host, rows, ORIGIN_NS, settings)
    np.testing.assert_array_equal(batched, live)
    assert clock.drift_ppm == live_clock.drift_ppm and clock.latency_s == live_clock.latency_s
    if reset_at_s is None and settings.window_bins == 900:
        assert abs(clock.drift_ppm - 40.0) < 5.0  # a realistic stream: the fit finds the drift


def test_polyfit_slopes_are_numpy_polyfit_s():
    rng = np.random.default_rng(3)
    for m in (3, 17, 899):
        x = np.cumsum(rng.random((6, m)) + 0.5, axis=1) + 300.0
        y = 1e-3 * rng.standard_normal((6, m)) + 2e-5 * x
        assert polyfit_slopes(x, y).tolist() == [np.polyfit(a, b, 1)[0] for a, b in zip(x, y, strict=True)]


def test_buffer_times_follow_the_live_rule_where_a_refit_steps_back():
    rng = np.random.default_rng(4)
    rows = rng.integers(1, 6, 400)
    times = np.arange(rows.sum()) * 0.01
    starts = np.concatenate([[0], np.cumsum(rows)[:-1]])
    for b in rng.choice(np.arange(1, 400), 40, replace=False):  # some blocks start behind
        times[starts[b] :] -= rng.choice([0.0, 5e-8, 0.02, 0.3])
    buffer = _Buffer()
    for a, r in zip(starts, rows, strict=True):
        buffer.append(times[a : a + r], np.arange(r), np.zeros((r, 3)), np.zeros((r, 3)))
    np.testing.assert_array_equal(monotonic_times(times, rows), buffer.t)
