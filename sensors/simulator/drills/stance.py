"""Standing balance drills: quiet stance (eyes open/closed, foam) and single-leg stance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors.errors import UnknownDrillError
from sensors.placements import Placement
from sensors.simulator.body import Pose
from sensors.simulator.drills.base import Drill, DrillOptions, StandingSway
from sensors.simulator.profiles import minimum_jerk, ramp

#: Sway cross-fades from the calibration level to the task level over this time, s.
FADE_S = 1.0


@dataclass(frozen=True)
class StanceCondition:
    """Sway level of one stance condition: trunk RMS (deg) per axis and frequency band (Hz)."""

    ap_rms_deg: float
    ml_rms_deg: float
    band_hz: tuple[float, float]


STANCE_CONDITIONS = {
    "eyes-open": StanceCondition(0.40, 0.25, (0.1, 1.0)),
    "eyes-closed": StanceCondition(0.60, 0.35, (0.1, 1.3)),
    "foam": StanceCondition(0.90, 0.70, (0.15, 1.8)),
}


@dataclass(frozen=True)
class StanceTruth:
    """Ground truth of a stance drill. Sway objects give rad; RMS values in deg."""

    condition: str
    task_start_s: float
    sway: StandingSway
    dual_task_factor: float
    stance_side: str = "both"
    #: When the lifted foot touches the ground, s from the recording start (None: never).
    foot_down_s: float | None = None

    @property
    def trunk_ap_rms_deg(self) -> float:
        return float(np.degrees(self.sway.trunk_ap.rms))

    @property
    def trunk_ml_rms_deg(self) -> float:
        return float(np.degrees(self.sway.trunk_ml.rms))


class QuietStance(Drill):
    """Quiet upright stance; sway amplitude and spectrum set by the condition and dual-task factor."""

    default_duration_s = 30.0

    def __init__(self, name: str, options: DrillOptions, condition: str = "eyes-open") -> None:
        super().__init__(name, options)
        c = STANCE_CONDITIONS[condition]
        self.condition = condition
        self.task_sway = StandingSway.draw(
            self.rng, c.ap_rms_deg, c.ml_rms_deg, c.band_hz, factor=options.sway_factor
        )

    def _script(self, pose: Pose, t: np.ndarray) -> None:
        in_task = minimum_jerk((t - self.calibration_end_s) / FADE_S)
        self.standing_sway.apply(pose, t, weight=1.0 - in_task)
        self.task_sway.apply(pose, t, weight=in_task)

    @property
    def truth(self) -> StanceTruth:
        steady_s = self.calibration_end_s + FADE_S
        return StanceTruth(self.condition, steady_s, self.task_sway, self.options.dual_task_factor)


class SingleLegStance(Drill):
    """Standing on one leg: the other thigh flexes, the pelvis drops on the free side, ML sway grows.

    `side` is the stance leg. `sway_scale` multiplies the sway of this side (set it above 1 on a
    weaker side to script a left/right asymmetry). `foot_down_s` (s from the recording start, None:
    never) scripts the lifted foot touching the ground: the thigh comes down in the `lower_s`
    before it, and the weight shifts back to both feet, levelling the pelvis, over `level_s`
    centred on the touch-down, while the sway falls back to the two-footed level.
    """

    default_duration_s = 25.0
    shift_s = 1.5  # time to move onto one leg
    lower_s = 0.4  # time to lower the lifted foot to the ground
    level_s = 0.5  # weight shift back onto both feet, centred on the touch-down

    def __init__(
        self,
        name: str,
        options: DrillOptions,
        side: str,
        sway_scale: float = 1.0,
        foot_down_s: float | None = None,
    ) -> None:
        super().__init__(name, options)
        on_one_leg_s = self.calibration_end_s + self.shift_s + FADE_S
        if foot_down_s is not None and not on_one_leg_s < foot_down_s < self.duration_s:
            raise UnknownDrillError(
                f"foot_down_s {foot_down_s} s must lie between the single-leg stance's start "
                f"({on_one_leg_s} s) and the drill's end ({self.duration_s} s)"
            )
        self.foot_down_s = foot_down_s
        self.side = side
        self.sign = 1.0 if side == "left" else -1.0
        self.task_sway = StandingSway.draw(
            self.rng, 0.8 * sway_scale, 1.1 * sway_scale, (0.2, 2.0), factor=options.sway_factor
        )
        self.sway_scale = sway_scale
        self.sway_start_s = self.calibration_end_s + self.shift_s

    def _script(self, pose: Pose, t: np.ndarray) -> None:
        start, shift, s = self.calibration_end_s, self.shift_s, self.sign
        free = Placement.RIGHT_THIGH if self.side == "left" else Placement.LEFT_THIGH
        pose.angles_rad[free][:, 0] += ramp(t, start, shift, np.radians(35.0))
        pose.angles_rad[Placement.PELVIS][:, 1] += ramp(t, start, shift, np.radians(3.0) * s)
        for upper in (Placement.LUMBAR, Placement.THORAX):
            pose.angles_rad[upper][:, 1] -= ramp(t, start, shift, np.radians(2.0) * s)
        pose.root_m[:, 1] += ramp(t, start, shift, 0.08 * s)
        in_task = minimum_jerk((t - self.sway_start_s) / FADE_S)
        if self.foot_down_s is not None:
            down, level = self.foot_down_s, self.foot_down_s - self.level_s / 2
            pose.angles_rad[free][:, 0] -= ramp(t, down - self.lower_s, self.lower_s, np.radians(35.0))
            pose.angles_rad[Placement.PELVIS][:, 1] -= ramp(t, level, self.level_s, np.radians(3.0) * s)
            for upper in (Placement.LUMBAR, Placement.THORAX):
                pose.angles_rad[upper][:, 1] += ramp(t, level, self.level_s, np.radians(2.0) * s)
            pose.root_m[:, 1] -= ramp(t, level, self.level_s, 0.08 * s)
            in_task = in_task * (1.0 - minimum_jerk((t - level) / self.level_s))
        self.standing_sway.apply(pose, t, weight=1.0 - in_task)
        self.task_sway.apply(pose, t, weight=in_task)

    @property
    def truth(self) -> StanceTruth:
        return StanceTruth(
            f"single-leg-{self.side}",
            self.sway_start_s + FADE_S,
            self.task_sway,
            self.options.dual_task_factor,
            stance_side=self.side,
            foot_down_s=self.foot_down_s,
        )
