"""Cadence from the pelvis' stride cycles (benchmarks/gait_stride_cycles.py, the benchmark row
`stabmon_stride_cycles`; measured in session 9 and not adopted): known answers on synthetic
stride signals, and the row on the shared HA001 data."""

import numpy as np
import pytest

from benchmarks.gait_stride_cycles import (
    stride_cycle_cadence_steps_per_min,
    stride_cycle_times_s,
    stride_events,
    swing_scale,
    with_contact_edges,
)
from tests.shared_data import HA001, require

RATE = 100.0


def _walk_with_a_pause(stride_s: float = 1.2, pause_s: float = 2.0, noise: float = 0.05) -> np.ndarray:
    """Stride signal: 4 strides, a pause with noise crossing zero, 4 strides (whole cycles)."""
    rng = np.random.default_rng(0)
    cycle = np.sin(2 * np.pi * np.arange(round(4 * stride_s * RATE)) / (stride_s * RATE))
    pause = noise * rng.standard_normal(round(pause_s * RATE))
    return np.concatenate([cycle, pause, cycle])


def test_schmitt_trigger_times_whole_cycles_and_ignores_noise_in_a_pause():
    e = _walk_with_a_pause()
    rising, falling = stride_events(e, 0.5)
    # A sine's rising zero crossings at k · 1.2 s (the first, at 0, never had a low before it),
    # then the second walk's, 4.8 + 2.0 = 6.8 s later; the pause's noise (±0.05) makes none.
    expected_rising = np.r_[1.2, 2.4, 3.6, 6.8, 8.0, 9.2, 10.4] * RATE
    assert rising == pytest.approx(expected_rising, abs=0.2)
    assert falling == pytest.approx(np.r_[0.6, 1.8, 3.0, 4.2, 7.4, 8.6, 9.8, 11.0] * RATE, abs=0.2)
    assert stride_events(e, 0.0) == (pytest.approx([]), pytest.approx([]))  # no trigger at zero


def test_stride_times_lengthen_over_a_pause_as_indip_counts_a_slow_stride():
    e = _walk_with_a_pause()
    contacts = np.array([30, 1290])  # the contacts' span: 0.3 s to 12.9 s
    times = stride_cycle_times_s(e, RATE, contacts, scale=1.0)
    # Rising: 1.2, 2.4, 3.6 → 6.8 (3.2 s over the pause) … ; falling: 0.6 … 4.2 → 7.4 (3.2 s).
    assert sorted(np.round(times, 2)) == [1.2] * 11 + [3.2, 3.2]  # 5 + 6 whole, one per pause each
    assert stride_cycle_cadence_steps_per_min(np.full(5, 1.2)) == pytest.approx(100.0)
    assert np.isnan(stride_cycle_cadence_steps_per_min(np.array([1.2])))


def test_swing_scale_and_contact_edges():
    e = np.sin(2 * np.pi * np.arange(600) / 120.0)  # a 1.2-s stride; contacts mid-way between peaks
    assert swing_scale(e, np.array([0, 60, 120, 180])) == pytest.approx(1.0, abs=1e-3)
    edged = with_contact_edges(np.array([1.1, 1.2]), np.array([0.0, 0.7, 1.3, 1.9, 2.6, 3.4]))
    assert edged == pytest.approx([1.3, 1.1, 1.2, 1.5])  # first → third, …, third-last → last


def test_stride_cycle_row_on_ha001_straight_walks():
    """The row's contacts are stabmon's (F1, ≤ 100 ms unchanged); its cadence is worse: the yaw
    cycles between the first and last contact leave out INDIP's slow starting and stopping
    strides (Trial 1: 5 cycles for INDIP's 7 strides, +6.79 steps/min against stabmon's −0.14)."""
    require(HA001)
    from benchmarks import gait_mobgap as bench

    trial = next(t for t in bench.load_participant(HA001) if t.test == "Test5")
    rows = bench.evaluate_trial(trial, margin_s=0.5, with_mobgap=False)
    ours, cycles = rows["stabmon"][0], rows["stabmon_stride_cycles"][0]
    for key in ("detected", "paired", "within_100ms"):
        assert cycles[key] == ours[key]
    assert cycles["stride_cycles"] == 5
    assert ours["cadence_error"] == pytest.approx(-0.14, abs=0.01)
    assert cycles["cadence_error"] == pytest.approx(6.79, abs=0.01)
