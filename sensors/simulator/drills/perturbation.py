"""Perturbation series: pushes that the trunk answers as an under-damped second-order system."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.simulator.body import Pose
from sensors.simulator.drills.base import Drill, DrillOptions, StandingSway
from sensors.simulator.profiles import (
    active,
    damped_response,
    damped_response_overshoot,
    damped_response_time_to_peak,
    ramp,
)

#: A scripted response is zero from this long after its onset (by then it is below 1e-9 of its peak).
RESPONSE_SUPPORT_S = 30.0

#: Direction of the trunk's displacement → (angle axis 0=pitch/1=roll, sign, root axis, sign).
DIRECTIONS = {
    "forward": (0, 1.0, 0, 1.0),
    "backward": (0, -1.0, 0, -1.0),
    "right": (1, 1.0, 1, -1.0),
    "left": (1, -1.0, 1, 1.0),
}


@dataclass(frozen=True)
class PerturbationTruth:
    """One perturbation. Angles in deg, times in session seconds.

    The trunk angle follows peak_deg · damped_response(t − onset_s) in the given direction;
    expected perturbations are preceded by an anticipatory lean against the push.
    """

    instant_s: float
    direction: str
    expected: bool
    onset_s: float
    peak_deg: float
    natural_frequency_rad_s: float
    damping_ratio: float
    anticipatory_onset_s: float  # NaN when unexpected
    anticipatory_lean_deg: float

    @property
    def onset_latency_s(self) -> float:
        return self.onset_s - self.instant_s

    @property
    def time_to_peak_s(self) -> float:
        """From onset to the first peak."""
        return damped_response_time_to_peak(self.natural_frequency_rad_s, self.damping_ratio)

    @property
    def overshoot_ratio(self) -> float:
        return damped_response_overshoot(self.damping_ratio)


@dataclass(frozen=True)
class PerturbationSeriesTruth:
    perturbations: tuple[PerturbationTruth, ...]
    pelvis_share: float  # pelvic angle response as a fraction of the trunk's


class PerturbationSeries(Drill):
    """Quiet stance with a push every 6–8 s; direction cycles, size 3–8°, every other one expected."""

    default_duration_s = 45.0
    push_shift_m = 0.02  # hip translation in the push direction
    pelvis_share = 0.25

    def __init__(
        self,
        name: str,
        options: DrillOptions,
        natural_frequency_hz: float = 1.2,
        damping_ratio: float = 0.3,
        latency_unexpected_s: float = 0.100,
        latency_expected_s: float = 0.060,
    ) -> None:
        super().__init__(name, options)
        # Background sway kept below the trunk's response band (quiet-stance sway lives mostly
        # under 0.5 Hz), so the scripted free response is what a response analysis can recover.
        self.standing_sway = StandingSway.draw(self.rng, 0.3, 0.2, (0.05, 0.25), factor=options.sway_factor)
        omega = 2 * np.pi * natural_frequency_hz
        items: list[PerturbationTruth] = []
        instant = self.calibration_end_s + 3.0
        names = list(DIRECTIONS)
        while instant < self.duration_s - 4.0:
            k = len(items)
            expected = k % 2 == 1
            latency = latency_expected_s if expected else latency_unexpected_s
            size = float(self.rng.uniform(3.0, 8.0)) * (0.6 if expected else 1.0)
            items.append(
                PerturbationTruth(
                    instant_s=instant,
                    direction=names[k % len(names)],
                    expected=expected,
                    onset_s=instant + latency,
                    peak_deg=size,
                    natural_frequency_rad_s=omega,
                    damping_ratio=damping_ratio,
                    anticipatory_onset_s=instant - 0.2 if expected else float("nan"),
                    anticipatory_lean_deg=1.0 if expected else 0.0,
                )
            )
            instant += float(self.rng.uniform(6.0, 8.0))
        self.perturbations = tuple(items)

    def _script(self, pose: Pose, t: np.ndarray) -> None:
        self.standing_sway.apply(pose, t)
        for p in self.perturbations:
            start = p.anticipatory_onset_s if p.expected else p.instant_s
            if not active(t, start, p.onset_s + RESPONSE_SUPPORT_S):
                continue
            axis, sign, root_axis, root_sign = DIRECTIONS[p.direction]
            settling = (t - p.onset_s) < RESPONSE_SUPPORT_S  # the script ends each response here
            response = (
                np.radians(p.peak_deg)
                * sign
                * np.where(
                    settling, damped_response(t - p.onset_s, p.natural_frequency_rad_s, p.damping_ratio), 0.0
                )
            )
            if p.expected:  # lean against the push, then let it go after the response
                lean = np.radians(p.anticipatory_lean_deg) * sign
                response -= ramp(t, p.anticipatory_onset_s, 0.2, lean) - ramp(t, p.instant_s + 1.0, 1.0, lean)
            for upper in (Placement.LUMBAR, Placement.THORAX):
                pose.angles_rad[upper][:, axis] += response
            pose.angles_rad[Placement.PELVIS][:, axis] += self.pelvis_share * response
            shift = ramp(t, p.instant_s, 0.15, self.push_shift_m) - ramp(
                t, p.instant_s + 1.0, 1.5, self.push_shift_m
            )
            pose.root_m[:, root_axis] += root_sign * shift

    @property
    def truth(self) -> PerturbationSeriesTruth:
        return PerturbationSeriesTruth(self.perturbations, self.pelvis_share)

    def _extra_events(self) -> tuple[Event, ...]:
        return tuple(
            Event(p.instant_s, EventKind.PERTURBATION, p.direction, source="simulator")
            for p in self.perturbations
        )
