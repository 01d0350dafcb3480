"""Heading-free segment inclination angles, and the lumbar angle.

For a segment orientation q (segment→earth), the vertical expressed in the segment frame is
g = R(q)ᵀ·ẑ = (gx, gy, gz) with x anterior, y left, z superior. Then
  sagittal inclination = atan2(−gx, gz)            flexion / forward lean positive, range ±180°
  frontal inclination  = atan2(gy, √(gx² + gz²))   lateral bend to the right positive, ±90°
Both are independent of heading, so they need no magnetometer. For a pure forward lean by θ the
sagittal angle is θ; for a pure lateral bend by φ the frontal angle is φ. The sagittal angle is
undefined when the segment lies on its side (gx = gz = 0, e.g. side plank).
Lumbar angle = trunk (lumbar sensor) − pelvis, per plane (validated for sensors at T12 and S2).
"""

from __future__ import annotations

import numpy as np

from sensors import quaternion as quat

SAGITTAL, FRONTAL = 0, 1


def inclination_angles(segment_q: np.ndarray) -> np.ndarray:
    """(..., 2) [sagittal, frontal] inclination, rad, of segment→earth quaternions (..., 4)."""
    g = segment_vertical(segment_q)
    gx, gy, gz = g[..., 0], g[..., 1], g[..., 2]
    return np.stack([np.arctan2(-gx, gz), np.arctan2(gy, np.hypot(gx, gz))], axis=-1)


def wrap_angle(angle_rad: np.ndarray) -> np.ndarray:
    """Angles wrapped into (−π, π]."""
    return np.pi - np.mod(np.pi - np.asarray(angle_rad), 2 * np.pi)


def lumbar_angles(trunk_rad: np.ndarray, pelvis_rad: np.ndarray) -> np.ndarray:
    """Lumbar angles (..., k) = trunk − pelvis angles (..., k), rad, wrapped into (−π, π]."""
    return wrap_angle(np.asarray(trunk_rad) - np.asarray(pelvis_rad))


def segment_frame(vectors: np.ndarray, mount_q: np.ndarray) -> np.ndarray:
    """Sensor-frame vectors (..., 3) expressed in the segment frame (x AP, y ML, z SI), given the
    sensor→segment calibration quaternion (4,). Used for accelerometer-based sway (ISway), where
    the AP/ML specific force carries g·sin(inclination) plus linear acceleration."""
    return quat.rotate(np.asarray(mount_q, dtype=float), np.asarray(vectors, dtype=float))


def segment_orientation(sensor_q: np.ndarray, mount_q: np.ndarray) -> np.ndarray:
    """Segment→earth quaternions (..., 4) from sensor→earth (..., 4) and sensor→segment (4,)."""
    return quat.multiply(sensor_q, quat.conjugate(mount_q))


def tilt_from_reference_deg(segment_q: np.ndarray, reference_vertical: np.ndarray) -> np.ndarray:
    """Tilt of a segment away from a reference posture, (n, 2) deg.

    reference_vertical (3,) is the earth's vertical seen in the segment frame while the posture is
    held; the two components are the tilt of the current vertical about two axes perpendicular to
    it, so |tilt| is the angle between them. Well defined in any posture (also lying on the side,
    where the sagittal angle is not)."""
    g = segment_vertical(segment_q)
    ref = np.asarray(reference_vertical, dtype=float) / np.linalg.norm(reference_vertical)
    helper = np.array([1.0, 0.0, 0.0]) if abs(ref[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u1 = np.cross(ref, helper)
    u1 /= np.linalg.norm(u1)
    u2 = np.cross(ref, u1)
    along = g @ ref
    return np.degrees(np.stack([np.arctan2(g @ u1, along), np.arctan2(g @ u2, along)], axis=-1))


def segment_vertical(segment_q: np.ndarray) -> np.ndarray:
    """The earth's vertical expressed in the segment frame, (..., 3), for quaternions (..., 4)."""
    up = np.array([0.0, 0.0, 1.0])
    return quat.rotate(quat.conjugate(segment_q), np.broadcast_to(up, (*np.shape(segment_q)[:-1], 3)))


def heading_of(segment_q: np.ndarray, axis: int) -> np.ndarray:
    """Heading (...), rad, of a segment axis (0 x, 1 y, 2 z) projected on the horizontal plane,
    counter-clockwise from the earth's x axis seen from above."""
    unit = np.zeros(3)
    unit[axis] = 1.0
    direction = quat.rotate(segment_q, np.broadcast_to(unit, (*np.shape(segment_q)[:-1], 3)))
    return np.arctan2(direction[..., 1], direction[..., 0])
