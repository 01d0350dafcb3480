"""Bounds that hold whatever the data say: the clock fit never follows a device-clock jump, the
synchroniser never allocates a grid beyond the time that passed, loss counts never exceed what
time allows and never wrap."""

import numpy as np
import pytest

from recordings.schema import LOST_BEFORE_MAX, lost_before
from sensors.health import HealthTracker
from sensors.placements import Placement
from sensors.processing.clock_sync import ClockSync
from sensors.processing.synchronizer import Synchronizer, SynchronizerSettings
from sensors.samples import SampleBlock

RATE = 100.0


def _notifications(device_s: np.ndarray, host_s: np.ndarray, latency_s: float = 0.02) -> list:
    """Blocks of 4 samples with device times (n,) s sampled at host times (n,) s, each block
    received latency_s after its last sample."""
    out = []
    for k in range(0, len(device_s), 4):
        d, h = device_s[k : k + 4], host_s[k : k + 4]
        out.append((d, np.full(len(d), round((h[-1] + latency_s) * 1e9), dtype=np.int64)))
    return out


@pytest.mark.parametrize("jump_s", [2.0**40, -50.0, 7.0])
def test_the_clock_fit_starts_again_at_a_device_clock_jump(jump_s):
    host_s = np.arange(0, 20.0, 1 / RATE)
    device = host_s + 3.0  # the device started 3 s before the host's origin
    device[1000:] += jump_s  # at 10 s the device clock jumps
    clock = ClockSync(host_origin_ns=0)
    session = np.concatenate([clock.step(d, h) for d, h in _notifications(device, host_s)])
    # Session time stays the host's (within the latency), before and after the jump.
    np.testing.assert_allclose(session, host_s, atol=0.03)
    assert clock.restarts == 1


def test_data_that_only_arrive_late_do_not_restart_the_fit():
    host_s = np.arange(0, 20.0, 1 / RATE)
    notifications = _notifications(host_s + 3.0, host_s)
    for k in range(250, 260):  # a sensor flushing 8 s of buffered data at once
        d, h = notifications[k]
        notifications[k] = (d, h + 8_000_000_000)
    clock = ClockSync(host_origin_ns=0)
    session = np.concatenate([clock.step(d, h) for d, h in notifications])
    np.testing.assert_allclose(session, host_s, atol=0.03)
    assert clock.restarts == 0


def test_the_clock_fit_maps_non_finite_device_times_to_finite_session_times():
    host_s = np.arange(0, 2.0, 1 / RATE)
    device = host_s.copy()
    device[50:54] = np.nan
    clock = ClockSync(host_origin_ns=0)
    session = np.concatenate([clock.step(d, h) for d, h in _notifications(device, host_s)])
    assert np.all(np.isfinite(session))


def test_the_final_flush_never_allocates_a_grid_past_the_time_pulled():
    sync = Synchronizer((Placement.LUMBAR,), SynchronizerSettings(rate_hz=RATE))
    t = np.arange(0, 1.0, 1 / RATE)
    zeros = np.zeros((len(t), 3))
    sync.push(Placement.LUMBAR, t, np.arange(len(t)), zeros, zeros)
    frames = [sync.pull(1.0)]
    # A sample mapped 2^40 s ahead (a device clock that jumped in an old recording). Before: the
    # flush allocated a grid of 10^14 points (MemoryError).
    sync.push(Placement.LUMBAR, np.array([2.0**40]), np.array([len(t)]), np.zeros((1, 3)), np.zeros((1, 3)))
    frames.append(sync.pull(1.02))
    frames.append(sync.flush())
    emitted = sum(len(f) for f in frames if f is not None)
    assert emitted <= (1.02 + sync.settings.longest_wait_s) * RATE + 1


def test_a_loss_count_is_bounded_by_the_host_time_that_passed():
    tracker = HealthTracker(Placement.PELVIS, rate_hz=RATE)

    def block(first: int, host_s: float) -> SampleBlock:
        n = 4
        return SampleBlock(
            Placement.PELVIS,
            np.arange(n) / RATE + host_s,
            np.zeros((n, 3)),
            np.zeros((n, 3)),
            first + np.arange(n),
            np.full(n, round(host_s * 1e9), dtype=np.int64),
        )

    tracker.update(block(0, 0.04))
    tracker.update(block(2**31 + 4, 0.08))  # a corrupt counter 40 ms later
    # At most (0.04 s + loss_slack_s) of samples, not 2^31; the loss share stays ≤ 100 %.
    assert 0 < tracker.samples_lost <= (0.04 + 2.0) * RATE + 1
    assert 0 <= tracker.snapshot(80_000_000).loss_fraction <= 1.0


def test_lost_before_saturates_instead_of_wrapping():
    # Before: int32 wrapped a 2^31 jump to −2^31.
    lost = lost_before(np.array([0, 1, 2**31 + 2, 2**31 + 3, 2**62, -(2**62)]))
    assert lost.tolist() == [0, 0, LOST_BEFORE_MAX, 0, LOST_BEFORE_MAX, 0]
    assert lost_before(np.array([10, 11, 14]), previous=5).tolist() == [4, 0, 2]


def test_lost_before_of_a_notification_sized_block_sees_every_gap():
    """Short counters (≤ 16, one notification's) take a shortcut when nothing was lost; a gap
    anywhere in them, or after `previous`, still counts."""
    assert lost_before(np.arange(6, 22), previous=5).tolist() == [0] * 16
    assert lost_before(np.arange(6, 22)).tolist() == [0] * 16
    assert lost_before(np.arange(6, 22), previous=3).tolist() == [2] + [0] * 15
    late_gap = np.r_[np.arange(6, 21), 30]
    assert lost_before(late_gap, previous=5).tolist() == [0] * 15 + [9]  # 21 … 29
    assert lost_before(np.array([7, 7]), previous=6).tolist() == [0, 0]  # a repeat is no loss
