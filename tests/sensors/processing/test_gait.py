"""Gait from the pelvic sensor: simulator ground truth and the mobgap lower-back reference data."""

from pathlib import Path

import numpy as np
import pytest
import scipy.io

from sensors import Placement
from sensors.processing import SessionSettings
from sensors.processing.gait import gait_analysis
from sensors.processing.orientation import OrientationEstimator, OrientationSettings
from sensors.simulator import DrillOptions, SimulatedSource, make_drill
from tests.conftest import run_session

MOBGAP = Path(__file__).resolve().parents[4] / "shared" / "data" / "mobgap_lab_HA001" / "data.mat"


@pytest.fixture(scope="module")
def walk():
    drill = make_drill("gait", DrillOptions(duration_s=40, seed=2))
    sink, _ = run_session(SimulatedSource(drill, seed=2), SessionSettings())
    frame, angles = sink.frame, sink.all_angles
    truth = drill.truth
    bout = (frame.time_s > truth.walk_start_s + 1.5) & (frame.time_s < truth.walk_end_s - 1.5)
    k = frame.index(Placement.PELVIS)
    bout &= frame.valid[:, k]
    start, stop = np.flatnonzero(bout)[[0, -1]]
    part = slice(start, stop + 1)  # contiguous stretch (the radio's losses are short)
    q = angles.orientation[part, k]
    ok = np.isfinite(q).all(axis=1)
    q = np.where(ok[:, None], q, np.nan)
    # Bridge the few lost samples for this test by the nearest orientation, as a bout chooser would.
    fill = np.maximum.accumulate(np.where(ok, np.arange(len(q)), 0))
    acc = frame.acc_m_s2[part, k][fill]
    gyr = frame.gyr_rad_s[part, k][fill]
    result = gait_analysis(frame.time_s[part], q[fill], acc, gyr, sink.calibration.mount_q[Placement.PELVIS])
    return truth, result


def test_contacts_sides_and_cadence_match_the_script(walk):
    truth, r = walk
    detected = r.initial_contacts_s
    nearest = np.array([np.argmin(np.abs(truth.initial_contacts_s - t)) for t in detected])
    offsets = detected - truth.initial_contacts_s[nearest]
    assert len(np.unique(nearest)) == len(detected) >= 40
    assert np.all(np.abs(offsets) < 0.05)
    true_sides = np.array(truth.initial_contact_sides)[nearest]
    assert np.mean(np.array(r.sides) == true_sides) >= 0.95
    assert r.cadence_steps_per_min == pytest.approx(truth.cadence_steps_per_min, abs=1.0)
    assert r.right_step_time_s == pytest.approx(truth.right_step_time_s, abs=0.01)
    assert r.left_step_time_s == pytest.approx(truth.left_step_time_s, abs=0.01)
    assert r.step_time_symmetry_index_pct > 0  # the right step is the longer one
    assert r.stride_time_s == pytest.approx(truth.left_step_time_s + truth.right_step_time_s, abs=0.02)
    assert r.stride_regularity > 0.8 and r.step_regularity > 0.6


def test_pelvic_ranges_per_stride_match_the_script(walk):
    truth, r = walk
    assert np.median(r.pelvic_tilt_range_deg) == pytest.approx(truth.pelvic_tilt_range_deg, abs=1.0)
    assert np.median(r.pelvic_obliquity_range_deg) == pytest.approx(truth.pelvic_obliquity_range_deg, abs=1.0)
    assert np.median(r.pelvic_rotation_range_deg) == pytest.approx(truth.pelvic_rotation_range_deg, abs=1.5)
    assert r.harmonic_ratio_v > 1.0 and r.harmonic_ratio_ap > 1.0  # symmetric-ish, even harmonics dominate


def _mobgap_bouts():
    data = scipy.io.loadmat(MOBGAP, squeeze_me=True, struct_as_record=False)["data"].TimeMeasure1
    for test, trial in (("Test5", "Trial1"), ("Test5", "Trial2"), ("Test11", "Trial1")):
        recording = getattr(getattr(data, test), trial)
        sensor = recording.SU.LowerBack
        rate = float(sensor.Fs.Acc)
        acc = np.asarray(sensor.Acc, dtype=float) * 9.81  # g → m/s²
        gyr = np.radians(np.asarray(sensor.Gyr, dtype=float))  # deg/s → rad/s
        t = np.arange(len(acc)) / rate
        q = OrientationEstimator(OrientationSettings(rate_hz=rate)).step(gyr, acc, np.ones(len(acc), bool))
        for bout in np.atleast_1d(recording.Standards.INDIP.ContinuousWalkingPeriod):
            yield f"{test}/{trial}", t, q, acc, gyr, bout


@pytest.mark.skipif(not MOBGAP.exists(), reason=f"reference data not found at {MOBGAP}")
def test_contacts_cadence_and_sides_agree_with_the_mobgap_reference():
    """Measured 2026-11-24 against the INDIP reference: straight walking (Test5), every contact
    within 50 ms (detections lag by a median 30–40 ms), cadence 1.5–1.6 steps/min below the
    reference's mean of per-stride cadences (ours: steps per minute over the bout), sides
    89–100 % right; daily activities with turns (Test11), median lag 40–70 ms, ~80 % of contacts
    within 100 ms, cadence off by up to 11 steps/min in short bouts with turns."""
    identity = np.array([1.0, 0.0, 0.0, 0.0])  # contacts, sides and cadence do not need the mounting
    all_offsets = []
    for name, t, q, acc, gyr, bout in _mobgap_bouts():
        window = (t >= bout.Start - 0.2) & (t <= bout.End + 0.2)
        reference = np.atleast_1d(bout.InitialContact_Event).astype(float)
        sides = np.array([str(x).lower() for x in np.atleast_1d(bout.InitialContact_LeftRight)])
        r = gait_analysis(t[window], q[window], acc[window], gyr[window], identity)
        nearest = np.array([np.argmin(np.abs(r.initial_contacts_s - ic)) for ic in reference])
        offsets = r.initial_contacts_s[nearest] - reference
        all_offsets.extend(np.abs(offsets))
        if name.startswith("Test5"):
            assert np.all(np.abs(offsets) < 0.055), name
            assert np.all(offsets > 0), name  # the acceleration peak follows the contact
            assert r.cadence_steps_per_min == pytest.approx(float(np.nanmean(bout.Cadence)), abs=2.0), name
            assert np.mean(np.array(r.sides)[nearest] == sides) >= 0.85, name
    assert np.mean(np.array(all_offsets) < 0.1) > 0.75
