"""A kinematic body model: segment angles and a root trajectory → segment orientations and
sensor positions in the earth frame.

Segment angles follow the anatomical convention used throughout stabmon (rad):
pitch = sagittal inclination (flexion / forward lean positive), roll = frontal inclination (lateral
bend to the right positive), yaw = axial rotation to the left positive, composed as
R = Rz(heading + yaw)·Ry(pitch)·Rx(roll) (segment→earth). The segment frame is x anterior,
y left, z superior; standing upright facing `heading` all angles are zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors import quaternion as quat
from sensors.placements import Placement

#: Height of the hip-joint centre above the floor in upright stance, m.
HIP_HEIGHT_M = 0.92

# Lever arms, m, in the frame of the segment that carries them.
_PELVIS_SENSOR = np.array([-0.10, 0.0, 0.10])  # S1/S2 from the hip-joint centre
_LUMBOSACRAL = np.array([-0.06, 0.0, 0.12])  # L5/S1 joint from the hip-joint centre
_LUMBAR_SENSOR = np.array([-0.08, 0.0, 0.20])  # T12/L1 from L5/S1
_THORAX_SENSOR = np.array([-0.10, 0.0, 0.42])  # T3–T6 from L5/S1
_HIP_HALF_WIDTH = np.array([0.0, 0.09, 0.0])  # hip joint from the hip-joint centre (left +)
_THIGH_SENSOR = np.array([0.0, 0.07, -0.22])  # lateral mid-thigh from the hip joint (left thigh)
_KNEE = np.array([0.0, 0.0, -0.44])  # knee joint from the hip joint, in the thigh frame
_SHANK_SENSOR = np.array([0.0, 0.05, -0.18])  # lateral mid-shank from the knee (left shank)
_THIGH_OF = {Placement.LEFT_SHANK: Placement.LEFT_THIGH, Placement.RIGHT_SHANK: Placement.RIGHT_THIGH}

#: Height of the pelvic sensor (S1/S2) above the floor in upright stance, m: the length of the
#: inverted pendulum that gives stride length from it (Zijlstra & Hof 2003).
PELVIS_SENSOR_HEIGHT_M = HIP_HEIGHT_M + float(_PELVIS_SENSOR[2])


@dataclass(frozen=True)
class Pose:
    """Body pose over time.

    angles_rad: per placement (n, 3) segment angles [pitch, roll, yaw], rad; a shank's are relative
    to its thigh (the knee: pitch negative when the knee flexes), every other segment's absolute.
    root_m: (n, 3) hip-joint centre, m, in the heading frame (x forward, y left, z up).
    """

    angles_rad: dict[Placement, np.ndarray]
    root_m: np.ndarray


def segment_quaternions(
    pose: Pose, heading_rad: float, placements: tuple[Placement, ...] | None = None
) -> dict[Placement, np.ndarray]:
    """Segment→earth quaternions (n, 4) for a body facing `heading_rad` (all placements by default)."""
    out = {}
    for placement in placements or tuple(pose.angles_rad):
        angles = pose.angles_rad[placement]
        if placement in _THIGH_OF:
            angles = angles + pose.angles_rad[_THIGH_OF[placement]]
        pitch, roll, yaw = angles[:, 0], angles[:, 1], angles[:, 2]
        out[placement] = quat.from_euler_zyx(heading_rad + yaw, pitch, roll)
    return out


#: Segments whose orientation the position of each sensor depends on.
CHAIN: dict[Placement, tuple[Placement, ...]] = {
    Placement.PELVIS: (Placement.PELVIS,),
    Placement.LUMBAR: (Placement.PELVIS, Placement.LUMBAR),
    Placement.THORAX: (Placement.PELVIS, Placement.THORAX),
    Placement.LEFT_THIGH: (Placement.PELVIS, Placement.LEFT_THIGH),
    Placement.RIGHT_THIGH: (Placement.PELVIS, Placement.RIGHT_THIGH),
    Placement.LEFT_SHANK: (Placement.PELVIS, Placement.LEFT_THIGH, Placement.LEFT_SHANK),
    Placement.RIGHT_SHANK: (Placement.PELVIS, Placement.RIGHT_THIGH, Placement.RIGHT_SHANK),
}


def sensor_position(
    pose: Pose, segment_q: dict[Placement, np.ndarray], heading_rad: float, placement: Placement
) -> np.ndarray:
    """Earth-frame position (n, 3), m, of the sensor at `placement`; segment_q must hold its CHAIN."""
    heading_q = quat.from_axis_angle(np.array([0.0, 0.0, 1.0]), heading_rad)
    hip = quat.rotate(heading_q, pose.root_m)
    pelvis_q = segment_q[Placement.PELVIS]
    if placement is Placement.PELVIS:
        return hip + quat.rotate(pelvis_q, _PELVIS_SENSOR)
    if placement in (Placement.LUMBAR, Placement.THORAX):
        arm = _LUMBAR_SENSOR if placement is Placement.LUMBAR else _THORAX_SENSOR
        return hip + quat.rotate(pelvis_q, _LUMBOSACRAL) + quat.rotate(segment_q[placement], arm)
    side = 1.0 if placement in (Placement.LEFT_THIGH, Placement.LEFT_SHANK) else -1.0
    mirror = np.array([1.0, side, 1.0])
    hip_joint = hip + quat.rotate(pelvis_q, side * _HIP_HALF_WIDTH)
    if placement in _THIGH_OF:
        knee = hip_joint + quat.rotate(segment_q[_THIGH_OF[placement]], _KNEE)
        return knee + quat.rotate(segment_q[placement], _SHANK_SENSOR * mirror)
    return hip_joint + quat.rotate(segment_q[placement], _THIGH_SENSOR * mirror)


def upright_pose(n: int) -> Pose:
    """All segments upright, hip centre at standing height: the neutral calibration pose."""
    angles = {p: np.zeros((n, 3)) for p in Placement}
    root = np.zeros((n, 3))
    root[:, 2] = HIP_HEIGHT_M
    return Pose(angles, root)
