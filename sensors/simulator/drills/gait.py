"""Straight walking: pelvic tilt, obliquity and rotation per stride, with left/right asymmetry."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.simulator.body import PELVIS_SENSOR_HEIGHT_M, Pose
from sensors.simulator.drills.base import Drill, DrillOptions
from sensors.simulator.profiles import minimum_jerk, minimum_jerk_integral


@dataclass(frozen=True)
class GaitTruth:
    """Ground truth of a walk. Times s, angles deg (peak-to-peak ranges per stride).

    Initial contacts alternate left/right. `step_time_asymmetry` a makes the right step
    (left IC → right IC) last T(1 + a/2) and the left step T(1 − a/2). `sensor_height_m` is the
    pelvic sensor's height above the floor standing, m: the subject setting that stride length and
    gait speed need (`stabmon subject --sensor-height`).
    """

    walk_start_s: float
    walk_end_s: float
    initial_contacts_s: np.ndarray
    initial_contact_sides: tuple[str, ...]
    cadence_steps_per_min: float
    step_time_asymmetry: float
    pelvic_tilt_range_deg: float
    pelvic_obliquity_left_stance_deg: float
    pelvic_obliquity_right_stance_deg: float
    pelvic_rotation_range_deg: float
    speed_m_s: float
    sensor_height_m: float

    @property
    def stride_length_m(self) -> float:
        """Distance walked in one stride (two steps) at the set speed and cadence, m."""
        return self.speed_m_s * 120.0 / self.cadence_steps_per_min

    @property
    def pelvic_obliquity_range_deg(self) -> float:
        return (self.pelvic_obliquity_left_stance_deg + self.pelvic_obliquity_right_stance_deg) / 2

    @property
    def left_step_time_s(self) -> float:
        return 60.0 / self.cadence_steps_per_min * (1 - self.step_time_asymmetry / 2)

    @property
    def right_step_time_s(self) -> float:
        return 60.0 / self.cadence_steps_per_min * (1 + self.step_time_asymmetry / 2)


class Gait(Drill):
    """Calibrate standing, walk straight at a steady cadence, stop."""

    default_duration_s = 40.0
    ramp_s = 1.0  # gait amplitude builds up and fades over this time
    heel_strike_depth_m = 0.0015
    heel_strike_width_s = 0.015

    def __init__(
        self,
        name: str,
        options: DrillOptions,
        cadence_steps_per_min: float = 110.0,
        step_time_asymmetry: float = 0.06,
        pelvic_tilt_range_deg: float = 4.0,
        pelvic_obliquity_left_stance_deg: float = 7.0,
        pelvic_obliquity_right_stance_deg: float = 9.0,
        pelvic_rotation_range_deg: float = 10.0,
        speed_m_s: float = 1.2,
        vertical_range_m: float = 0.04,
    ) -> None:
        super().__init__(name, options)
        self.walk_start_s = self.calibration_end_s + 1.0
        self.walk_end_s = self.duration_s - 1.0
        step = 60.0 / cadence_steps_per_min
        right_step, left_step = step * (1 + step_time_asymmetry / 2), step * (1 - step_time_asymmetry / 2)
        contacts, sides, t, left_next = [], [], self.walk_start_s, True
        while t <= self.walk_end_s:
            contacts.append(t)
            sides.append("left" if left_next else "right")
            t += right_step if left_next else left_step
            left_next = not left_next
        self.contacts = np.array(contacts)
        self.sides = tuple(sides)
        self.params = (
            pelvic_tilt_range_deg,
            pelvic_obliquity_left_stance_deg,
            pelvic_obliquity_right_stance_deg,
            pelvic_rotation_range_deg,
        )
        self.speed_m_s = speed_m_s
        self.vertical_range_m = vertical_range_m
        self.cadence = cadence_steps_per_min
        self.asymmetry = step_time_asymmetry
        # Stride phase knots: 0 at each left IC, 0.5 at each right IC, extrapolated beyond.
        phase = np.arange(len(contacts)) * 0.5 - (0.0 if sides[0] == "left" else 0.5)
        self._knots_t = np.concatenate([[contacts[0] - 100 * step], contacts, [contacts[-1] + 100 * step]])
        self._knots_phase = np.concatenate([[phase[0] - 50], phase, [phase[-1] + 50]])

    def _phase(self, t: np.ndarray) -> np.ndarray:
        return np.interp(t, self._knots_t, self._knots_phase)

    def _envelope(self, t: np.ndarray) -> np.ndarray:
        up = minimum_jerk((t - self.walk_start_s) / self.ramp_s)
        return up - minimum_jerk((t - self.walk_end_s + self.ramp_s) / self.ramp_s)

    def _script(self, pose: Pose, t: np.ndarray) -> None:
        self.standing_sway.apply(pose, t)
        tilt, obl_left, obl_right, rotation = np.radians(self.params)
        env = self._envelope(t)
        phi = self._phase(t)
        stride = 2 * np.pi * phi
        left_stance = np.mod(phi, 1.0) < 0.5
        pelvis = pose.angles_rad[Placement.PELVIS]
        pelvis[:, 0] += env * tilt / 2 * np.sin(2 * stride)
        pelvis[:, 1] += env * np.where(left_stance, obl_left, obl_right) / 2 * np.sin(stride)
        # The pelvis turns toward the stance side through stance (yaw rate negative at a left
        # contact, positive at a right one, as in the lower-back recordings in shared/data).
        pelvis[:, 2] -= env * rotation / 2 * np.sin(stride)
        for upper in (Placement.LUMBAR, Placement.THORAX):  # trunk counter-rotates, leans a little
            pose.angles_rad[upper][:, 2] += env * 0.5 * rotation / 2 * np.sin(stride)
            pose.angles_rad[upper][:, 0] += env * (np.radians(3.0) + np.radians(1.0) * np.sin(2 * stride))
            pose.angles_rad[upper][:, 1] += (
                env * 0.3 * np.where(left_stance, obl_left, obl_right) / 2 * np.sin(stride)
            )
        swing = np.radians(20.0) * env
        pose.angles_rad[Placement.LEFT_THIGH][:, 0] += swing * np.sin(stride + np.pi / 2)
        pose.angles_rad[Placement.RIGHT_THIGH][:, 0] -= swing * np.sin(stride + np.pi / 2)
        # Knee flexion, relative to the thigh: about 60° at mid-swing, straight through stance.
        swing_phase = np.mod(phi, 1.0)
        for shank, start in ((Placement.LEFT_SHANK, 0.5), (Placement.RIGHT_SHANK, 0.0)):
            in_swing = (swing_phase >= start) & (swing_phase < start + 0.5)
            bend = np.sin(np.pi * (swing_phase - start) / 0.5)
            pose.angles_rad[shank][:, 0] -= env * np.radians(60.0) * np.where(in_swing, bend, 0.0)
        # Forward progression with speed ramps, vertical bounce lowest just after each contact,
        # lateral shift over the stance foot, and a sharp dip at each heel strike.
        pose.root_m[:, 0] += (
            self.speed_m_s
            * self.ramp_s
            * (
                minimum_jerk_integral((t - self.walk_start_s) / self.ramp_s)
                - minimum_jerk_integral((t - self.walk_end_s + self.ramp_s) / self.ramp_s)
            )
        )
        pose.root_m[:, 0] += env * 0.01 * np.sin(2 * stride)
        pose.root_m[:, 1] += env * 0.02 * np.sin(stride)
        pose.root_m[:, 2] -= env * self.vertical_range_m / 2 * np.cos(2 * stride - 2 * np.pi * 0.08)
        support = 10 * self.heel_strike_width_s  # each bump is zero beyond 10 σ
        near = (self.contacts >= t.min() - support) & (self.contacts <= t.max() + support) if len(t) else []
        lag = t[:, None] - self.contacts[near][None, :]
        bump = np.where(np.abs(lag) < support, np.exp(-0.5 * (lag / self.heel_strike_width_s) ** 2), 0.0)
        pose.root_m[:, 2] -= env * self.heel_strike_depth_m * bump.sum(axis=1)

    @property
    def truth(self) -> GaitTruth:
        tilt, obl_left, obl_right, rotation = self.params
        return GaitTruth(
            walk_start_s=self.walk_start_s,
            walk_end_s=self.walk_end_s,
            initial_contacts_s=self.contacts.copy(),
            initial_contact_sides=self.sides,
            cadence_steps_per_min=self.cadence,
            step_time_asymmetry=self.asymmetry,
            pelvic_tilt_range_deg=tilt,
            pelvic_obliquity_left_stance_deg=obl_left,
            pelvic_obliquity_right_stance_deg=obl_right,
            pelvic_rotation_range_deg=rotation,
            speed_m_s=self.speed_m_s,
            sensor_height_m=PELVIS_SENSOR_HEIGHT_M,
        )

    def _extra_events(self) -> tuple[Event, ...]:
        return (
            Event(self.walk_start_s, EventKind.ANNOTATION, "walk start", source="simulator"),
            Event(self.walk_end_s, EventKind.ANNOTATION, "walk end", source="simulator"),
        )
