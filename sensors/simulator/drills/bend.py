"""Forward bend and return repetitions with a scripted lumbo-pelvic rhythm."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.simulator.body import Pose
from sensors.simulator.drills.base import Drill, DrillOptions
from sensors.simulator.profiles import MINIMUM_JERK_PEAK_VELOCITY_FACTOR, active, minimum_jerk


@dataclass(frozen=True)
class BendRepetitionTruth:
    """One bend and return. Times in session s, angles in deg.

    Trunk (lumbar sensor) inclination rises from 0 to `trunk_range_deg` by a minimum-jerk move
    over [start_s, peak_s]; the pelvis starts `pelvis_onset_lag_s` later and ends at
    (1 − end_range_lumbar_contribution)·trunk range, so lumbar = trunk − pelvis.
    """

    start_s: float
    peak_s: float
    return_start_s: float
    end_s: float
    trunk_range_deg: float
    end_range_lumbar_contribution: float
    pelvis_onset_lag_s: float

    @property
    def pelvis_range_deg(self) -> float:
        return self.trunk_range_deg * (1.0 - self.end_range_lumbar_contribution)

    @property
    def lumbar_range_deg(self) -> float:
        return self.trunk_range_deg * self.end_range_lumbar_contribution

    @property
    def lumbar_pelvic_ratio(self) -> float:
        return self.lumbar_range_deg / self.pelvis_range_deg

    @property
    def flexion_duration_s(self) -> float:
        return self.peak_s - self.start_s

    @property
    def trunk_peak_velocity_deg_s(self) -> float:
        """Peak trunk angular velocity during flexion."""
        return MINIMUM_JERK_PEAK_VELOCITY_FACTOR * self.trunk_range_deg / self.flexion_duration_s

    @property
    def pelvis_peak_velocity_deg_s(self) -> float:
        duration = self.flexion_duration_s - self.pelvis_onset_lag_s
        return MINIMUM_JERK_PEAK_VELOCITY_FACTOR * self.pelvis_range_deg / duration

    def angles_deg(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scripted (trunk, pelvis) sagittal inclination at times t (n,), deg, for this repetition."""
        flex = self.flexion_duration_s
        back = self.end_s - self.return_start_s
        lag = self.pelvis_onset_lag_s
        trunk = self.trunk_range_deg * (
            minimum_jerk((t - self.start_s) / flex) - minimum_jerk((t - self.return_start_s) / back)
        )
        pelvis = self.pelvis_range_deg * (
            minimum_jerk((t - self.start_s - lag) / (flex - lag))
            - minimum_jerk((t - self.return_start_s) / (back - lag))
        )
        return trunk, pelvis

    def contribution_curve(self, progress: np.ndarray) -> np.ndarray:
        """Lumbar contribution Δθ_L/Δθ_trunk (0–1) at flexion progress (0–1 of trunk range).

        Progress is the trunk's share of its range reached; the curve is read off the script.
        """
        t = np.linspace(self.start_s, self.peak_s, 4001)
        trunk, pelvis = self.angles_deg(t)
        fraction = trunk / self.trunk_range_deg
        with np.errstate(invalid="ignore", divide="ignore"):
            share = (trunk - pelvis) / trunk
        keep = fraction > 1e-6
        return np.interp(progress, fraction[keep], share[keep])


@dataclass(frozen=True)
class ForwardBendTruth:
    repetitions: tuple[BendRepetitionTruth, ...]


class ForwardBend(Drill):
    """Repeated forward bend to end range and return, with rest in upright stance between."""

    default_duration_s = 40.0

    def __init__(
        self,
        name: str,
        options: DrillOptions,
        trunk_range_deg: float = 100.0,
        end_range_lumbar_contribution: float = 0.48,
        pelvis_onset_lag_s: float = 0.25,
        flexion_s: float = 2.0,
        hold_s: float = 0.5,
        extension_s: float = 2.2,
        rest_s: float = 2.5,
    ) -> None:
        super().__init__(name, options)
        reps = []
        start = self.calibration_end_s + 1.0
        while start + flexion_s + hold_s + extension_s + 0.5 < self.duration_s:
            peak = start + flexion_s
            rep_range = trunk_range_deg + float(self.rng.uniform(-3.0, 3.0))
            reps.append(
                BendRepetitionTruth(
                    start_s=start,
                    peak_s=peak,
                    return_start_s=peak + hold_s,
                    end_s=peak + hold_s + extension_s,
                    trunk_range_deg=rep_range,
                    end_range_lumbar_contribution=end_range_lumbar_contribution,
                    pelvis_onset_lag_s=pelvis_onset_lag_s,
                )
            )
            start = peak + hold_s + extension_s + rest_s
        self.repetitions = tuple(reps)

    def _script(self, pose: Pose, t: np.ndarray) -> None:
        self.standing_sway.apply(pose, t)
        trunk = np.zeros_like(t)
        pelvis = np.zeros_like(t)
        for rep in self.repetitions:
            if not active(t, rep.start_s, rep.end_s):
                continue
            rep_trunk, rep_pelvis = rep.angles_deg(t)
            trunk += rep_trunk
            pelvis += rep_pelvis
        for upper in (Placement.LUMBAR, Placement.THORAX):
            pose.angles_rad[upper][:, 0] += np.radians(trunk)
        pose.angles_rad[Placement.PELVIS][:, 0] += np.radians(pelvis)
        # The hips move back as the pelvis tilts, keeping the centre of mass over the feet.
        pose.root_m[:, 0] -= 0.12 * np.sin(np.radians(pelvis))
        for thigh in (Placement.LEFT_THIGH, Placement.RIGHT_THIGH):
            pose.angles_rad[thigh][:, 0] += np.radians(0.1 * pelvis)

    @property
    def truth(self) -> ForwardBendTruth:
        return ForwardBendTruth(self.repetitions)

    def _extra_events(self) -> tuple[Event, ...]:
        return tuple(
            Event(rep.start_s, EventKind.ANNOTATION, f"bend {k + 1}", source="simulator")
            for k, rep in enumerate(self.repetitions)
        )
