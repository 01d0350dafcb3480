"""Endurance holds (McGill-style): plank, side plank L/R, bird-dog, bridge, Biering-Sørensen.

Each hold is entered from upright standing, held with slow drift and a tremor that grows with
fatigue, and then lost at a set time: one segment deviates by `loss_deg` within `loss_s`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.simulator.body import HIP_HEIGHT_M, Pose
from sensors.simulator.drills.base import Drill, DrillOptions
from sensors.simulator.profiles import make_sway, minimum_jerk, ramp


@dataclass(frozen=True)
class HoldPosture:
    """Target posture of a hold: segment angles in deg, hip height in m, and how it is lost."""

    trunk_pitch_deg: float
    trunk_roll_deg: float
    pelvis_pitch_deg: float
    pelvis_roll_deg: float
    thigh_pitch_deg: float
    hip_height_m: float
    loss_placement: Placement
    loss_axis: int  # 0 pitch (sagittal), 1 roll (frontal); roll only where the AP axis is horizontal
    loss_sign: float


HOLD_POSTURES = {
    "plank": HoldPosture(90, 0, 90, 0, 90, 0.35, Placement.PELVIS, 0, -1.0),
    "side-plank-left": HoldPosture(0, -90, 0, -90, 0, 0.30, Placement.PELVIS, 1, 1.0),
    "side-plank-right": HoldPosture(0, 90, 0, 90, 0, 0.30, Placement.PELVIS, 1, -1.0),
    "bird-dog": HoldPosture(90, 0, 90, 0, 0, 0.55, Placement.PELVIS, 0, -1.0),
    "bridge": HoldPosture(-115, 0, -110, 0, -30, 0.35, Placement.PELVIS, 0, 1.0),
    "biering-sorensen": HoldPosture(90, 0, 90, 0, 90, 0.75, Placement.LUMBAR, 0, 1.0),
}


@dataclass(frozen=True)
class HoldTruth:
    """Ground truth of a hold. Times in session s; drift in deg/min on the lost segment's axis.

    The lost segment leaves the held posture by `loss_deg` over [fail_time_s, fail_time_s + loss_s].
    Tremor is a tremor_hz oscillation whose RMS grows linearly from start to end of the hold.
    """

    hold: str
    posture: HoldPosture
    hold_start_s: float
    fail_time_s: float
    loss_deg: float
    loss_s: float
    drift_deg_per_min: float
    tremor_hz: float
    tremor_rms_start_deg: float
    tremor_rms_end_deg: float

    @property
    def held_s(self) -> float:
        """How long the position was held: from reaching it to losing it."""
        return self.fail_time_s - self.hold_start_s


class Hold(Drill):
    """One static hold, ended by the position being lost."""

    default_duration_s = 60.0
    get_into_s = 3.0
    after_loss_s = 3.0

    def __init__(
        self,
        name: str,
        options: DrillOptions,
        hold: str,
        fail_time_s: float | None = None,
        drift_deg_per_min: float = 3.0,
        tremor_hz: float = 9.0,
        tremor_rms_start_deg: float = 0.05,
        tremor_rms_end_deg: float = 0.30,
        loss_deg: float = 15.0,
        loss_s: float = 1.5,
    ) -> None:
        super().__init__(name, options)
        self.posture = HOLD_POSTURES[hold]
        self.hold_start_s = self.calibration_end_s + 1.0 + self.get_into_s
        latest_fail = self.duration_s - self.after_loss_s - loss_s
        if fail_time_s is None:
            fail_time_s = self.hold_start_s + 0.8 * (latest_fail - self.hold_start_s)
        self._truth = HoldTruth(
            hold,
            self.posture,
            self.hold_start_s,
            min(fail_time_s, latest_fail),
            loss_deg,
            loss_s,
            drift_deg_per_min,
            tremor_hz,
            tremor_rms_start_deg,
            tremor_rms_end_deg,
        )
        self.hold_sway = make_sway(self.rng, np.radians(0.3) * options.dual_task_factor, (0.1, 1.0))
        self.tremor_phase = float(self.rng.uniform(0, 2 * np.pi))

    def _script(self, pose: Pose, t: np.ndarray) -> None:
        truth, posture = self._truth, self.posture
        into_start = self.calibration_end_s + 1.0
        into = minimum_jerk((t - into_start) / self.get_into_s)
        self.standing_sway.apply(pose, t, weight=1.0 - into)
        targets = {
            Placement.LUMBAR: (posture.trunk_pitch_deg, posture.trunk_roll_deg),
            Placement.THORAX: (posture.trunk_pitch_deg, posture.trunk_roll_deg),
            Placement.PELVIS: (posture.pelvis_pitch_deg, posture.pelvis_roll_deg),
            Placement.LEFT_THIGH: (posture.thigh_pitch_deg, posture.pelvis_roll_deg),
            Placement.RIGHT_THIGH: (posture.thigh_pitch_deg, posture.pelvis_roll_deg),
        }
        for placement, (pitch, roll) in targets.items():
            pose.angles_rad[placement][:, 0] += np.radians(pitch) * into
            pose.angles_rad[placement][:, 1] += np.radians(roll) * into
        pose.root_m[:, 2] += (posture.hip_height_m - HIP_HEIGHT_M) * into
        # Holding: drift, sway and fatigue tremor on the segment that will give way.
        held = np.clip(t - truth.hold_start_s, 0.0, None)
        span = truth.fail_time_s - truth.hold_start_s
        fatigue = np.clip(held / span, 0.0, 1.0)
        tremor_rms = np.radians(
            truth.tremor_rms_start_deg + (truth.tremor_rms_end_deg - truth.tremor_rms_start_deg) * fatigue
        )
        tremor = np.sqrt(2) * tremor_rms * np.sin(2 * np.pi * truth.tremor_hz * t + self.tremor_phase)
        drift = np.radians(truth.drift_deg_per_min) / 60.0 * np.minimum(held, span)
        deviation = posture.loss_sign * (
            drift + ramp(t, truth.fail_time_s, truth.loss_s, np.radians(truth.loss_deg))
        )
        tremor *= minimum_jerk(held / 0.5)  # tremor sets in once the position is reached
        lost = pose.angles_rad[posture.loss_placement]
        lost[:, posture.loss_axis] += deviation + tremor
        lost[:, 1 - posture.loss_axis] += into * self.hold_sway(t)

    @property
    def truth(self) -> HoldTruth:
        return self._truth

    def _extra_events(self) -> tuple[Event, ...]:
        return (Event(self.hold_start_s, EventKind.ANNOTATION, "hold start", source="simulator"),)
