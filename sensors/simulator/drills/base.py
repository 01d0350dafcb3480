"""What every scripted drill shares: options, a standing calibration period, background sway."""

from __future__ import annotations

import copy
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from sensors.errors import UnknownDrillError
from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.simulator.body import HIP_HEIGHT_M, Pose, upright_pose
from sensors.simulator.profiles import SumOfSines, make_sway


def fresh_seed() -> int:
    """A new simulator seed (1 … 2³¹−1) from the operating system's entropy: one per recording,
    so repetitions differ as a real patient's do. Store it with the recording; the same seed
    gives the same simulated patient and data again."""
    return secrets.randbelow(2**31 - 1) + 1


@dataclass(frozen=True)
class DrillOptions:
    """Choices common to every drill.

    duration_s: total length including calibration (None: the drill's default).
    dual_task_factor: multiplies all postural sway (1 = single task; the dual-task condition).
    calibration_s: quiet upright standing at the start, for sensor-to-segment calibration.
    sway_scale: multiplies all postural sway too, in the same condition: a more (> 1) or less
    (< 1) unsteady patient, e.g. before and after treatment.
    """

    duration_s: float | None = None
    seed: int = 0
    dual_task_factor: float = 1.0
    calibration_s: float = 3.0
    sway_scale: float = 1.0

    @property
    def sway_factor(self) -> float:
        """What every drill's postural sway is multiplied by: the patient's scale × the condition's."""
        return self.sway_scale * self.dual_task_factor

    def __post_init__(self) -> None:
        if self.duration_s is not None and self.duration_s <= self.calibration_s:
            raise UnknownDrillError(
                f"drill duration {self.duration_s} s must exceed the {self.calibration_s} s calibration"
            )
        if self.dual_task_factor <= 0:
            raise UnknownDrillError(f"dual_task_factor must be positive, got {self.dual_task_factor}")
        if not (0 < self.sway_scale < float("inf")):
            raise UnknownDrillError(f"sway_scale must be a positive number, got {self.sway_scale}")


@dataclass(frozen=True)
class StandingSway:
    """Upright postural sway: an inverted pendulum about the ankles plus hip-strategy trunk sway.

    All four are angles in rad. Trunk sway = body + trunk_extra; pelvis sway = body.
    """

    body_ap: SumOfSines
    body_ml: SumOfSines
    trunk_extra_ap: SumOfSines
    trunk_extra_ml: SumOfSines

    @staticmethod
    def draw(
        rng: np.random.Generator,
        ap_rms_deg: float,
        ml_rms_deg: float,
        band_hz: tuple[float, float],
        factor: float = 1.0,
    ) -> StandingSway:
        """Random sway whose trunk AP/ML RMS equal the given values (deg) times `factor`."""
        trunk_share = 0.4  # fraction of trunk sway amplitude that is hip strategy
        body = np.sqrt(1 - trunk_share**2)
        ap, ml = np.radians(ap_rms_deg) * factor, np.radians(ml_rms_deg) * factor
        return StandingSway(
            body_ap=make_sway(rng, ap * body, band_hz),
            body_ml=make_sway(rng, ml * body, band_hz),
            trunk_extra_ap=make_sway(rng, ap * trunk_share, (band_hz[0] * 2, band_hz[1] * 2)),
            trunk_extra_ml=make_sway(rng, ml * trunk_share, (band_hz[0] * 2, band_hz[1] * 2)),
        )

    @property
    def trunk_ap(self) -> SumOfSines:
        """Trunk (lumbar sensor) sagittal sway, rad."""
        return self.body_ap + self.trunk_extra_ap

    @property
    def trunk_ml(self) -> SumOfSines:
        """Trunk (lumbar sensor) frontal sway, rad."""
        return self.body_ml + self.trunk_extra_ml

    def apply(self, pose: Pose, t: np.ndarray, weight: np.ndarray | float = 1.0) -> None:
        """Add the sway (scaled by `weight`, (n,) or scalar) to `pose` in place."""
        body_ap = self.body_ap(t) * weight
        body_ml = self.body_ml(t) * weight
        extra_ap = self.trunk_extra_ap(t) * weight
        extra_ml = self.trunk_extra_ml(t) * weight
        pose.angles_rad[Placement.PELVIS][:, 0] += body_ap
        pose.angles_rad[Placement.PELVIS][:, 1] += body_ml
        for upper in (Placement.LUMBAR, Placement.THORAX):
            pose.angles_rad[upper][:, 0] += body_ap + extra_ap
            pose.angles_rad[upper][:, 1] += body_ml + extra_ml
        pose.root_m[:, 0] += HIP_HEIGHT_M * np.sin(body_ap)
        pose.root_m[:, 1] -= HIP_HEIGHT_M * np.sin(body_ml)


class Drill(ABC):
    """A scripted drill: a pose as a pure function of time, its events, and its ground truth.

    The first `options.calibration_s` seconds are always quiet upright standing.
    """

    default_duration_s: float = 30.0

    def __init__(self, name: str, options: DrillOptions) -> None:
        self.name = name
        self.options = options
        self.duration_s = float(options.duration_s or self.default_duration_s)
        self.rng = np.random.default_rng(options.seed)
        self.heading_rad = float(self.rng.uniform(-np.pi, np.pi))
        self.calibration_end_s = options.calibration_s
        self.standing_sway = StandingSway.draw(self.rng, 0.3, 0.2, (0.1, 1.0), factor=options.sway_factor)

    def pose(self, t: np.ndarray) -> Pose:
        """Pose at session times t (n,), s (true time)."""
        t = np.asarray(t, dtype=float)
        pose = upright_pose(len(t))
        self._script(pose, t)
        return pose

    @abstractmethod
    def _script(self, pose: Pose, t: np.ndarray) -> None:
        """Write the drill's motion into `pose` (upright on entry) in place."""

    @property
    @abstractmethod
    def truth(self) -> Any:
        """The drill-specific ground truth (a frozen dataclass)."""

    def events(self) -> tuple[Event, ...]:
        """Task start and end, plus any drill-specific markers, in time order."""
        extra = self._extra_events()
        base = (
            Event(self.calibration_end_s, EventKind.TASK_START, self.name, source="simulator"),
            Event(self.duration_s, EventKind.TASK_END, self.name, source="simulator"),
        )
        return tuple(sorted(base + extra, key=lambda e: e.time_s))

    def _extra_events(self) -> tuple[Event, ...]:
        return ()


def continued(drill: Drill, extra_s: float) -> Drill:
    """The same drill, but the body goes on (standing as its script leaves it) for `extra_s`
    after the script ends: for sensors that keep sampling until the host stops them. Its script,
    truth and events are the original's."""
    longer = copy.copy(drill)
    longer.duration_s = drill.duration_s + extra_s
    return longer
