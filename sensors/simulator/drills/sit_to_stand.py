"""Sit-to-stand repetitions with a flexion (forward lean) and an extension (rise) phase."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors.placements import Placement
from sensors.simulator.body import HIP_HEIGHT_M, Pose
from sensors.simulator.drills.base import Drill, DrillOptions
from sensors.simulator.profiles import MINIMUM_JERK_PEAK_VELOCITY_FACTOR, active, ramp

SEAT_HIP_HEIGHT_M = 0.48


@dataclass(frozen=True)
class SitToStandTruth:
    """One rise. Flexion phase: flexion_start_s → seat_off_s (peak trunk flexion);
    extension phase: seat_off_s → extension_end_s (upright). Angles deg, velocities deg/s."""

    flexion_start_s: float
    seat_off_s: float
    extension_end_s: float
    trunk_flexion_deg: float

    @property
    def flexion_duration_s(self) -> float:
        return self.seat_off_s - self.flexion_start_s

    @property
    def extension_duration_s(self) -> float:
        return self.extension_end_s - self.seat_off_s

    @property
    def flexion_peak_velocity_deg_s(self) -> float:
        return MINIMUM_JERK_PEAK_VELOCITY_FACTOR * self.trunk_flexion_deg / self.flexion_duration_s

    @property
    def extension_peak_velocity_deg_s(self) -> float:
        return MINIMUM_JERK_PEAK_VELOCITY_FACTOR * self.trunk_flexion_deg / self.extension_duration_s


@dataclass(frozen=True)
class SitToStandSeriesTruth:
    rises: tuple[SitToStandTruth, ...]
    sit_down_s: float  # when the patient first sat down after calibration


class SitToStand(Drill):
    """Calibrate standing, sit down, then rise and sit repeatedly."""

    default_duration_s = 45.0
    sit_s = 2.0  # sitting down takes this long
    seated_s = 2.0
    standing_s = 2.0
    most_rises = 1_000  # rise and sit at one's own pace until the task ends

    def __init__(
        self,
        name: str,
        options: DrillOptions,
        trunk_flexion_deg: float = 40.0,
        flexion_s: float = 0.8,
        extension_s: float = 1.0,
    ) -> None:
        super().__init__(name, options)
        self.sit_down_s = self.calibration_end_s + 1.0
        rises: list[SitToStandTruth] = []
        start = self.sit_down_s + self.sit_s + self.seated_s
        cycle = flexion_s + extension_s + self.standing_s + self.sit_s + self.seated_s
        while start + flexion_s + extension_s + 1.0 < self.duration_s and len(rises) < self.most_rises:
            flexion = trunk_flexion_deg + float(self.rng.uniform(-4.0, 4.0))
            rises.append(SitToStandTruth(start, start + flexion_s, start + flexion_s + extension_s, flexion))
            start += cycle
        self.rises = tuple(rises)

    def _script(self, pose: Pose, t: np.ndarray) -> None:
        self.standing_sway.apply(pose, t)
        seated = self._seated_fraction(t)
        trunk = np.zeros_like(t)
        pelvis = np.radians(-10.0) * seated  # posterior pelvic tilt when seated
        for rise in self.rises:  # forward lean to seat-off, back to upright while rising
            if not active(t, rise.flexion_start_s, self._rise_end(rise)):
                continue
            lean = np.radians(rise.trunk_flexion_deg)
            trunk += ramp(t, rise.flexion_start_s, rise.flexion_duration_s, lean)
            trunk -= ramp(t, rise.seat_off_s, rise.extension_duration_s, lean)
            pelvis += ramp(t, rise.flexion_start_s, rise.flexion_duration_s, 0.6 * lean)
            pelvis -= ramp(t, rise.seat_off_s, rise.extension_duration_s, 0.6 * lean)
            if not self._sits_again(rise):
                continue
            sit = rise.extension_end_s + self.standing_s  # sitting back down: a shallower lean
            trunk += ramp(t, sit, self.sit_s / 2, 0.6 * lean) - ramp(
                t, sit + self.sit_s / 2, self.sit_s / 2, 0.6 * lean
            )
        for upper in (Placement.LUMBAR, Placement.THORAX):
            pose.angles_rad[upper][:, 0] += trunk
        pose.angles_rad[Placement.PELVIS][:, 0] += pelvis
        for thigh in (Placement.LEFT_THIGH, Placement.RIGHT_THIGH):
            pose.angles_rad[thigh][:, 0] += np.radians(90.0) * seated
        for shank in (Placement.LEFT_SHANK, Placement.RIGHT_SHANK):  # knees flexed: shanks stay upright
            pose.angles_rad[shank][:, 0] -= np.radians(90.0) * seated
        pose.root_m[:, 2] -= (HIP_HEIGHT_M - SEAT_HIP_HEIGHT_M) * seated
        pose.root_m[:, 0] -= 0.15 * seated

    def _rise_end(self, rise: SitToStandTruth) -> float:
        """When this rise's cycle (rise, stand, sit down again) is over, s."""
        return rise.extension_end_s + self.standing_s + self.sit_s

    def _seated_fraction(self, t: np.ndarray) -> np.ndarray:
        """0 standing, 1 seated; rises follow the extension phase, sitting takes `sit_s`."""
        seated = ramp(t, self.sit_down_s, self.sit_s, 1.0)
        for rise in self.rises:
            if not active(t, rise.seat_off_s, self._rise_end(rise)):
                continue
            seated -= ramp(t, rise.seat_off_s, rise.extension_duration_s, 1.0)
            if self._sits_again(rise):
                seated += ramp(t, rise.extension_end_s + self.standing_s, self.sit_s, 1.0)
        return seated

    def _sits_again(self, rise: SitToStandTruth) -> bool:
        """Whether the patient sits down after this rise (not after the last of a timed test)."""
        return len(self.rises) < self.most_rises or rise is not self.rises[-1]

    @property
    def truth(self) -> SitToStandSeriesTruth:
        return SitToStandSeriesTruth(self.rises, self.sit_down_s)


class FiveTimesSitToStand(SitToStand):
    """The timed five-times sit-to-stand test (Bohannon 2006): five rises as fast as possible,
    arms crossed, standing after the fifth. A patient of about 60 y: 2.4-s cycles, ~11 s for the
    five (Bohannon's 60–69 y mean 11.4 s)."""

    default_duration_s = 30.0
    sit_s = 0.8
    seated_s = 0.2
    standing_s = 0.1
    most_rises = 5

    def __init__(
        self,
        name: str,
        options: DrillOptions,
        trunk_flexion_deg: float = 40.0,
        flexion_s: float = 0.6,
        extension_s: float = 0.7,
    ) -> None:
        super().__init__(name, options, trunk_flexion_deg, flexion_s, extension_s)
