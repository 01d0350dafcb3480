"""Sensor-to-segment calibration from a neutral upright standing capture.

Standing upright and still, each sensor's accelerometer points along its segment's vertical.
The nominal mounting (`sensors.placements.nominal_mount`) supplies the heading of the sensor on
the segment; the smallest rotation that brings the measured vertical onto the segment's z axis
corrects tilt misalignment (a sensor strapped on crooked or upside down). Misalignment about the
vertical (sensor twisted on the skin) needs a functional movement and is not corrected here.

Holds may instead be calibrated in their starting posture (lying prone, on the side, on the
bench: `calibrate_any_posture`). Lying, gravity does not run along the segment's long axis, so the
tilt of the sensor on the skin cannot be corrected and the nominal mounting is kept; hold angles
are rotations relative to the hold posture and need only the segment's axes, which a strap a few
degrees crooked mixes by the cosine of that error (under 1.5 % for 10°).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors import quaternion as quat
from sensors.constants import GRAVITY_M_S2
from sensors.placements import LEG_PLACEMENTS, Placement, nominal_mount
from sensors.processing.errors import CalibrationError


@dataclass(frozen=True)
class StillnessLimits:
    """A capture counts as still when the mean gyro norm, the SD of the acc norm, the distance of
    the mean acc norm from g, and the largest angle between a sample's acc direction and the mean
    direction stay below these (rad/s, m/s², m/s², deg). Quiet standing sway moves the acc
    direction by about half a degree; the start of a bend moves it by ten within half a second
    while the mean rate stays small."""

    max_mean_gyr_rad_s: float = 0.15
    max_acc_norm_sd_m_s2: float = 0.3
    max_gravity_error_m_s2: float = 1.0
    max_tilt_deg: float = 3.0


@dataclass(frozen=True)
class SegmentCalibration:
    """Per placement the sensor→segment rotation (4,), the capture's end time, session s, and the
    posture it was captured in ("neutral stance", or "starting posture" for a hold)."""

    mount_q: dict[Placement, np.ndarray]
    time_s: float
    posture: str = "neutral stance"


def check_still(
    placement: Placement, gyr_rad_s: np.ndarray, acc_m_s2: np.ndarray, limits: StillnessLimits
) -> None:
    """Raise CalibrationError naming the sensor if gyr (n, 3) / acc (n, 3) show it was moving."""
    if len(acc_m_s2) == 0:
        raise CalibrationError(f"{placement.value} sensor: no samples during the calibration capture")
    gyr_mean = float(np.mean(np.linalg.norm(gyr_rad_s, axis=1)))
    acc_norm = np.linalg.norm(acc_m_s2, axis=1)
    if gyr_mean > limits.max_mean_gyr_rad_s:
        raise CalibrationError(
            f"{placement.value} sensor turned at {np.degrees(gyr_mean):.0f} °/s on average during the "
            "calibration capture",
            "stand still and upright, then calibrate again",
        )
    if float(np.std(acc_norm)) > limits.max_acc_norm_sd_m_s2:
        raise CalibrationError(
            f"{placement.value} sensor was shaken during the calibration capture",
            "stand still and calibrate again",
        )
    direction = acc_m_s2 / acc_norm[:, None]
    mean_direction = direction.mean(axis=0) / np.linalg.norm(direction.mean(axis=0))
    tilt = float(np.degrees(np.arccos(np.clip(direction @ mean_direction, -1.0, 1.0))).max())
    if tilt > limits.max_tilt_deg:
        raise CalibrationError(
            f"{placement.value} sensor tilted by {tilt:.0f}° during the calibration capture",
            "stand still and upright, then calibrate again",
        )
    if abs(float(np.mean(acc_norm)) - GRAVITY_M_S2) > limits.max_gravity_error_m_s2:
        raise CalibrationError(
            f"{placement.value} sensor measured {np.mean(acc_norm):.1f} m/s² at rest instead of about "
            f"{GRAVITY_M_S2} m/s²; check the sensor's accelerometer range and units"
        )


def neutral_mount(placement: Placement, mean_acc_m_s2: np.ndarray) -> np.ndarray:
    """Sensor→segment quaternion (4,) from the mean accelerometer (3,) in neutral upright stance.

    A vertical more than 90° off the nominal one is read as the sensor strapped upside down:
    turned half a turn about the axis out of the skin (the segment's AP axis), not about an
    arbitrary one, so anterior stays anterior.
    """
    nominal = nominal_mount(placement)
    vertical_in_segment = nominal @ (mean_acc_m_s2 / np.linalg.norm(mean_acc_m_s2))
    if vertical_in_segment[2] < 0:
        out_of_skin = np.array([0.0, 1.0, 0.0]) if placement in LEG_PLACEMENTS else np.array([1.0, 0.0, 0.0])
        upside_down = quat.to_matrix(quat.from_axis_angle(out_of_skin, np.pi))
        nominal = upside_down @ nominal
        vertical_in_segment = upside_down @ vertical_in_segment
    correction = quat.shortest_arc(vertical_in_segment, np.array([0.0, 0.0, 1.0]))
    return quat.normalize(quat.multiply(correction, quat.from_matrix(nominal)))


def calibrate_neutral_stance(
    captures: dict[Placement, tuple[np.ndarray, np.ndarray]],
    time_s: float,
    limits: StillnessLimits | None = None,
) -> SegmentCalibration:
    """Calibrate every placement from its capture (gyr (n, 3) rad/s, acc (n, 3) m/s²) of still stance."""
    limits = limits or StillnessLimits()
    mounts = {}
    for placement, (gyr, acc) in captures.items():
        check_still(placement, gyr, acc, limits)
        mounts[placement] = neutral_mount(placement, np.mean(acc, axis=0))
    return SegmentCalibration(mounts, time_s)


def vertical_gyro_bias(gyr_rad_s: np.ndarray, acc_m_s2: np.ndarray) -> np.ndarray:
    """The gyroscope bias (3,), rad/s, about the vertical that a still capture (gyr (n, 3) rad/s,
    acc (n, 3) m/s²) shows: its mean rate along its mean acceleration (gravity's direction), zero
    about the horizontal axes. vqf cannot learn this component while the body sways (the
    accelerometer sees no rotation about the vertical, and sway keeps its rest detection off), and
    standing sway turns little about the vertical, so the capture's mean gives it to a few
    hundredths of °/s; about the horizontal axes the sway makes the mean worse than vqf's own."""
    up = np.mean(acc_m_s2, axis=0)
    up = up / np.linalg.norm(up)
    return float(np.mean(gyr_rad_s, axis=0) @ up) * up


#: The posture of a calibration from gravity alone (`calibrate_from_gravity`).
GRAVITY_POSTURE = "gravity while moving"


def calibrate_from_gravity(
    captures: dict[Placement, tuple[np.ndarray, np.ndarray]],
    time_s: float,
    limits: StillnessLimits | None = None,
) -> SegmentCalibration:
    """Calibrate from a capture in motion (gyr (n, 3) rad/s, acc (n, 3) m/s² per placement), for a
    session that starts walking: over whole steps the body's own accelerations average out, so each
    sensor's mean acceleration is its vertical, as in `neutral_mount` (heading nominal; the
    walking posture's lean, a few degrees, is taken as upright). CalibrationError when a mean is
    not gravity (more than `max_gravity_error_m_s2` off: not walking, or wrong units)."""
    limits = limits or StillnessLimits()
    mounts = {}
    for placement, (_, acc) in captures.items():
        if len(acc) == 0:
            raise CalibrationError(f"{placement.value} sensor: no samples during the calibration capture")
        mean = np.mean(acc, axis=0)
        if abs(float(np.linalg.norm(mean)) - GRAVITY_M_S2) > limits.max_gravity_error_m_s2:
            raise CalibrationError(
                f"{placement.value} sensor's mean acceleration over the capture was "
                f"{np.linalg.norm(mean):.1f} m/s², not gravity: no calibration from gravity either"
            )
        mounts[placement] = neutral_mount(placement, mean)
    return SegmentCalibration(mounts, time_s, posture=GRAVITY_POSTURE)


#: A capture whose verticals are all within this of the nominal upright counts as standing, deg.
UPRIGHT_TOLERANCE_DEG = 30.0


def calibrate_any_posture(
    captures: dict[Placement, tuple[np.ndarray, np.ndarray]],
    time_s: float,
    limits: StillnessLimits | None = None,
) -> SegmentCalibration:
    """Calibrate from a still capture (gyr (n, 3) rad/s, acc (n, 3) m/s² per placement) standing
    before getting down, or in a hold's starting posture. Standing (every back sensor's vertical
    within UPRIGHT_TOLERANCE_DEG of its nominal upright one) it is `calibrate_neutral_stance`;
    otherwise each sensor keeps its nominal mounting (posture "starting posture")."""
    limits = limits or StillnessLimits()
    for placement, (gyr, acc) in captures.items():
        check_still(placement, gyr, acc, limits)
    upright = all(
        _angle_to_upright_deg(placement, np.mean(acc, axis=0)) <= UPRIGHT_TOLERANCE_DEG
        for placement, (_, acc) in captures.items()
        if placement in BACK_PLACEMENTS
    )
    if upright:
        return calibrate_neutral_stance(captures, time_s, limits)
    mounts = {placement: quat.from_matrix(nominal_mount(placement)) for placement in captures}
    return SegmentCalibration(mounts, time_s, posture="starting posture")


def _angle_to_upright_deg(placement: Placement, mean_acc_m_s2: np.ndarray) -> float:
    """Angle, deg, between the measured vertical and the segment's nominal upright z axis, either
    way up (a sensor strapped upside down is still upright; `neutral_mount` turns it round)."""
    vertical = nominal_mount(placement) @ (mean_acc_m_s2 / np.linalg.norm(mean_acc_m_s2))
    return float(np.degrees(np.arccos(np.clip(abs(vertical[2]), 0.0, 1.0))))


#: Placements a forward bend can calibrate (the thighs barely move in one).
BACK_PLACEMENTS = (Placement.LUMBAR, Placement.PELVIS, Placement.THORAX)


@dataclass(frozen=True)
class FunctionalCalibration:
    """A neutral-stance calibration refined by a forward bend, and what the bend revealed.

    bend_tilt_deg: deepest tilt of each sensor from its neutral vertical during the bend;
    warnings: plain-language problems (sensors swapped, bend too shallow)."""

    calibration: SegmentCalibration
    bend_tilt_deg: dict[Placement, float]
    warnings: tuple[str, ...]


def functional_mount(
    neutral_mount_q: np.ndarray, bend_acc_m_s2: np.ndarray, min_tilt_deg: float = 20.0
) -> np.ndarray:
    """Sensor→segment quaternion (4,) from a neutral-stance mount (4,) and the accelerometer (n, 3)
    during a forward bend of that segment.

    The neutral capture fixes the segment's vertical z in the sensor frame. At the deepest part of
    a forward bend the measured vertical g = cos θ·z − sin θ·x, so the anterior axis x is minus its
    component perpendicular to z; y = z × x completes the frame. This corrects a sensor turned
    about the spine's long axis, which a neutral capture cannot see."""
    neutral = quat.to_matrix(neutral_mount_q)
    z = neutral[2]  # segment z in sensor coordinates
    directions = bend_acc_m_s2 / np.linalg.norm(bend_acc_m_s2, axis=1, keepdims=True)
    tilt = np.degrees(np.arccos(np.clip(directions @ z, -1.0, 1.0)))
    if tilt.max() < min_tilt_deg:
        raise CalibrationError(
            f"the bend tilted this sensor only {tilt.max():.0f}°; bend forward at least {min_tilt_deg:.0f}°"
        )
    deepest = directions[tilt >= 0.8 * tilt.max()].mean(axis=0)
    across = deepest - (deepest @ z) * z
    x = -across / np.linalg.norm(across)
    y = np.cross(z, x)
    return quat.from_matrix(np.stack([x, y, z]))


def calibrate_functional(
    neutral: SegmentCalibration, bend_acc: dict[Placement, np.ndarray], time_s: float
) -> FunctionalCalibration:
    """Refine every back sensor's mount from its accelerometer (n, 3) during one forward bend,
    and check that the lumbar sensor flexed more than the pelvic one (else they look swapped)."""
    mounts = dict(neutral.mount_q)
    tilts, warnings = {}, []
    for placement, acc in bend_acc.items():
        z = quat.to_matrix(neutral.mount_q[placement])[2]
        directions = acc / np.linalg.norm(acc, axis=1, keepdims=True)
        tilts[placement] = float(np.degrees(np.arccos(np.clip(directions @ z, -1.0, 1.0))).max())
        if placement not in BACK_PLACEMENTS:
            continue
        try:
            mounts[placement] = functional_mount(neutral.mount_q[placement], acc)
        except CalibrationError as error:
            warnings.append(f"{placement.value} sensor: {error}; kept its neutral-stance calibration")
    lumbar, pelvis = tilts.get(Placement.LUMBAR), tilts.get(Placement.PELVIS)
    if lumbar is not None and pelvis is not None and pelvis > lumbar:
        warnings.append(
            f"the pelvis sensor tilted more ({pelvis:.0f}°) than the lumbar sensor ({lumbar:.0f}°) "
            "in the bend: the two sensors look swapped; check which is at T12/L1 and which at S1/S2"
        )
    return FunctionalCalibration(SegmentCalibration(mounts, time_s), tilts, tuple(warnings))
