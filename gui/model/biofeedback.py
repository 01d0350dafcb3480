"""The patient's biofeedback: keep the trunk inside a target zone the clinician sets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class ZoneState(StrEnum):
    INSIDE = "inside"
    NEAR_EDGE = "near edge"
    OUTSIDE = "outside"
    NO_DATA = "no data"


@dataclass(frozen=True)
class TargetZone:
    """A circle on the trunk's inclination plane: centre (sagittal, frontal) deg and radius deg.
    Within `warn_fraction` of the radius from the edge counts as near the edge."""

    centre_ap_deg: float = 0.0
    centre_ml_deg: float = 0.0
    radius_deg: float = 3.0
    warn_fraction: float = 0.8

    def __post_init__(self) -> None:
        if not self.radius_deg > 0:
            raise ValueError(f"the target zone needs a positive radius, got {self.radius_deg}°")

    def distance(self, ap_deg: float, ml_deg: float) -> float:
        """How far (deg) the trunk is from the zone's centre."""
        return math.hypot(ap_deg - self.centre_ap_deg, ml_deg - self.centre_ml_deg)

    def state(self, ap_deg: float, ml_deg: float) -> ZoneState:
        if not (math.isfinite(ap_deg) and math.isfinite(ml_deg)):
            return ZoneState.NO_DATA
        d = self.distance(ap_deg, ml_deg)
        if d > self.radius_deg:
            return ZoneState.OUTSIDE
        return ZoneState.NEAR_EDGE if d > self.warn_fraction * self.radius_deg else ZoneState.INSIDE


class HoldTimer:
    """Time spent inside the zone: the current unbroken stretch and the total, s."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.current_s = 0.0
        self.total_s = 0.0
        self.longest_s = 0.0
        self._last_t: float | None = None

    def update(self, time_s: float, state: ZoneState) -> None:
        """Advance to session time `time_s` given the zone state since the last update."""
        if not math.isfinite(time_s):
            return
        if self._last_t is not None and time_s > self._last_t:
            dt = time_s - self._last_t
            if state in (ZoneState.INSIDE, ZoneState.NEAR_EDGE):
                self.current_s += dt
                self.total_s += dt
                self.longest_s = max(self.longest_s, self.current_s)
            else:
                self.current_s = 0.0
        self._last_t = time_s
