"""Simulated holds last as long as real ones (published endurance times), and the simulated
clinician presses E when the position is lost."""

import math

import numpy as np
import pytest

from sensors.events import EventKind
from sensors.simulator import DrillOptions, make_drill
from sensors.simulator.drills.holds import HOLD_TIME_NORMS, MIN_HOLD_S


@pytest.mark.parametrize("name", list(HOLD_TIME_NORMS))
def test_hold_times_follow_the_published_norms(name):
    norm = HOLD_TIME_NORMS[name]
    held = np.array([make_drill(name, DrillOptions(seed=seed)).truth.held_s for seed in range(400)])
    assert held.min() >= MIN_HOLD_S
    # Truncation at MIN_HOLD_S moves the mean up a little; 400 draws: SE ≈ SD/20.
    assert np.mean(held) == pytest.approx(norm.mean_s, abs=0.15 * norm.sd_s + 2.0)
    assert np.std(held) == pytest.approx(norm.sd_s, rel=0.2)
    free = held[held > MIN_HOLD_S]
    assert len(np.unique(free)) == len(free)  # every seed its own patient


def test_without_a_set_duration_the_recording_runs_until_e_and_a_little_after():
    drill = make_drill("plank", DrillOptions(seed=4))
    truth = drill.truth
    assert truth.lost
    assert truth.fail_time_s + 0.3 <= truth.key_end_s <= truth.fail_time_s + 0.8
    assert drill.duration_s == pytest.approx(truth.fail_time_s + truth.loss_s + drill.after_loss_s)
    ends = [e for e in drill.events() if e.kind is EventKind.HOLD_END]
    assert [e.time_s for e in ends] == [truth.key_end_s] and ends[0].label == "position lost"
    assert not [e for e in drill.events() if e.kind is EventKind.HOLD_START]  # detected, not keyed


def test_biering_sorensen_stops_at_240_s_not_lost():
    long = next(
        d
        for d in (make_drill("biering-sorensen", DrillOptions(seed=s)) for s in range(200))
        if d.truth.held_s > 240
    )
    assert long.duration_s == pytest.approx(long.hold_start_s + 240.0)
    assert not long.truth.lost and math.isnan(long.truth.key_end_s)
    assert not [e for e in long.events() if e.kind is EventKind.HOLD_END]


def test_a_set_duration_shorter_than_the_hold_censors_it():
    drill = make_drill("side-plank-left", DrillOptions(duration_s=20, seed=1), held_s=60.0)
    assert drill.duration_s == 20 and not drill.truth.lost and math.isnan(drill.truth.key_end_s)
