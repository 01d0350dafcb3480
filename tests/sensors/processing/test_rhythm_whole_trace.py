"""The bend search over the whole trace at once gives exactly what the search peak by peak gave
(rhythm_per_peak.py, the session-4 code): the same repetitions, every measure bit for bit, on
long traces with noise, lost samples and gaps at key instants, on the simulator's bends, and on
traces made to have ties; and its numpy helpers (sensors/processing/segmented.py) equal numpy's
own functions applied slice by slice."""

import itertools
from dataclasses import fields

import numpy as np
import pytest

from sensors.processing import segmented
from sensors.processing.rhythm import RhythmSettings, bend_repetitions
from sensors.processing.rhythm_keys import measurable
from sensors.processing.runs import true_runs
from tests.sensors.processing.rhythm_per_peak import bend_repetitions as per_peak


def _assert_same(whole, reference):
    assert whole.skipped_for_gaps == reference.skipped_for_gaps
    assert len(whole.repetitions) == len(reference.repetitions)
    np.testing.assert_array_equal(whole.deviation_phase_deg, reference.deviation_phase_deg)
    for k, (a, b) in enumerate(zip(whole.repetitions, reference.repetitions, strict=True)):
        for field in fields(a):
            np.testing.assert_array_equal(getattr(a, field.name), getattr(b, field.name), f"{k} {field.name}")


def _bends(minutes: float, rate_hz: float, seed: int, lose: float, even_time: bool = False):
    """Trunk and pelvis traces (deg) of forward bends every 5–9 s with sway, noise and lost
    samples (NaN, single and in runs up to 0.4 s)."""
    rng = np.random.default_rng(seed)
    n = int(minutes * 60 * rate_hz)
    t = np.arange(n) / rate_hz + (0.0 if even_time else 12.3)
    trunk = 2 * np.sin(2 * np.pi * 0.2 * t) + rng.normal(0, 0.3, n)
    pelvis = 0.5 * trunk + rng.normal(0, 0.2, n)
    at = 3.0
    while at < t[-1] - t[0] - 8:
        depth, down, hold, up = (
            rng.uniform(40, 110),
            rng.uniform(1, 2.5),
            rng.uniform(0, 1.5),
            rng.uniform(1, 2.5),
        )
        u = t - t[0] - at
        rise = np.clip(u / down, 0, 1)
        fall = np.clip((u - down - hold) / up, 0, 1)
        shape = (10 * rise**3 - 15 * rise**4 + 6 * rise**5) - (10 * fall**3 - 15 * fall**4 + 6 * fall**5)
        trunk += depth * shape
        pelvis += depth * rng.uniform(0.4, 0.6) * shape
        at += down + hold + up + rng.uniform(1, 3)
    lost = rng.random(n) < lose
    for start in rng.integers(0, n, int(lose * n / 20)):
        lost[start : start + rng.integers(1, int(0.4 * rate_hz))] = True
    trunk[lost] = np.nan
    pelvis[lost & (rng.random(n) < 0.5)] = np.nan
    return t, trunk, pelvis


@pytest.mark.parametrize(
    ("minutes", "rate_hz", "seed", "lose"),
    [(20, 200.0, 1, 0.002), (10, 100.0, 2, 0.0), (10, 100.0, 3, 0.02), (5, 50.0, 4, 0.01)],
)
def test_whole_trace_search_equals_the_search_peak_by_peak(minutes, rate_hz, seed, lose):
    t, trunk, pelvis = _bends(minutes, rate_hz, seed, lose)
    whole = bend_repetitions(t, trunk, pelvis)
    assert len(whole.repetitions) > 20 * minutes / 10
    if lose:
        assert whole.skipped_for_gaps > 0  # the gap rules were exercised
    _assert_same(whole, per_peak(t, trunk, pelvis))


def test_equal_with_other_settings_evenly_spaced_times_and_ties():
    t, trunk, pelvis = _bends(4, 64.0, 5, 0.01, even_time=True)  # steps exactly 1/64 s: numpy's even formula
    coarse = np.round(trunk, 0)  # many equal values: ties in the flexion's progress
    for settings in (RhythmSettings(), RhythmSettings(min_range_deg=60, max_gap_s=0.05, key_margin_s=0.2)):
        _assert_same(bend_repetitions(t, trunk, pelvis, settings), per_peak(t, trunk, pelvis, settings))
        _assert_same(bend_repetitions(t, coarse, pelvis, settings), per_peak(t, coarse, pelvis, settings))


def test_no_bends_and_a_recording_that_ends_bent_over():
    t = np.arange(0, 30, 0.01)
    flat = np.zeros_like(t)
    _assert_same(bend_repetitions(t, flat, flat), per_peak(t, flat, flat))
    bent = np.clip((t - 20) * 40, 0, 90)  # never comes back up
    _assert_same(bend_repetitions(t, bent, 0.5 * bent), per_peak(t, bent, 0.5 * bent))


def test_segmented_functions_equal_numpys_slice_by_slice():
    rng = np.random.default_rng(11)
    lengths = rng.integers(2, 300, 60)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    x = np.cumsum(rng.uniform(0.001, 0.02, bounds[-1]))
    x[bounds[5] : bounds[6]] = np.arange(lengths[5]) / 128.0  # one evenly spaced slice
    values = np.cumsum(rng.normal(0, 1, bounds[-1]))
    grad = segmented.gradient(values, x, bounds)
    curves = segmented.interp(
        np.linspace(-0.1, 1.2, 41), x - np.repeat(x[bounds[:-1]], lengths), values, bounds
    )
    means = segmented.means(values, bounds)
    for r, (a, b) in enumerate(itertools.pairwise(bounds)):
        np.testing.assert_array_equal(grad[a:b], np.gradient(values[a:b], x[a:b]), f"gradient {r}")
        local = x[a:b] - x[a]
        np.testing.assert_array_equal(curves[r], np.interp(np.linspace(-0.1, 1.2, 41), local, values[a:b]))
        assert means[r] == np.mean(values[a:b])
    index, ranges = segmented.concatenated_ranges(np.array([5, 0, 9]), np.array([8, 0, 11]))
    assert index.tolist() == [5, 6, 7, 9, 10] and ranges.tolist() == [0, 3, 3, 5]


def test_measurable_equals_the_rule_per_repetition():
    rng = np.random.default_rng(4)
    finite = rng.random(3000) > 0.03
    for start in rng.integers(0, 3000, 40):
        finite[start : start + rng.integers(1, 40)] = False
    first = np.sort(rng.integers(0, 2900, 300))
    last = first + rng.integers(0, 100, 300)
    keys = (first, last, (first + last) // 2)
    got = measurable(finite, first, last, keys, max_gap=12.5, margin=3)
    for r in range(len(first)):
        missing = ~finite[first[r] : last[r] + 1]
        longest = max((b - a for a, b in true_runs(missing)), default=0)
        near = all(finite[max(k[r] - 3, 0) : k[r] + 4].all() for k in keys)
        assert got[r] == (longest <= 12.5 and near), r
