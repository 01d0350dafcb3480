"""Functional calibration with a forward bend, swapped sensors, and a sensor that slipped."""

import dataclasses

import numpy as np
import pytest

from sensors import Placement
from sensors import quaternion as quat
from sensors.processing import SessionSettings
from sensors.processing.angles import inclination_angles, segment_orientation
from sensors.processing.calibration import calibrate_functional
from sensors.processing.placement_check import moved_sensors
from sensors.simulator import (
    DrillOptions,
    ImuErrorSettings,
    SimulatedSensorSettings,
    SimulatedSource,
    make_drill,
)
from sensors.simulator.body import segment_quaternions
from tests.sensors.processing.runs import run_session

TWIST = quat.from_axis_angle(np.array([0.0, 0.0, 1.0]), np.radians(30.0))  # about the spine's long axis


@pytest.fixture(scope="module")
def twisted_bend_session():
    drill = make_drill("forward-bend", DrillOptions(duration_s=30, seed=3))
    settings = SimulatedSensorSettings(errors=dataclasses.replace(ImuErrorSettings(), misalignment_deg=0.0))
    source = SimulatedSource(drill, seed=3, settings=settings)
    lumbar = source.simulated[Placement.LUMBAR]
    lumbar.truth = dataclasses.replace(
        lumbar.truth, mount_q=quat.multiply(TWIST, lumbar.truth.nominal_mount_q)
    )
    sink, _ = run_session(source, SessionSettings())
    return drill, source, sink


def _frontal_error_deg(drill, angles, mount_q, during):
    k = angles.placements.index(Placement.LUMBAR)
    estimated = inclination_angles(segment_orientation(angles.orientation[:, k], mount_q))
    truth = inclination_angles(
        segment_quaternions(drill.pose(angles.time_s), drill.heading_rad)[Placement.LUMBAR]
    )
    error = np.degrees(estimated - truth)[during, 1]
    return float(np.sqrt(np.nanmean(error**2)))


def test_a_bend_corrects_a_sensor_turned_about_the_spine(twisted_bend_session):
    drill, source, sink = twisted_bend_session
    frame, angles = sink.frame, sink.all_angles
    first, later = drill.truth.repetitions[0], drill.truth.repetitions[1:]
    bend = (frame.time_s > first.start_s - 0.5) & (frame.time_s < first.end_s + 0.5)
    acc = {p: frame.acc(p)[bend & frame.valid[:, frame.index(p)]] for p in frame.placements}
    result = calibrate_functional(sink.calibration, acc, first.end_s)
    assert result.warnings == ()
    truth_mount = source.simulated[Placement.LUMBAR].truth.mount_q
    assert np.degrees(quat.angle_between(result.calibration.mount_q[Placement.LUMBAR], truth_mount)) < 2.0
    during = np.zeros(len(angles), bool)
    for rep in later:
        during |= (angles.time_s > rep.start_s) & (angles.time_s < rep.end_s)
    neutral_only = _frontal_error_deg(drill, angles, sink.calibration.mount_q[Placement.LUMBAR], during)
    functional = _frontal_error_deg(drill, angles, result.calibration.mount_q[Placement.LUMBAR], during)
    assert neutral_only > 10.0  # a 30° turn leaks half the bend into the frontal angle
    assert functional < 1.5


def test_swapped_sensors_are_reported(twisted_bend_session):
    drill, _, sink = twisted_bend_session
    frame = sink.frame
    first = drill.truth.repetitions[0]
    bend = (frame.time_s > first.start_s - 0.5) & (frame.time_s < first.end_s + 0.5) & frame.valid.all(axis=1)
    swapped = {
        Placement.LUMBAR: frame.acc(Placement.PELVIS)[bend],
        Placement.PELVIS: frame.acc(Placement.LUMBAR)[bend],
    }
    mounts = {
        Placement.LUMBAR: sink.calibration.mount_q[Placement.PELVIS],
        Placement.PELVIS: sink.calibration.mount_q[Placement.LUMBAR],
    }
    result = calibrate_functional(dataclasses.replace(sink.calibration, mount_q=mounts), swapped, first.end_s)
    assert any("swapped" in w for w in result.warnings)


def test_a_shallow_bend_keeps_the_neutral_calibration(twisted_bend_session):
    _, _, sink = twisted_bend_session
    frame = sink.frame
    still = (frame.time_s > 0.5) & (frame.time_s < 1.5)
    acc = {p: frame.acc(p)[still] for p in frame.placements}
    result = calibrate_functional(sink.calibration, acc, 1.5)
    assert len(result.warnings) == 2 and "bend forward at least" in result.warnings[0]
    for p in frame.placements:
        np.testing.assert_array_equal(result.calibration.mount_q[p], sink.calibration.mount_q[p])


def test_a_slipped_sensor_is_noticed_when_standing_again():
    t = np.arange(0, 40, 0.01)
    inclination = np.zeros((len(t), 2, 2))
    inclination[:, :, 0] += 0.3 * np.sin(2 * np.pi * 0.2 * t)[:, None]
    inclination[(t > 10) & (t < 15), :, 0] += 60.0  # bending: not judged
    inclination[t > 25, 1, 1] += 9.0  # the pelvis sensor slips sideways at 25 s
    found = moved_sensors(t, (Placement.LUMBAR, Placement.PELVIS), inclination)
    assert [m.placement for m in found] == [Placement.PELVIS]
    assert 24.0 <= found[0].time_s <= 26.0 and found[0].shift_deg == pytest.approx(9.0, abs=0.5)
    assert "slipped" in found[0].message()


@pytest.mark.parametrize("name", ["quiet-stance", "single-leg-left", "perturbations", "forward-bend", "gait"])
def test_no_false_alarm_in_standing_drills(name):
    drill = make_drill(name, DrillOptions(duration_s=40, seed=9))
    sink, _ = run_session(SimulatedSource(drill, seed=9), SessionSettings())
    angles = sink.all_angles
    assert moved_sensors(angles.time_s, angles.placements, np.degrees(angles.inclination_rad)) == []
