"""The hip joints' acceleration from a pelvic sensor (benchmarks/gait_hip.py, the benchmark row
`stabmon_hip`; rule 5b, measured in session 10 and not adopted): a rigid body's known answer."""

import numpy as np
import pytest

from benchmarks.gait_hip import HIP_OFFSET_M, hip_acceleration
from sensors import quaternion as quat

RATE = 1000.0
# Mobilise-D's sensor frame (x superior, y right, z anterior) → segment (x anterior, y left, z superior)
MOUNT = quat.from_matrix(np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]]))


def _bend(translate: bool) -> tuple[np.ndarray, ...]:
    """A forward bend and return about the hip joints (pitch 0 → 60° → 0 as 30°·(1 − cos), 0.5 Hz),
    the hips fixed or (translate) moving forward 0.2 m·sin(2π·0.7 t): time (n,), sensor→earth
    orientation (n, 4), the sensor's gravity-free earth acceleration (n, 3), its gyroscope (n, 3)
    in the sensor frame, and the hips' true acceleration (n, 3)."""
    t = np.arange(0.0, 2.0, 1.0 / RATE)
    w = 2 * np.pi * 0.5
    pitch = np.radians(30.0) * (1 - np.cos(w * t))
    pitch_rate = np.radians(30.0) * w * np.sin(w * t)
    segment_q = quat.from_axis_angle(np.array([0.0, 1.0, 0.0]), pitch)  # about the left axis: forward
    sensor_q = quat.multiply(segment_q, MOUNT)
    hips = np.zeros((len(t), 3))
    if translate:
        hips[:, 0] = 0.2 * np.sin(2 * np.pi * 0.7 * t)
    sensor = hips + quat.rotate(segment_q, -np.array(HIP_OFFSET_M))  # hip → sensor
    acc = np.gradient(np.gradient(sensor, t, axis=0), t, axis=0)
    hips_acc = np.gradient(np.gradient(hips, t, axis=0), t, axis=0)
    gyr = quat.rotate(quat.conjugate(MOUNT), np.stack([0 * t, pitch_rate, 0 * t], axis=1))
    return t, sensor_q, acc, gyr, hips_acc


@pytest.mark.parametrize("translate", [False, True])
def test_the_hips_acceleration_is_the_sensors_without_the_pelvis_rotation(translate):
    t, sensor_q, acc, gyr, hips_acc = _bend(translate)
    inner = slice(50, -50)  # np.gradient's and the Gaussian's edges
    assert np.abs(acc[inner] - hips_acc[inner]).max() > 0.3  # the bend moves the sensor (m/s²)
    hip = hip_acceleration(t, sensor_q, acc, gyr, MOUNT, HIP_OFFSET_M, smoothing_s=0.005)
    assert np.abs(hip[inner] - hips_acc[inner]).max() < 0.01
    # the lever arm taken the wrong way round (sensor frame = segment frame) misses it
    wrong = hip_acceleration(t, sensor_q, acc, gyr, np.array([1.0, 0, 0, 0]), HIP_OFFSET_M, smoothing_s=0.005)
    assert np.abs(wrong[inner] - hips_acc[inner]).max() > 0.1
