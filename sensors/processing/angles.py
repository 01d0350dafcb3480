"""Heading-free segment inclination angles, and the lumbar angle.

For a segment orientation q (segment→earth), the vertical expressed in the segment frame is
g = R(q)ᵀ·ẑ = (gx, gy, gz) with x anterior, y left, z superior. Then
  sagittal inclination = atan2(−gx, gz)            flexion / forward lean positive, range ±180°
  frontal inclination  = atan2(gy, √(gx² + gz²))   lateral bend to the right positive, ±90°
Both are independent of heading, so they need no magnetometer. For a pure forward lean by θ the
sagittal angle is θ; for a pure lateral bend by φ the frontal angle is φ. The sagittal angle is
undefined when the segment lies on its side (gx = gz = 0, e.g. side plank). Both hold at any
flexion for the segment's true axes; what mixes a deep bend into the frontal angle is a sensor
turned on the skin, which a standing calibration cannot see (`orientation_axes`: forward bends
find it from their first bend).
Lumbar angle = trunk (lumbar sensor) − pelvis, per plane (validated for sensors at T12 and S2).

Holds and lying drills (plank, side plank, bird-dog, bridge, Biering-Sørensen) use a second
definition, `AngleDefinition.HOLD`: every segment's rotation away from the posture it had when the
hold started, in the segment's own axes (`posture_angles`): [sagittal, frontal, axial] =
rotation about the segment's ML axis (flexion +, extension −), about its AP axis (lateral bend
to the right +) and about its SI axis (rotation to the left +). Flexion turns the segment's upper
end towards its front: lying prone (plank, bird-dog, Biering-Sørensen) the upper end goes down (a
dropping Biering-Sørensen trunk, piking hips read +), lying supine (bridge) it comes up (sagging
hips read +); on the left side the right bend raises the upper end, on the right side it lowers
it (tests/sensors/processing/test_hold_signs.py). These are defined in
every posture; the one axis that happens to be vertical in a hold (the AP axis in a plank, the ML
axis in a side plank) is seen only by the gyroscope, so it drifts slowly like the axial angle.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from sensors import quaternion as quat

SAGITTAL, FRONTAL, AXIAL = 0, 1, 2


class AngleDefinition(StrEnum):
    """What the pipeline's segment angles mean.

    UPRIGHT: inclination from gravity, relative to upright stance (standing, bending, walking).
    HOLD: rotation away from the posture taken when the hold starts, in the segment's own axes
    (holds and lying drills); NaN until the hold posture is fixed."""

    UPRIGHT = "upright"
    HOLD = "hold"


def inclination_angles(segment_q: np.ndarray) -> np.ndarray:
    """(..., 2) [sagittal, frontal] inclination, rad, of segment→earth quaternions (..., 4)."""
    q = np.asarray(segment_q, dtype=float)
    gx, gy, gz = _vertical_components((q[..., 0], q[..., 1], q[..., 2], q[..., 3]))
    out = np.empty((*q.shape[:-1], 2))
    out[..., 0] = np.arctan2(-gx, gz)
    out[..., 1] = np.arctan2(gy, np.hypot(gx, gz))
    return out


def segment_inclination(sensor_q: np.ndarray, mount_q: np.ndarray) -> np.ndarray:
    """`inclination_angles(segment_orientation(sensor_q, mount_q))` (..., 2), rad, for
    sensor→earth quaternions (..., 4) and sensor→segment ones (4,) or broadcasting with them,
    bit for bit (the same operations, without the segment quaternions stacked in between)."""
    p = np.asarray(sensor_q, dtype=float)
    q = quat.conjugate(mount_q)
    pw, px, py, pz = p[..., 0], p[..., 1], p[..., 2], p[..., 3]
    qw, qx, qy, qz = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    segment = (  # quat.multiply's four components
        pw * qw - px * qx - py * qy - pz * qz,
        pw * qx + px * qw + py * qz - pz * qy,
        pw * qy - px * qz + py * qw + pz * qx,
        pw * qz + px * qy - py * qx + pz * qw,
    )
    gx, gy, gz = _vertical_components(segment)
    out = np.empty((*segment[0].shape, 2))
    out[..., 0] = np.arctan2(-gx, gz)
    out[..., 1] = np.arctan2(gy, np.hypot(gx, gz))
    return out


def _vertical_components(
    q: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`segment_vertical`'s three components (...) for a quaternion's components (w, x, y, z),
    each (...), bit for bit: the same floating-point operations in the same order
    (`quat.rotate` of (0, 0, 1) by the conjugate), on the components instead of stacked arrays
    (the pipeline's hot path)."""
    w, x, y, z = q[0] * 1.0, q[1] * -1.0, q[2] * -1.0, q[3] * -1.0  # the conjugate
    # t = 2 (u × v) with u = (x, y, z), v = (0, 0, 1)
    t0 = 2.0 * (y * 1.0 - z * 0.0)
    t1 = 2.0 * (z * 0.0 - x * 1.0)
    t2 = 2.0 * (x * 0.0 - y * 0.0)
    # v + w t + u × t
    gx = (0.0 + w * t0) + (y * t2 - z * t1)
    gy = (0.0 + w * t1) + (z * t0 - x * t2)
    gz = (1.0 + w * t2) + (x * t1 - y * t0)
    return gx, gy, gz


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


def posture_angles(segment_q: np.ndarray, reference_q: np.ndarray) -> np.ndarray:
    """Rotation of a segment away from a reference posture, (..., 3) rad [sagittal, frontal, axial].

    segment_q (..., 4) and reference_q (4,) or (..., 4) are segment→earth. The relative rotation
    q_ref⁻¹·q is expressed in the reference segment's axes (x AP, y ML, z SI) as a rotation vector
    r; the angles are its components about ML (r_y: flexion +), AP (r_x: right side down +) and
    SI (r_z: rotation to the left +). A rotation of θ about one segment axis gives exactly θ on
    that axis and 0 on the others, in any posture; for the few degrees of a held posture it
    equals any Euler sequence to second order."""
    relative = quat.multiply(quat.conjugate(np.asarray(reference_q, dtype=float)), segment_q)
    r = quat.to_rotvec(_positive_w(relative))
    return np.stack([r[..., 1], r[..., 0], r[..., 2]], axis=-1)


def mean_orientation(segment_q: np.ndarray) -> np.ndarray:
    """Mean (4,) of nearby unit quaternions (n, 4), NaN rows ignored: the normalised sum after
    flipping each onto the first's hemisphere (accurate for the degree-scale spread of a hold)."""
    q = np.asarray(segment_q, dtype=float)
    q = q[np.isfinite(q).all(axis=1)]
    if len(q) == 0:
        return np.full(4, np.nan)
    q = np.where((q @ q[0])[:, None] < 0, -q, q)
    return quat.normalize(q.sum(axis=0))


def _positive_w(q: np.ndarray) -> np.ndarray:
    """The same rotations (..., 4) with the scalar part ≥ 0 (rotation angle ≤ π)."""
    return np.where(q[..., :1] < 0, -q, q)
