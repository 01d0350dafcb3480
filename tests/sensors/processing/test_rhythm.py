"""Lumbo-pelvic rhythm against the forward-bend script's ground truth."""

import numpy as np
import pytest

from sensors import Placement
from sensors.processing import SessionSettings
from sensors.processing.angles import inclination_angles
from sensors.processing.rhythm import PROGRESS_LEVELS, bend_repetitions
from sensors.simulator import DrillOptions, SimulatedSource, make_drill
from sensors.simulator.body import segment_quaternions
from tests.sensors.processing.runs import run_session


@pytest.fixture(scope="module")
def bend_session():
    drill = make_drill("forward-bend", DrillOptions(duration_s=50, seed=5))
    sink, _ = run_session(SimulatedSource(drill, seed=5), SessionSettings())
    angles = sink.all_angles
    trunk = np.degrees(angles.inclination(Placement.LUMBAR)[:, 0])
    pelvis = np.degrees(angles.inclination(Placement.PELVIS)[:, 0])
    return drill, angles.time_s, trunk, pelvis


def _threshold_times(truth, limit=5.0):
    """The 5 °/s onset/offset rule applied to the script itself: (trunk start, trunk flexion end,
    pelvis start), s. Threshold timing trims a minimum-jerk move at both ends (~0.12 s here)."""
    t = np.arange(truth.start_s - 0.5, truth.peak_s + 0.1, 0.001)
    trunk, pelvis = truth.angles_deg(t)
    trunk_v, pelvis_v = np.gradient(trunk, t), np.gradient(pelvis, t)
    start = t[np.argmax(trunk_v >= limit)]
    end = t[np.flatnonzero((trunk_v < limit) & (t > start))[0]]
    return start, end, t[np.argmax(pelvis_v >= limit)]


def test_every_repetition_is_found_and_matches_the_script(bend_session):
    drill, t, trunk, pelvis = bend_session
    result = bend_repetitions(t, trunk, pelvis)
    truths = drill.truth.repetitions
    assert len(result.repetitions) == len(truths) >= 5
    for rep, truth in zip(result.repetitions, truths, strict=True):
        assert rep.trunk_flexion_deg == pytest.approx(truth.trunk_range_deg, abs=2.0)
        assert rep.end_range_lumbar_contribution == pytest.approx(
            truth.end_range_lumbar_contribution, abs=0.03
        )
        np.testing.assert_allclose(
            rep.contribution_curve[1:], truth.contribution_curve(PROGRESS_LEVELS[1:]), atol=0.03
        )
        assert rep.lumbar_pelvic_ratio == pytest.approx(truth.lumbar_pelvic_ratio, rel=0.1)
        start, flexion_end, pelvis_start = _threshold_times(truth)
        assert rep.start_s == pytest.approx(start, abs=0.03)
        # Laird 2019's sign (walkthrough s10 #5): negative when the pelvis starts after the trunk
        assert rep.pelvic_onset_lag_s == pytest.approx(start - pelvis_start, abs=0.03)
        assert rep.pelvic_onset_lag_s == pytest.approx(-truth.pelvis_onset_lag_s, abs=0.05)
        assert rep.flexion_duration_s == pytest.approx(flexion_end - start, abs=0.03)
        assert truth.peak_s - 0.2 <= rep.peak_s <= truth.return_start_s + 0.2  # somewhere in the hold
        assert rep.trunk_peak_velocity_deg_s == pytest.approx(truth.trunk_peak_velocity_deg_s, rel=0.05)
        assert rep.pelvic_peak_velocity_deg_s == pytest.approx(truth.pelvis_peak_velocity_deg_s, rel=0.05)
        assert rep.duration_s == pytest.approx(truth.end_s - truth.start_s, abs=0.35)


def test_coordination_matches_the_same_analysis_of_the_true_motion(bend_session):
    drill, t, trunk, pelvis = bend_session
    q = segment_quaternions(drill.pose(t), drill.heading_rad)
    true_trunk = np.degrees(inclination_angles(q[Placement.LUMBAR])[:, 0])
    true_pelvis = np.degrees(inclination_angles(q[Placement.PELVIS])[:, 0])
    measured = bend_repetitions(t, trunk, pelvis)
    truth = bend_repetitions(t, true_trunk, true_pelvis)
    for m, r in zip(measured.repetitions, truth.repetitions, strict=True):
        assert m.marp_deg == pytest.approx(r.marp_deg, abs=3.0)
        assert 5.0 < r.marp_deg < 60.0  # the pelvis lags: segments are not in phase
    assert measured.deviation_phase_deg == pytest.approx(truth.deviation_phase_deg, abs=3.0)


def test_quiet_standing_has_no_repetitions():
    t = np.arange(0, 20, 0.01)
    sway = 0.5 * np.sin(2 * np.pi * 0.3 * t)
    result = bend_repetitions(t, sway, 0.5 * sway)
    assert result.repetitions == () and np.isnan(result.deviation_phase_deg)


def test_indexed_movement_search_equals_the_scan_at_every_index():
    from sensors.processing.movement import movement_end, movement_start
    from sensors.processing.rhythm_keys import Crossings

    rng = np.random.default_rng(7)
    v = np.cumsum(rng.normal(0, 3, 400))
    v[rng.random(400) < 0.05] = np.nan  # gaps are neither slow nor fast
    every = np.arange(len(v))
    for limit in (-5.0, 0.0, 5.0, 40.0, 1e9, -1e9):  # the last two: none fast, none slow
        for trace in (v, -v):
            crossings = Crossings(trace, limit)
            starts, ends = crossings.start(every), crossings.end(every)  # all at once
            for i in range(len(trace)):
                assert starts[i] == movement_start(trace, i, limit), (limit, i)
                assert ends[i] == movement_end(trace, i, limit), (limit, i)


def test_median_and_nanpercentile_equal_numpys_bit_for_bit():
    from sensors.processing.rhythm import _median, _nanpercentile

    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 4, 5, 10, 11, 1001):
        for k in range(30):
            x = rng.normal(size=n) * 10 ** rng.uniform(-4, 4) + rng.uniform(-90, 90)
            if k % 3 == 0:
                x = np.round(x, 1)  # ties
            assert _median(x) == float(np.median(x)), (n, k)
            assert _median(x.copy(), scratch=True) == float(np.median(x)), (n, k)
            x[rng.random(n) < 0.2] = np.nan
            before = x.copy()
            for q in (0.0, 10.0, 50.0, 77.7, 100.0):
                if np.isnan(x).all():
                    assert np.isnan(_nanpercentile(x, q))
                else:
                    assert _nanpercentile(x, q) == float(np.nanpercentile(x, q)), (n, k, q)
                assert np.array_equal(x, before, equal_nan=True)  # the caller's values untouched
