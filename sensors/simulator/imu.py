"""Ideal IMU signals of a sensor mounted on a simulated body segment.

gyr = body angular velocity of the sensor (mean over the sample interval that ends at the sample,
as an IMU's anti-aliasing filter delivers it: never ahead of time; integrated as vqf does, sample
k turning the orientation at sample k − 1 into the one at k, it gives the true orientation);
acc = specific force R⁻¹(a + g·ẑ) at the sample, with a the linear acceleration of the sensor's
lever arm (mean over the sample interval centred on it) and g·ẑ gravity in ENU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors import quaternion as quat
from sensors.constants import GRAVITY_M_S2
from sensors.placements import Placement
from sensors.simulator.body import CHAIN, segment_quaternions, sensor_position
from sensors.simulator.drills.base import Drill

_FINITE_DIFFERENCE_S = 1e-4


@dataclass(frozen=True)
class IdealImu:
    """Error-free measurements at sample instants t (n,): orientation sensor→earth (n, 4),
    gyr (n, 3) rad/s and acc (n, 3) m/s² in the sensor frame."""

    t: np.ndarray
    orientation: np.ndarray
    gyr_rad_s: np.ndarray
    acc_m_s2: np.ndarray


def sensor_orientation(drill: Drill, placement: Placement, mount_q: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Sensor→earth quaternions (n, 4) at times t; mount_q (4,) is the sensor→segment rotation."""
    pose = drill.pose(t)
    segment_q = segment_quaternions(pose, drill.heading_rad, (placement,))[placement]
    return quat.multiply(segment_q, mount_q)


def ideal_imu(drill: Drill, placement: Placement, mount_q: np.ndarray, t: np.ndarray, dt: float) -> IdealImu:
    """Ideal signals of the sensor at `placement` at sample times t (n,), sample period dt s."""
    t = np.asarray(t, dtype=float)
    h = _FINITE_DIFFERENCE_S
    offsets = (0.0, -dt, -dt / 2 - h, -dt / 2 + h, dt / 2 - h, dt / 2 + h)
    times = np.concatenate([t + o for o in offsets])
    pose = drill.pose(times)
    segment_q = segment_quaternions(pose, drill.heading_rad, CHAIN[placement])
    positions = sensor_position(pose, segment_q, drill.heading_rad, placement)
    q_all = quat.multiply(segment_q[placement], mount_q)
    n = len(t)
    q_now, q_before = (q_all[k * n : (k + 1) * n] for k in range(2))
    p = [positions[k * n : (k + 1) * n] for k in range(2, 6)]
    gyr = quat.to_rotvec(quat.multiply(quat.conjugate(q_before), q_now)) / dt
    velocity_before = (p[1] - p[0]) / (2 * h)
    velocity_after = (p[3] - p[2]) / (2 * h)
    linear_acc = (velocity_after - velocity_before) / dt
    gravity = np.array([0.0, 0.0, GRAVITY_M_S2])
    acc = quat.rotate(quat.conjugate(q_now), linear_acc + gravity)
    return IdealImu(t, q_now, gyr, acc)
