"""Forward bends: the back sensors' turn on the skin from the first bend, so that the frontal angles
stay the simulated ones at 100° of flexion (walk-measures s10 #14: lumbar frontal SD 4°, range
10° for a side bend of ±0.6°)."""

import dataclasses

import numpy as np
import pytest

from sensors import Placement
from sensors import quaternion as quat
from sensors.processing import SessionSettings
from sensors.processing.angles import inclination_angles
from sensors.processing.orientation_axes import FlexionAxis, FlexionAxisSettings
from sensors.processing.pipeline import AngleBlock, SegmentAnglePipeline
from sensors.simulator import DrillOptions, SimulatedSource, make_drill
from sensors.simulator.body import segment_quaternions
from tests.sensors.processing.runs import run_session

SEED = 2  # the lumbar sensor sits 7° round the spine from where its nominal mounting says


@pytest.fixture(scope="module")
def bends():
    drill = make_drill("forward-bend", DrillOptions(duration_s=30, seed=SEED))
    source = SimulatedSource(drill, seed=SEED)
    settings = SessionSettings(drill="forward-bend")
    sink, _ = run_session(source, settings)
    return drill, source, sink, settings


def _truth_deg(drill, time_s):
    q = segment_quaternions(drill.pose(time_s), drill.heading_rad)
    return {p: np.degrees(inclination_angles(q[p])) for p in (Placement.LUMBAR, Placement.PELVIS)}


def _rms(x):
    return float(np.sqrt(np.nanmean(x**2)))


def test_frontal_angles_of_every_bend_follow_the_truth(bends):
    drill, _, sink, _ = bends
    angles = sink.all_angles
    calibrated = angles.time_s > sink.calibration.time_s
    truth = _truth_deg(drill, angles.time_s[calibrated])
    for placement, true in truth.items():
        measured = np.degrees(angles.inclination(placement)[calibrated])
        assert _rms(measured[:, 1] - true[:, 1]) < 1.0, placement
        sagittal = np.nanmax(measured[:, 0]) - np.nanmin(measured[:, 0])
        assert sagittal == pytest.approx(np.ptp(true[:, 0]), abs=2.5), placement
    lumbar = np.degrees(angles.lumbar_rad[calibrated, 1])
    true_lumbar = truth[Placement.LUMBAR][:, 1] - truth[Placement.PELVIS][:, 1]
    assert _rms(lumbar - true_lumbar) < 1.0
    # The one step is where the early axis is taken, 12° into the first bend: sin(12°)·sin(7°).
    assert np.nanstd(lumbar) < 0.6 and np.nanmax(lumbar) - np.nanmin(lumbar) < np.ptp(true_lumbar) + 2.5


def test_the_first_bend_finds_the_mount_the_neutral_capture_cannot_see(bends):
    drill, source, sink, settings = bends
    pipeline = SegmentAnglePipeline(sink.frame.placements, settings.pipeline)
    pipeline.step(sink.frame)
    assert pipeline.calibration is not None
    for placement in (Placement.LUMBAR, Placement.PELVIS):
        true_mount = source.simulated[placement].truth.mount_q
        neutral = np.degrees(quat.angle_between(pipeline.calibration.mount_q[placement], true_mount))
        refined = np.degrees(quat.angle_between(pipeline.mount_q[placement], true_mount))
        assert refined < 1.0 and (placement is Placement.PELVIS or neutral > 5.0), (
            placement,
            neutral,
            refined,
        )
    # Found early in the first bend (the frontal angle moves by sin(tilt)·sin(turn) there).
    first = drill.truth.repetitions[0]
    axial = np.degrees(sink.all_angles.axial_rad)
    assert np.nanmax(np.abs(np.diff(axial, axis=0))) < 0.2  # the axial rotation stays continuous
    assert first.start_s < first.peak_s


def test_the_refinement_in_random_chunks_equals_one_call(bends):
    _, _, sink, settings = bends
    frame = sink.frame
    whole = SegmentAnglePipeline(frame.placements, settings.pipeline).step(frame)
    chunked = SegmentAnglePipeline(frame.placements, settings.pipeline)
    bounds = np.sort(np.random.default_rng(3).choice(np.arange(1, len(frame)), 70, replace=False))
    parts = [chunked.step(frame.rows(a, b)) for a, b in zip([0, *bounds], [*bounds, len(frame)], strict=True)]
    joined = AngleBlock.concatenate(parts)
    for name in ("orientation", "inclination_rad", "axial_rad", "angular_velocity_rad_s", "lumbar_rad"):
        np.testing.assert_array_equal(getattr(joined, name), getattr(whole, name), err_msg=name)


def test_only_forward_bends_refine_the_mount(bends):
    _, _, sink, settings = bends
    assert settings.pipeline.flexion_axis == FlexionAxisSettings()
    assert SessionSettings(drill="sit-to-stand").pipeline.flexion_axis is None
    assert SessionSettings(drill="quiet-stance").pipeline.flexion_axis is None
    off = dataclasses.replace(settings.pipeline, flexion_axis=None)
    pipeline = SegmentAnglePipeline(sink.frame.placements, off)
    pipeline.step(sink.frame)
    assert pipeline.calibration is not None
    for placement, mount in pipeline.calibration.mount_q.items():
        np.testing.assert_array_equal(pipeline.mount_q[placement], mount)


def test_turning_round_is_not_a_bend_and_an_extension_gives_the_same_axis():
    nominal = quat.from_axis_angle(np.array([1.0, 0.0, 0.0]), 0.0)  # sensor axes = segment axes
    rate, n = 100.0, 100
    turning = FlexionAxis(nominal, rate, FlexionAxisSettings())
    turn = np.tile([0.0, 0.0, np.radians(60.0)], (n, 1))  # 60° about the vertical
    assert turning.step(turn, np.ones(n, bool)) == [] and turning.mount_q is None
    twist = np.radians(6.0)
    axis = np.array([-np.sin(twist), np.cos(twist), 0.0])  # ML axis of a sensor turned 6° round
    for sign in (1.0, -1.0):  # a flexion first, or an extension
        finder = FlexionAxis(nominal, rate, FlexionAxisSettings())
        slow = np.tile(sign * np.radians(15.0) * axis, (n, 1))  # slower than min_rate_deg_s
        assert finder.step(slow, np.ones(n, bool)) == []
        down = np.tile(sign * np.radians(40.0) * axis, (n, 1))  # 40° down, then up again
        ((row, early),) = finder.step(down, np.ones(n, bool))
        assert row in (24, 25)  # 10° at 0.4° a sample
        ((end, final),) = finder.step(np.concatenate([-down, down]), np.ones(2 * n, bool))
        assert end in (75, 76) and finder.final  # back under 10° after the 40°
        assert finder.step(down, np.ones(n, bool)) == []  # one bend sets it
        for mount in (early, final):
            segment_y = quat.rotate(quat.conjugate(mount), np.array([0.0, 1.0, 0.0]))
            np.testing.assert_allclose(segment_y, axis, atol=1e-12)
