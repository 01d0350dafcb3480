"""Endurance holds (McGill-style): plank, side plank L/R, bird-dog, bridge, Biering-Sørensen.

Each hold is entered from upright standing (calibration before getting down), held with slow
drift and a tremor that grows with fatigue, and then lost: one segment deviates by `loss_deg`
within `loss_s`. A simulated clinician presses E (HOLD_END, "position lost") a reaction time
after the loss begins, and, if asked, a key when the position is reached (HOLD_START); without
that key the pipeline detects the start.

How long the position is held is drawn, per seed, from the normal distribution of published
endurance times for healthy adults (HOLD_TIME_NORMS; /work/shared/NORMS.md), truncated below at
`MIN_HOLD_S`; without a set duration the recording lasts until the clinician has pressed E.
"""

from __future__ import annotations

import math
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
class HoldTimeNorm:
    """Endurance time, s, of healthy adults: mean ± SD (men and women pooled by their n), the
    longest a test runs (None: until the position is lost), and where the numbers come from."""

    mean_s: float
    sd_s: float
    cap_s: float | None
    source: str


_SIDE_BRIDGE = "McGill, Childs & Liebenson 1999 (Arch Phys Med Rehabil 80:941), side bridge"
HOLD_TIME_NORMS = {
    # Strand 2014 (J Hum Kinet 40:93): college men 124±72 s (n 194), women 83±63 s (n 277).
    "plank": HoldTimeNorm(100.0, 70.0, None, "Strand et al. 2014, prone plank"),
    # McGill 1999: left side bridge men 99±37 s (n 31), women 78±32 s (n 44); right 95±32 / 75±32.
    "side-plank-left": HoldTimeNorm(87.0, 36.0, None, _SIDE_BRIDGE + " (left)"),
    "side-plank-right": HoldTimeNorm(83.0, 34.0, None, _SIDE_BRIDGE + " (right)"),
    # No normative hold times for these two in NORMS.md: the side bridge's range stands in.
    "bird-dog": HoldTimeNorm(85.0, 35.0, None, _SIDE_BRIDGE + " (stand-in: no bird-dog norm)"),
    "bridge": HoldTimeNorm(85.0, 35.0, None, _SIDE_BRIDGE + " (stand-in: no supine bridge norm)"),
    # McGill 1999 extensor hold: men 161±61 s, women 185±60 s; Biering-Sørensen 1984 stops at 240 s.
    "biering-sorensen": HoldTimeNorm(175.0, 61.0, 240.0, "McGill 1999 extensor; Biering-Sørensen 1984 cap"),
}

#: Shortest simulated hold, s (a draw below it is moved up to it).
MIN_HOLD_S = 15.0


@dataclass(frozen=True)
class HoldTruth:
    """Ground truth of a hold. Times in session s; drift in deg/min on the lost segment's axis.

    The lost segment leaves the held posture by `loss_deg` over [fail_time_s, fail_time_s + loss_s].
    Tremor is a tremor_hz oscillation whose RMS grows linearly from start to end of the hold.
    fail_time_s may lie after the recording's end (the hold outlasted it: censored).
    key_start_s / key_end_s: the simulated clinician's keys (NaN when not pressed).
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
    duration_s: float = math.inf
    key_start_s: float = math.nan
    key_end_s: float = math.nan

    @property
    def held_s(self) -> float:
        """How long the position was held: from reaching it to losing it."""
        return self.fail_time_s - self.hold_start_s

    @property
    def lost(self) -> bool:
        """Whether the position is lost before the recording ends."""
        return self.fail_time_s + self.loss_s <= self.duration_s

    @property
    def stopwatch_s(self) -> float:
        """What the clinician's stopwatch reads: from the start key (or the true arrival) to E."""
        start = self.key_start_s if math.isfinite(self.key_start_s) else self.hold_start_s
        return self.key_end_s - start


class Hold(Drill):
    """One static hold, ended by the position being lost (or by the end of the recording).

    held_s: how long the position is held (None: drawn from HOLD_TIME_NORMS); fail_time_s: when it
    is lost, session s (overrides held_s); start_key: the simulated clinician also presses a key
    when the position is reached."""

    default_duration_s = 60.0
    get_into_s = 3.0
    after_loss_s = 3.0

    def __init__(
        self,
        name: str,
        options: DrillOptions,
        hold: str,
        fail_time_s: float | None = None,
        held_s: float | None = None,
        start_key: bool = False,
        drift_deg_per_min: float = 3.0,
        tremor_hz: float = 9.0,
        tremor_rms_start_deg: float = 0.05,
        tremor_rms_end_deg: float = 0.30,
        loss_deg: float = 15.0,
        loss_s: float = 1.5,
    ) -> None:
        super().__init__(name, options)
        self.posture = HOLD_POSTURES[hold]
        self.norm = HOLD_TIME_NORMS[hold]
        self.hold_start_s = self.calibration_end_s + 1.0 + self.get_into_s
        drawn = max(MIN_HOLD_S, float(self.rng.normal(self.norm.mean_s, self.norm.sd_s)))
        if fail_time_s is None:
            fail_time_s = self.hold_start_s + (drawn if held_s is None else held_s)
        reaction_end = float(self.rng.uniform(0.3, 0.8))  # seeing the loss, pressing E
        reaction_start = float(self.rng.uniform(0.2, 0.5))
        if options.duration_s is None:
            end = fail_time_s + loss_s + self.after_loss_s
            cap = self.norm.cap_s
            self.duration_s = end if cap is None else min(end, self.hold_start_s + cap)
        key_end = fail_time_s + reaction_end
        self._truth = HoldTruth(
            hold,
            self.posture,
            self.hold_start_s,
            fail_time_s,
            loss_deg,
            loss_s,
            drift_deg_per_min,
            tremor_hz,
            tremor_rms_start_deg,
            tremor_rms_end_deg,
            duration_s=self.duration_s,
            key_start_s=self.hold_start_s + reaction_start if start_key else math.nan,
            key_end_s=key_end if key_end < self.duration_s else math.nan,
        )
        self.hold_sway = make_sway(self.rng, np.radians(0.3) * options.sway_factor, (0.1, 1.0))
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
        """The simulated clinician's keys: position reached (if asked) and position lost (E)."""
        truth, events = self._truth, []
        if math.isfinite(truth.key_start_s):
            events.append(
                Event(truth.key_start_s, EventKind.HOLD_START, "position reached", source="simulator")
            )
        if math.isfinite(truth.key_end_s):
            events.append(Event(truth.key_end_s, EventKind.HOLD_END, "position lost", source="simulator"))
        return tuple(events)
