"""Sit-to-stand phases from the trunk and pelvic sensors (METRICS.md §5; Van Lummel et al.).

A trunk forward lean of at least `min_flexion_deg` is a candidate. Its flexion phase runs from the
start of forward rotation to peak flexion (≈ seat-off), its extension phase from peak flexion to
the end of backward rotation (start and end by the `onset_velocity_deg_s` rule of
`movement.py`). Sitting down also leans the trunk forward; a lean is a rise only when the pelvis
goes up by more than `min_rise_m` over it: the earth-vertical acceleration of the pelvic sensor
integrated twice, its velocity taken as zero at both ends of the movement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import integrate, signal

from sensors.processing.errors import ProcessingError
from sensors.processing.movement import movement_end, movement_start


@dataclass(frozen=True)
class SitToStandSettings:
    min_flexion_deg: float = 15.0
    onset_velocity_deg_s: float = 5.0
    min_rise_m: float = 0.15
    min_separation_s: float = 2.0


@dataclass(frozen=True)
class SitToStand:
    """One rise. Times s, angles deg, velocities deg/s, rise m."""

    flexion_start_s: float
    peak_flexion_s: float
    extension_end_s: float
    trunk_flexion_deg: float
    flexion_duration_s: float
    extension_duration_s: float
    flexion_peak_velocity_deg_s: float
    extension_peak_velocity_deg_s: float
    pelvis_rise_m: float


def vertical_displacement(time_s: np.ndarray, vertical_acc_m_s2: np.ndarray) -> float:
    """Net vertical displacement, m, over a movement from its gravity-free earth-vertical
    acceleration (n,), taking the velocity as zero at both ends (linear drift removed)."""
    velocity = integrate.cumulative_trapezoid(vertical_acc_m_s2, time_s, initial=0.0)
    velocity -= np.linspace(0.0, velocity[-1], len(velocity))
    return float(integrate.trapezoid(velocity, time_s))


def sit_to_stand_phases(
    time_s: np.ndarray,
    trunk_sagittal_deg: np.ndarray,
    pelvis_vertical_acc_m_s2: np.ndarray,
    settings: SitToStandSettings | None = None,
) -> tuple[SitToStand, ...]:
    """Every rise in the traces (n,): trunk sagittal inclination, deg, and the pelvic sensor's
    gravity-free earth-vertical acceleration, m/s², at time_s (n,)."""
    s = settings or SitToStandSettings()
    t = np.asarray(time_s, dtype=float)
    trunk = np.asarray(trunk_sagittal_deg, dtype=float)
    vertical = np.asarray(pelvis_vertical_acc_m_s2, dtype=float)
    if not (t.shape == trunk.shape == vertical.shape):
        raise ProcessingError("sit-to-stand needs time, trunk and vertical acceleration of equal shape (n,)")
    rate = 1.0 / float(np.median(np.diff(t)))
    velocity = np.gradient(trunk, t)
    baseline = np.nanpercentile(trunk, 10)
    peaks, _ = signal.find_peaks(
        np.nan_to_num(trunk, nan=baseline),
        height=baseline + s.min_flexion_deg,
        distance=max(1, round(s.min_separation_s * rate)),
    )
    limit = s.onset_velocity_deg_s
    rises = []
    for peak in peaks:
        start = movement_start(velocity, peak, limit)
        end = movement_end(-velocity, peak, limit)
        movement = slice(start, end + 1)
        if end <= peak or not np.isfinite(vertical[movement]).all() or not np.isfinite(trunk[movement]).all():
            continue
        rise = vertical_displacement(t[movement], vertical[movement])
        if rise < s.min_rise_m:
            continue  # sitting down, or a lean without standing up
        rises.append(
            SitToStand(
                flexion_start_s=float(t[start]),
                peak_flexion_s=float(t[peak]),
                extension_end_s=float(t[end]),
                trunk_flexion_deg=float(trunk[peak] - trunk[start]),
                flexion_duration_s=float(t[peak] - t[start]),
                extension_duration_s=float(t[end] - t[peak]),
                flexion_peak_velocity_deg_s=float(np.max(velocity[start : peak + 1])),
                extension_peak_velocity_deg_s=float(-np.min(velocity[peak : end + 1])),
                pelvis_rise_m=rise,
            )
        )
    return tuple(rises)
