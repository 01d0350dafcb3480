"""Simulated sensors: deterministic, chunk-invariant, and their clock, radio and errors as configured."""

import asyncio
import time

import numpy as np
import pytest

from sensors import Placement, SampleBlock
from sensors import quaternion as quat
from sensors.simulator import (
    ClockSettings,
    DrillOptions,
    ImuErrorSettings,
    RadioSettings,
    SimulatedSensor,
    SimulatedSensorSettings,
    SimulatedSource,
    ideal_imu,
    make_drill,
)


def _sensor(settings, drill="quiet-stance", seed=0, duration_s=20.0, placement=Placement.PELVIS):
    d = make_drill(drill, DrillOptions(duration_s=duration_s, seed=seed))
    return SimulatedSensor(d, placement, settings, np.random.SeedSequence(seed))


def _generate(sensor, chunk_s):
    blocks, t = [], 0.0
    while t < sensor.drill.duration_s:
        t += chunk_s
        block = sensor.generate_until(t, host_origin_ns=1_000)
        if block is not None:
            blocks.append(block)
    return blocks


def _joined(blocks, name):
    return np.concatenate([getattr(b, name) for b in blocks])


LOSSY = SimulatedSensorSettings(radio=RadioSettings(burst_start_probability=0.02, mean_burst_packets=4))


def test_same_seed_same_data_and_chunking_does_not_matter():
    whole = _generate(_sensor(LOSSY, seed=7), chunk_s=100.0)
    chunked = _generate(_sensor(LOSSY, seed=7), chunk_s=0.13)
    other = _generate(_sensor(LOSSY, seed=8), chunk_s=100.0)
    for name in ("device_time_s", "acc_m_s2", "gyr_rad_s", "sequence", "host_receive_ns"):
        np.testing.assert_array_equal(_joined(whole, name), _joined(chunked, name))
    assert not np.array_equal(_joined(whole, "acc_m_s2")[:100], _joined(other, "acc_m_s2")[:100])


def test_simulating_ahead_hands_out_the_same_samples_at_the_same_calls():
    """A real-time sender simulates ahead (`ahead_s`) and is handed, call by call, exactly the
    samples (bit for bit) it would have got without: whole packets due by each call's time."""
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.uniform(0.0, 0.04, 800))  # ~16 s in uneven steps, some repeated
    plain, ahead = _sensor(LOSSY, seed=7), _sensor(LOSSY, seed=7)
    handed, most_ahead = 0, 0
    for t in times:
        expected = plain.generate_until(float(t), 1_000)
        got = ahead.generate_until(float(t), 1_000, ahead_s=0.25)
        most_ahead = max(most_ahead, ahead._next_sample - plain._next_sample)
        assert (expected is None) == (got is None), t
        if expected is None:
            continue
        handed += len(got)
        for name in ("device_time_s", "acc_m_s2", "gyr_rad_s", "sequence", "host_receive_ns"):
            np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))
    assert handed > 1000
    assert most_ahead >= 20  # it did simulate ahead (0.2 s at 100 Hz)


def test_device_clock_runs_with_the_set_offset_and_drift():
    settings = SimulatedSensorSettings(clock=ClockSettings(offset_s=1234.5, drift_ppm=50.0))
    sensor = _sensor(settings, duration_s=60.0)
    blocks = _generate(sensor, 1.0)
    device = _joined(blocks, "device_time_s")
    true = sensor.truth.sample_true_time(_joined(blocks, "sequence"))
    slope, intercept = np.polyfit(true, device, 1)
    assert (slope - 1) * 1e6 == pytest.approx(50.0, abs=1e-3)
    assert intercept == pytest.approx(1234.5, abs=1e-6)
    # The sensor samples uniformly on its own clock.
    np.testing.assert_allclose(np.diff(device), 0.01, atol=1e-9)


def test_lost_packets_are_whole_bursts_and_accounted_for():
    sensor = _sensor(LOSSY, duration_s=60.0)
    blocks = _generate(sensor, 0.5)
    delivered = _joined(blocks, "sequence")
    lost = sensor.all_lost_sequences()
    assert len(lost) > 0
    assert np.intersect1d(delivered, lost).size == 0
    everything = np.sort(np.concatenate([delivered, lost]))
    np.testing.assert_array_equal(everything, np.arange(len(everything)))
    spp = LOSSY.radio.samples_per_packet
    assert len(lost) % spp == 0 and np.all(lost[::spp] % spp == 0)  # whole packets
    # Gilbert–Elliott: stationary loss = p / (p + 1/L) ≈ 7.4 % for p = 0.02, L = 4.
    assert len(lost) / len(everything) == pytest.approx(0.02 / (0.02 + 0.25), abs=0.03)


def test_notifications_arrive_in_order_after_their_last_sample():
    radio = RadioSettings(samples_per_packet=5, connection_interval_s=0.015, jitter_mean_s=0.004)
    sensor = _sensor(SimulatedSensorSettings(radio=radio, clock=ClockSettings()), duration_s=30.0)
    blocks = _generate(sensor, 0.25)
    host_s = (_joined(blocks, "host_receive_ns") - 1_000) * 1e-9
    true = sensor.truth.sample_true_time(_joined(blocks, "sequence"))
    assert np.all(np.diff(host_s) >= 0)
    last_of_packet = true[4::5]
    delay = host_s[4::5] - last_of_packet
    assert delay.min() >= radio.processing_s - 1e-9
    # Waiting for a connection event costs up to one interval; jitter adds an exponential tail.
    assert np.median(delay) < radio.processing_s + radio.connection_interval_s + 3 * radio.jitter_mean_s
    assert len(np.unique(host_s[0:5])) == 1  # one notification, one stamp


def test_bias_scale_and_clipping_are_applied():
    errors = ImuErrorSettings(
        misalignment_deg=0.0,
        gyr_noise_rad_s_per_rthz=0.0,
        acc_noise_m_s2_per_rthz=0.0,
        gyr_bias_rad_s=0.02,
        acc_bias_m_s2=0.1,
        gyr_bias_walk_rad_s_per_rts=0.0,
        acc_bias_walk_m_s2_per_rts=0.0,
        gyr_scale_error=0.01,
        acc_scale_error=0.01,
    )
    settings = SimulatedSensorSettings(errors=errors, clock=ClockSettings(), radio=RadioSettings.perfect())
    sensor = _sensor(settings, drill="forward-bend", duration_s=30.0)
    block = sensor.generate_until(30.0, 0)
    t = sensor.truth.sample_true_time(block.sequence)
    ideal = ideal_imu(sensor.drill, sensor.placement, sensor.truth.mount_q, t, 0.01)
    draw = sensor.truth.errors
    np.testing.assert_allclose(
        block.gyr_rad_s, ideal.gyr_rad_s * draw.gyr_scale + draw.gyr_bias_rad_s, atol=1e-12
    )
    np.testing.assert_allclose(
        block.acc_m_s2, ideal.acc_m_s2 * draw.acc_scale + draw.acc_bias_m_s2, atol=1e-12
    )

    clipped = ImuErrorSettings.ideal()
    clipped = ImuErrorSettings(**{**clipped.__dict__, "gyr_range_rad_s": 0.5, "acc_range_m_s2": 9.0})
    sensor = _sensor(
        SimulatedSensorSettings(errors=clipped, radio=RadioSettings.perfect()), drill="forward-bend"
    )
    block = sensor.generate_until(20.0, 0)
    assert np.abs(block.gyr_rad_s).max() == pytest.approx(0.5)
    assert np.abs(block.acc_m_s2).max() == pytest.approx(9.0)


def test_misalignment_stays_within_its_setting():
    for seed in range(10):
        sensor = _sensor(SimulatedSensorSettings(errors=ImuErrorSettings(misalignment_deg=8.0)), seed=seed)
        angle = np.degrees(quat.angle_between(sensor.truth.mount_q, sensor.truth.nominal_mount_q))
        assert 4.0 - 1e-9 <= angle <= 8.0 + 1e-9


async def _collect(source):
    await source.start()
    items = []
    async for item in source.stream():
        items.append((time.monotonic_ns(), item))
    await source.stop()
    return source.host_origin_ns, items


def test_real_time_source_never_delivers_early_and_matches_fast_mode():
    drill = make_drill("quiet-stance", DrillOptions(duration_s=1.5, calibration_s=1.0, seed=2))
    origin, realtime_items = asyncio.run(_collect(SimulatedSource(drill, seed=2, realtime=True)))
    _, fast_items = asyncio.run(_collect(SimulatedSource(drill, seed=2)))
    blocks = [(at, item) for at, item in realtime_items if isinstance(item, SampleBlock)]
    assert blocks
    for delivered_at, block in blocks:
        assert delivered_at >= block.host_receive_ns[-1] - origin + origin  # not before its stamp
    for placement in (Placement.LUMBAR, Placement.PELVIS):
        rt = [b for _, b in blocks if b.placement is placement]
        fast = [b for _, b in fast_items if isinstance(b, SampleBlock) and b.placement is placement]
        np.testing.assert_array_equal(_joined(rt, "acc_m_s2"), _joined(fast, "acc_m_s2"))
        rt_offsets = _joined(rt, "host_receive_ns") - origin
        assert len(rt) > len(fast)  # one block per notification when paced
        assert rt_offsets[0] > 0
