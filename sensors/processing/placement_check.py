"""Notice a sensor that moved on the skin during a session.

Whenever the patient stands still and upright again (a window of `window_s` in which every
segment's inclination varies by less than `max_sway_deg` and the trunk is within
`upright_deg` of its calibrated upright), each sensor should read close to its calibrated
upright. A sensor whose reading has shifted by more than `moved_deg` while the lumbar/pelvis
pair still agrees otherwise has probably slipped or been knocked.

Use it on drills performed standing: seated, the pelvis tilts back 10–20° with the trunk upright,
which the lumbar and pelvic sensors alone cannot tell from a slipped pelvic sensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors.placements import Placement


@dataclass(frozen=True)
class MovedSensorSettings:
    window_s: float = 2.0
    max_sway_deg: float = 1.5
    upright_deg: float = 20.0
    moved_deg: float = 6.0


@dataclass(frozen=True)
class MovedSensor:
    """A sensor whose upright reading shifted: when it was first seen, by how much (deg)."""

    placement: Placement
    time_s: float
    shift_deg: float

    def message(self) -> str:
        return (
            f"{self.placement.value} sensor: standing upright it now reads {self.shift_deg:.0f}° off "
            f"its calibrated upright (from {self.time_s:.0f} s); it may have slipped — check the strap "
            "and recalibrate"
        )


def moved_sensors(
    time_s: np.ndarray,
    placements: tuple[Placement, ...],
    inclination_deg: np.ndarray,
    settings: MovedSensorSettings | None = None,
) -> list[MovedSensor]:
    """Sensors that moved, from calibrated inclination (n, p, 2) deg at time_s (n,)."""
    s = settings or MovedSensorSettings()
    t = np.asarray(time_s, dtype=float)
    rate = 1.0 / float(np.median(np.diff(t)))
    window = max(2, round(s.window_s * rate))
    found: dict[Placement, MovedSensor] = {}
    for start in range(0, len(t) - window + 1, window // 2):
        part = inclination_deg[start : start + window]
        if not np.isfinite(part).all() or np.ptp(part, axis=0).max() > s.max_sway_deg:
            continue
        upright = np.abs(part.mean(axis=0))  # (p, 2)
        if upright[:, 0].min() > s.upright_deg:
            continue  # not standing upright (lying, sitting, bent)
        for k, placement in enumerate(placements):
            shift = float(np.hypot(*part[:, k].mean(axis=0)))
            others = [float(np.hypot(*part[:, j].mean(axis=0))) for j in range(len(placements)) if j != k]
            if (
                shift > s.moved_deg
                and (not others or min(others) < s.moved_deg / 2)
                and placement not in found
            ):
                found[placement] = MovedSensor(placement, float(t[start]), shift)
    return list(found.values())
