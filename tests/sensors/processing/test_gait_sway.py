"""Missed steps counted from the body's ML sway half-cycles (benchmarks/gait_sway_steps.py, the
benchmark row `stabmon_sway`; measured in session 9 and not adopted): known answers on a
synthetic sway, and the row on the shared HA001 data."""

import numpy as np
import pytest

from benchmarks.gait_sway_steps import (
    fill_swayed_steps,
    half_cycles_per_step,
    sway_cadence_steps_per_min,
)
from sensors.processing.errors import ProcessingError
from sensors.processing.step_parameters import bout_cadence_steps_per_min, fill_missed_steps
from tests.shared_data import HA001, require

RATE = 100.0
START_S = -0.5  # the evidence starts half a second before the first contact (the bout margin)


def _sway(time_s: np.ndarray) -> np.ndarray:
    """ML sway of 0.5-s steps: a 1-Hz sine, zero at each contact, its extremes at mid-stance."""
    return np.sin(2 * np.pi * time_s)


def _index(contacts_s: np.ndarray) -> np.ndarray:
    return np.round((np.asarray(contacts_s) - START_S) * RATE).astype(int)


def test_two_missed_steps_the_sides_alternate_across_are_counted_from_the_sway():
    time = np.arange(START_S, 3.5, 1 / RATE)
    e = _sway(time)
    contacts = np.arange(0.0, 3.01, 0.5)  # a short bout at 120 steps/min, sides L R L R …
    sides = ["left", "right"] * 3 + ["left"]
    missed = np.delete(contacts, [3, 4])  # 1.5 s from a left to a right: the labels still alternate
    missed_sides = [s for j, s in enumerate(sides) if j not in (3, 4)]
    half_cycles = half_cycles_per_step(e, _index(missed))
    assert half_cycles.tolist() == [1, 1, 3, 1]  # one per step, three in the gap
    assert fill_missed_steps(missed, missed_sides)[0] == pytest.approx(missed)  # session 7 cannot see it
    filled, filled_sides = fill_swayed_steps(missed, missed_sides, half_cycles)
    assert filled == pytest.approx(contacts) and filled_sides == tuple(sides)
    for trusted in (False, True):
        # Strides 1.0, 2.0, 2.0 s: the miss spoils two of three, which no filter can clean.
        assert bout_cadence_steps_per_min(missed, missed_sides, trusted) == pytest.approx(80.0)
        assert sway_cadence_steps_per_min(missed, missed_sides, trusted, half_cycles) == pytest.approx(120.0)


def test_a_pause_holds_one_half_cycle_and_is_kept_and_session_7s_fill_still_applies():
    rng = np.random.default_rng(0)
    time = np.arange(START_S, 7.0, 1 / RATE)
    still = (time > 2.0) & (time < 3.0)  # standing still for 1 s after the contact at 2.0 s
    e = np.where(still, 0.05 * rng.standard_normal(len(time)), _sway(np.where(time >= 3.0, time - 1.0, time)))
    contacts = np.r_[np.arange(0.0, 2.01, 0.5), np.arange(3.5, 5.51, 0.5)]  # 2.0 → 3.5: a pause and a step
    sides = ["left", "right"] * 5
    half_cycles = half_cycles_per_step(e, _index(contacts))
    assert half_cycles[4] == 1  # the pause's noise makes no half-cycle; the step after it one
    assert fill_swayed_steps(contacts, sides, half_cycles)[0] == pytest.approx(contacts)
    same_side = np.delete(np.arange(0.0, 5.01, 0.5), 4)  # a right, [left missed], a right
    same_sides = [s for j, s in enumerate(["left", "right"] * 5 + ["left"]) if j != 4]
    ones = np.ones(len(same_side) - 1, dtype=int)
    assert fill_swayed_steps(same_side, same_sides, ones)[0] == pytest.approx(np.arange(0.0, 5.01, 0.5))
    with pytest.raises(ProcessingError, match="10 contacts but 3 sway intervals"):
        fill_swayed_steps(contacts, sides, half_cycles[:3])


def test_sway_row_on_ha001_daily_activity():
    """The row's contacts are stabmon's (F1, ≤ 100 ms unchanged); the sway finds the step stabmon
    misses at 49.10 s in bout 2 (cadence −5.43 → +0.28) and leaves every other bout as it was."""
    require(HA001)
    from benchmarks import gait_mobgap as bench

    trial = next(t for t in bench.load_participant(HA001) if t.test == "Test11")
    rows = bench.evaluate_trial(trial, margin_s=0.5, with_mobgap=False)
    for ours, sway in zip(rows["stabmon"], rows["stabmon_sway"], strict=True):
        for key in ("detected", "paired", "within_100ms"):
            assert sway[key] == ours[key]
    before = [r["cadence_error"] for r in rows["stabmon"]]
    after = [r["cadence_error"] for r in rows["stabmon_sway"]]
    assert before == pytest.approx([-0.26, 4.91, -5.43, 6.22, 1.36, -4.40], abs=0.01)
    assert after == pytest.approx([-0.26, 4.91, 0.28, 6.22, 1.36, -4.40], abs=0.01)
    assert rows["stabmon_sway"][2]["sway_half_cycles"][14] == 2  # 48.66 → 49.67 s
