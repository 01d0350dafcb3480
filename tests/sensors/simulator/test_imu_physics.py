"""The simulator's IMU signals obey the physics they claim: gyro integrates to the orientation,
the accelerometer measures gravity plus lever-arm acceleration."""

import numpy as np
import pytest

from sensors import Placement
from sensors import quaternion as quat
from sensors.constants import GRAVITY_M_S2
from sensors.placements import nominal_mount
from sensors.simulator import DRILL_NAMES, DrillOptions, ideal_imu, make_drill, sensor_orientation
from sensors.simulator.body import Pose
from sensors.simulator.drills.base import Drill

RATE_HZ = 200.0


def _mount(placement, seed=0):
    misalignment = quat.from_rotvec(np.random.default_rng(seed).normal(0, 0.1, 3))
    return quat.multiply(misalignment, quat.from_matrix(nominal_mount(placement)))


@pytest.mark.parametrize(
    ("name", "placement"),
    [(name, (Placement.LUMBAR, Placement.PELVIS)[k % 2]) for k, name in enumerate(DRILL_NAMES)],
)
def test_gyroscope_integrates_back_to_the_true_orientation(name, placement):
    drill = make_drill(name, DrillOptions(seed=5))
    dt = 1 / 100.0
    t = np.arange(0, drill.duration_s, dt)
    mount = _mount(placement)
    imu = ideal_imu(drill, placement, mount, t, dt)
    # Strapdown integration of body-frame rates from the true start orientation, as vqf does it:
    # sample k turns the orientation at sample k - 1 into the one at sample k.
    steps = quat.from_rotvec(imu.gyr_rad_s * dt)
    q = np.empty((len(t), 4))
    q[0] = imu.orientation[0]
    for k in range(1, len(t)):
        q[k] = quat.multiply(q[k - 1], steps[k])
    error_deg = np.degrees(quat.angle_between(q, imu.orientation))
    # Each gyro sample is the mean rate over the interval that ends at it (as a real IMU's filter
    # delivers it: never ahead of time), so the integral is the true orientation at every sample.
    # (A rate centred on its sample put every integrated angle half a sample, 5 ms, ahead of the
    # truth, and perturbation onsets with it: walkthrough s11 #11.)
    assert error_deg.max() <= 1e-3


@pytest.mark.parametrize("name", DRILL_NAMES)
def test_accelerometer_points_to_gravity_while_standing_still(name):
    drill = make_drill(name, DrillOptions(seed=2))
    placement = Placement.LUMBAR
    mount = _mount(placement, seed=3)
    t = np.arange(0.5, drill.options.calibration_s, 1 / RATE_HZ)
    imu = ideal_imu(drill, placement, mount, t, 1 / RATE_HZ)
    acc_earth = quat.rotate(imu.orientation, imu.acc_m_s2)
    # Quiet sway adds a few cm/s² of pendulum acceleration at most.
    np.testing.assert_allclose(acc_earth.mean(axis=0), [0, 0, GRAVITY_M_S2], atol=0.03)
    np.testing.assert_allclose(np.linalg.norm(imu.acc_m_s2, axis=1), GRAVITY_M_S2, atol=0.1)


class _SpinInPlace(Drill):
    """Whole body turning about the vertical through the hip centre at a constant rate."""

    rate_rad_s = 2.0

    def _script(self, pose: Pose, t: np.ndarray) -> None:
        for angles in pose.angles_rad.values():
            angles[:, 2] += self.rate_rad_s * t

    @property
    def truth(self):
        return None


def test_lever_arm_gives_the_centripetal_acceleration():
    drill = _SpinInPlace("spin", DrillOptions(duration_s=10.0, seed=0))
    placement = Placement.LUMBAR
    mount = quat.from_matrix(nominal_mount(placement))
    dt = 1 / RATE_HZ
    imu = ideal_imu(drill, placement, mount, np.arange(1.0, 5.0, dt), dt)
    omega = drill.rate_rad_s
    radius = 0.06 + 0.08  # L5/S1 and T12/L1 lever arms behind the hip centre, m
    acc_segment = quat.rotate(mount, imu.acc_m_s2)
    gyr_segment = quat.rotate(mount, imu.gyr_rad_s)
    np.testing.assert_allclose(gyr_segment, np.tile([0, 0, omega], (len(imu.t), 1)), atol=1e-9)
    # Centripetal acceleration ω²r points from the sensor (behind the axis) forward to the axis.
    np.testing.assert_allclose(
        acc_segment, np.tile([omega**2 * radius, 0, GRAVITY_M_S2], (len(imu.t), 1)), atol=1e-3
    )


def test_sensor_orientation_matches_ideal_imu():
    drill = make_drill("forward-bend", DrillOptions(seed=1))
    mount = _mount(Placement.PELVIS)
    t = np.linspace(5, 9, 50)
    np.testing.assert_allclose(
        sensor_orientation(drill, Placement.PELVIS, mount, t),
        ideal_imu(drill, Placement.PELVIS, mount, t, 0.01).orientation,
    )


@pytest.mark.parametrize("name", ["gait", "sit-to-stand"])
def test_shank_sensors_follow_the_knee(name):
    """Shank angles are relative to the thigh: the gyro still integrates to the shank orientation,
    a seated shank stays upright under a horizontal thigh, and gait flexes the knee in swing."""
    drill = make_drill(name, DrillOptions(seed=4))
    dt = 1 / 100.0
    t = np.arange(0, drill.duration_s, dt)
    shank = ideal_imu(drill, Placement.LEFT_SHANK, _mount(Placement.LEFT_SHANK), t, dt)
    steps = quat.from_rotvec(shank.gyr_rad_s * dt)
    q = shank.orientation[0]
    for k in range(1, len(t)):
        q = quat.multiply(q, steps[k - 1])
    bound = np.degrees(np.max(np.linalg.norm(shank.gyr_rad_s, axis=1)) * dt) + 1e-3
    assert np.degrees(quat.angle_between(q, shank.orientation[-1])) <= bound
    thigh = ideal_imu(drill, Placement.LEFT_THIGH, _mount(Placement.LEFT_THIGH), t, dt)
    # Angle between the limb axes (sensor x runs along the limb) is the knee flexion.
    along = np.array([1.0, 0.0, 0.0])
    shank_axis = quat.rotate(
        shank.orientation,
        np.tile(quat.rotate(quat.conjugate(_mount(Placement.LEFT_SHANK)), along), (len(t), 1)),
    )
    thigh_axis = quat.rotate(
        thigh.orientation,
        np.tile(quat.rotate(quat.conjugate(_mount(Placement.LEFT_THIGH)), along), (len(t), 1)),
    )
    knee_deg = np.degrees(np.arccos(np.clip(np.sum(shank_axis * thigh_axis, axis=1), -1, 1)))
    if name == "sit-to-stand":
        assert knee_deg[:50].max() < 1.0  # upright calibration: straight knee
        assert knee_deg.max() == pytest.approx(90.0, abs=1.0)  # seated
    else:
        assert 55.0 < knee_deg.max() < 65.0  # mid-swing
