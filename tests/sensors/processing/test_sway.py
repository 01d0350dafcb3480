"""Sway measures: analytic traces and simulator ground truth."""

import numpy as np
import pytest

from sensors import Placement
from sensors.processing import SessionSettings
from sensors.processing.angles import segment_frame
from sensors.processing.errors import ProcessingError
from sensors.processing.filters import LowPassSettings, lowpass_zero_phase
from sensors.processing.sway import CHI2_95_2DOF, sway_measures
from sensors.simulator import DrillOptions, SimulatedSource, ideal_imu, make_drill
from tests.sensors.processing.runs import run_session

RATE = 100.0


def _t(seconds=60.0):
    return np.arange(0, seconds, 1 / RATE)


def test_a_still_sensor_has_no_sway():
    m = sway_measures(np.full(1000, 3.0), np.full(1000, -1.0), RATE)
    assert m.rms == m.range == m.path_length == m.jerk == m.ellipse_area_95 == 0.0
    assert np.isnan(m.spectrum_ap.centroid_hz) and np.isnan(m.mean_frequency_hz)


def test_a_pure_sinusoid_gives_its_known_measures():
    amplitude, freq = 2.0, 0.5
    t = _t()
    ap = amplitude * np.sin(2 * np.pi * freq * t)
    m = sway_measures(ap, np.zeros_like(t), RATE)
    assert m.rms_ap == pytest.approx(amplitude / np.sqrt(2), rel=1e-3)
    assert m.rms_ml == 0.0 and m.ellipse_area_95 == pytest.approx(0.0, abs=1e-12)
    assert m.range_ap == pytest.approx(2 * amplitude, rel=1e-3)
    assert m.mean_distance == pytest.approx(2 * amplitude / np.pi, rel=1e-3)
    assert m.path_length == pytest.approx(4 * amplitude * freq * 60, rel=1e-3)
    assert m.mean_velocity == pytest.approx(4 * amplitude * freq, rel=1e-3)
    assert m.mean_frequency_hz == pytest.approx(freq, rel=1e-3)
    assert m.jerk == pytest.approx(0.5 * amplitude**2 * (2 * np.pi * freq) ** 2 * 60 / 2, rel=1e-3)
    assert m.spectrum_ap.f50_hz == pytest.approx(freq, abs=0.05)
    assert m.spectrum_ap.centroid_hz == pytest.approx(freq, abs=0.05)
    assert m.spectrum_ap.dispersion < 0.15


def test_a_circle_has_constant_distance_and_the_ellipse_of_its_covariance():
    radius, freq = 1.5, 0.25
    t = _t()
    m = sway_measures(radius * np.cos(2 * np.pi * freq * t), radius * np.sin(2 * np.pi * freq * t), RATE)
    assert m.mean_distance == pytest.approx(radius, rel=1e-6) and m.rms == pytest.approx(radius, rel=1e-6)
    assert m.ellipse_area_95 == pytest.approx(np.pi * CHI2_95_2DOF * radius**2 / 2, rel=1e-2)
    assert m.mean_frequency_hz == pytest.approx(freq, rel=1e-3)


def test_acceleration_mean_velocity_integrates():
    freq, amplitude = 0.5, 0.2  # acceleration amplitude, m/s²
    t = _t()
    m = sway_measures(amplitude * np.cos(2 * np.pi * freq * t), np.zeros_like(t), RATE, acceleration=True)
    velocity_amplitude = amplitude / (2 * np.pi * freq)
    assert m.mean_velocity == pytest.approx(2 / np.pi * velocity_amplitude, rel=0.02)


def test_bad_input_is_refused():
    with pytest.raises(ProcessingError, match="equal shape"):
        sway_measures(np.zeros(10), np.zeros(11), RATE)
    with pytest.raises(ProcessingError, match="two valid samples"):
        sway_measures(np.full(10, np.nan), np.zeros(10), RATE)


def _trunk_acceleration_sway(dual_task_factor):
    """ISway on the lumbar sensor's AP/ML acceleration in the calibrated segment frame, from a
    real session, and the same from the simulator's error-free signals on the true mounting."""
    drill = make_drill(
        "quiet-stance", DrillOptions(duration_s=65, seed=21, dual_task_factor=dual_task_factor)
    )
    source = SimulatedSource(drill, seed=21)
    sink, _ = run_session(source, SessionSettings())
    frame = sink.frame
    start = drill.truth.task_start_s
    task = (frame.time_s >= start) & frame.valid[:, 0]
    settings = LowPassSettings(RATE, 3.5)
    mount = sink.calibration.mount_q[Placement.LUMBAR]
    measured = segment_frame(lowpass_zero_phase(frame.acc(Placement.LUMBAR)[task], settings), mount)
    truth_sensor = source.simulated[Placement.LUMBAR].truth
    ideal = ideal_imu(drill, Placement.LUMBAR, truth_sensor.mount_q, frame.time_s[task], 1 / RATE)
    true_acc = segment_frame(lowpass_zero_phase(ideal.acc_m_s2, settings), truth_sensor.mount_q)
    return (
        sway_measures(measured[:, 0], measured[:, 1], RATE, acceleration=True),
        sway_measures(true_acc[:, 0], true_acc[:, 1], RATE, acceleration=True),
    )


def test_quiet_stance_isway_recovers_the_simulated_sway_and_the_dual_task_cost():
    single, single_truth = _trunk_acceleration_sway(1.0)
    dual, dual_truth = _trunk_acceleration_sway(1.5)
    for measured, truth in ((single, single_truth), (dual, dual_truth)):
        assert measured.rms_ap == pytest.approx(truth.rms_ap, rel=0.1)
        assert measured.rms_ml == pytest.approx(truth.rms_ml, rel=0.1)
        assert measured.jerk == pytest.approx(truth.jerk, rel=0.2)
        assert measured.spectrum_ap.centroid_hz == pytest.approx(truth.spectrum_ap.centroid_hz, rel=0.1)
    # g·sin(θ) dominates: acceleration RMS ≈ g × the scripted trunk sway, in rad.
    assert dual.rms_ap / single.rms_ap == pytest.approx(1.5, rel=0.1)
    assert dual.ellipse_area_95 / single.ellipse_area_95 == pytest.approx(1.5**2, rel=0.2)


def test_live_measures_in_random_chunks_equal_one_call_and_stay_bounded():
    from sensors.processing.live_measures import LiveMeasures

    drill = make_drill("perturbations", DrillOptions(duration_s=40, seed=3))
    sink, _ = run_session(SimulatedSource(drill, seed=3), SessionSettings())
    frame, angles, calibration = sink.frame, sink.all_angles, sink.calibration
    whole_measures, whole_events = LiveMeasures(frame.placements).step(frame, angles, calibration)
    live = LiveMeasures(frame.placements)
    rng = np.random.default_rng(2)
    bounds = np.sort(rng.choice(np.arange(1, len(frame)), 80, replace=False))
    measures, events = [], []
    for a, b in zip([0, *bounds], [*bounds, len(frame)], strict=True):
        piece = frame.rows(a, b)
        part = angles.rows(a, b)
        m, e = live.step(piece, part, calibration)
        measures += m
        events += e
        assert live.buffered_samples <= 1000  # 10 s at 100 Hz, whatever the block size
    assert [m.time_s for m in measures] == [m.time_s for m in whole_measures]
    assert [m.trunk_angle_sway.rms_ap for m in measures] == [
        m.trunk_angle_sway.rms_ap for m in whole_measures
    ]
    assert [e.time_s for e in events] == [e.time_s for e in whole_events]
    # The live detector finds the same pushes as the offline one, and the session passed them on.
    truth = np.array([p.instant_s for p in drill.truth.perturbations])
    np.testing.assert_allclose([e.time_s for e in events], truth, atol=0.02)
    assert [e.time_s for e in sink.events if e.source == "pipeline" and e.kind.value == "perturbation"] == [
        e.time_s for e in events
    ]
    # Every second, the sway of the last 10 s equals the offline measure on the same samples.
    last = measures[-1]
    window = (angles.time_s > last.time_s - 10.0) & (angles.time_s <= last.time_s)
    offline = sway_measures(*np.degrees(angles.inclination(Placement.LUMBAR)[window]).T, RATE)
    assert last.trunk_angle_sway.rms_ap == pytest.approx(offline.rms_ap, rel=1e-9)
    assert len(sink.measures) == len(measures)


def test_confidence_ellipse_encloses_the_stated_area_and_95_percent():
    from sensors.processing.sway import confidence_ellipse

    rng = np.random.default_rng(5)
    ap = rng.normal(0.0, 2.0, 20000)
    ml = 0.5 * ap + rng.normal(0.0, 1.0, 20000)
    outline = confidence_ellipse(ap, ml, points=2000)
    x, y = outline[:, 0], outline[:, 1]
    shoelace = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
    assert shoelace == pytest.approx(sway_measures(ap, ml, 100.0).ellipse_area_95, rel=1e-3)
    from matplotlib.path import Path as Outline

    inside = Outline(outline).contains_points(np.stack([ml, ap], axis=1))
    assert inside.mean() == pytest.approx(0.95, abs=0.01)
