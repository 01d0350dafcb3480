"""Device clocks mapped to session time: drift removed, offset down to the radio's latency floor."""

import numpy as np
import pytest

from sensors import Placement
from sensors.processing.clock_sync import ClockSync
from sensors.simulator import (
    ClockSettings,
    DrillOptions,
    RadioSettings,
    SimulatedSensor,
    SimulatedSensorSettings,
    make_drill,
)

TEN_MINUTES_S = 600.0


def _map_whole_session(drift_ppm, radio, seed=0, placement=Placement.PELVIS, seconds=TEN_MINUTES_S):
    drill = make_drill("quiet-stance", DrillOptions(duration_s=seconds, seed=seed))
    settings = SimulatedSensorSettings(clock=ClockSettings(offset_s=777.0, drift_ppm=drift_ppm), radio=radio)
    sensor = SimulatedSensor(drill, placement, settings, np.random.SeedSequence(seed))
    clock = ClockSync(host_origin_ns=0)
    mapped, true, t = [], [], 0.0
    while t < seconds:
        t += 0.5
        block = sensor.generate_until(t, 0)
        if block is None:
            continue
        mapped.append(clock.step(block.device_time_s, block.host_receive_ns))
        true.append(sensor.truth.sample_true_time(block.sequence))
    return clock, np.concatenate(mapped), np.concatenate(true)


@pytest.mark.parametrize("drift_ppm", [50.0, -50.0])
def test_ten_minutes_of_50_ppm_drift_map_to_within_2_ms(drift_ppm):
    radio = RadioSettings(burst_start_probability=0.01)
    clock, mapped, true = _map_whole_session(drift_ppm, radio)
    error_ms = (mapped - true) * 1e3
    # Uncorrected, the device clock would be 30 ms off after ten minutes.
    assert abs(drift_ppm) * 1e-6 * TEN_MINUTES_S * 1e3 == pytest.approx(30.0)
    late = true > TEN_MINUTES_S - 60
    # The mapping sits on the lower envelope: the fastest notifications' delay, ≥ processing time.
    assert np.all(error_ms[late] > 0) and np.all(error_ms[late] < 2.0)
    assert np.ptp(error_ms[true > 60]) < 2.0
    assert clock.drift_ppm == pytest.approx(drift_ppm, abs=1.0)


def test_mapping_errors_of_two_sensors_agree_far_inside_one_sample():
    radio = RadioSettings()
    _, mapped_a, true_a = _map_whole_session(40.0, radio, seed=1, placement=Placement.LUMBAR, seconds=240)
    _, mapped_b, true_b = _map_whole_session(-35.0, radio, seed=2, placement=Placement.PELVIS, seconds=240)
    late_a, late_b = true_a > 120, true_b > 120
    offset_a = np.median(mapped_a[late_a] - true_a[late_a])
    offset_b = np.median(mapped_b[late_b] - true_b[late_b])
    assert abs(offset_a - offset_b) < 0.002  # vs 0.010 s sample period


def test_empty_input_and_reset():
    clock = ClockSync(0)
    assert clock.step(np.zeros(0), np.zeros(0, dtype=np.int64)).shape == (0,)
    clock.step(np.array([5.0, 5.01]), np.array([1_000_000, 1_000_000]))
    clock.reset()
    assert not clock.state.minima


def test_a_backlog_at_the_start_neither_pins_the_drift_nor_shifts_the_mapping():
    """The first 3 s of notifications queue and arrive together (a host busy at the start): their
    bins' minima lie far above the others and are left out of the drift fit (before, the fit was
    pinned at its +300 ppm limit for minutes), so drift and mapping are those of a clean stream."""
    radio = RadioSettings(start_backlog_s=3.0)
    clock, mapped, true = _map_whole_session(40.0, radio, seed=3, seconds=60.0)
    assert clock.drift_ppm == pytest.approx(40.0, abs=15.0) and not clock.at_limit
    error_ms = (mapped - true) * 1e3
    assert np.all(np.abs(error_ms[true > 30.0]) < 2.0)


def test_a_clock_beyond_any_crystal_is_fitted_at_the_limit_and_says_so():
    clock, _, _ = _map_whole_session(900.0, RadioSettings(), seed=4, seconds=30.0)
    assert clock.at_limit and clock.drift_ppm == pytest.approx(300.0, abs=0.1)
    honest, _, _ = _map_whole_session(-60.0, RadioSettings(), seed=4, seconds=30.0)
    assert not honest.at_limit
