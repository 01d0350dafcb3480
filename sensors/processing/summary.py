"""A short numeric summary of a session's segment angles, for the end-of-recording printout."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors.placements import Placement
from sensors.processing.angles import FRONTAL, SAGITTAL


@dataclass(frozen=True)
class AngleStatistics:
    """Mean, SD (sway about the mean) and range of one angle trace, deg; coverage 0–1."""

    mean_deg: float
    sd_deg: float
    range_deg: float
    coverage: float

    @staticmethod
    def of(angle_rad: np.ndarray) -> AngleStatistics:
        """Statistics of a trace (n,) rad, ignoring NaN gaps."""
        finite = angle_rad[np.isfinite(angle_rad)]
        if len(finite) == 0:
            return AngleStatistics(np.nan, np.nan, np.nan, 0.0)
        deg = np.degrees(finite)
        return AngleStatistics(
            float(np.mean(deg)), float(np.std(deg)), float(np.ptp(deg)), len(finite) / len(angle_rad)
        )


@dataclass(frozen=True)
class AngleSummary:
    """Per segment ('trunk', 'pelvis', ..., 'lumbar') and plane ('sagittal', 'frontal') statistics."""

    statistics: dict[tuple[str, str], AngleStatistics]
    duration_s: float


def summarize_angles(
    time_s: np.ndarray, placements: tuple[Placement, ...], inclination_rad: np.ndarray, lumbar_rad: np.ndarray
) -> AngleSummary:
    """Summary of inclination (n, p, 2) and lumbar (n, 2) angles, rad, sampled at time_s (n,)."""
    stats = {}
    planes = (("sagittal", SAGITTAL), ("frontal", FRONTAL))
    for k, placement in enumerate(placements):
        for plane, axis in planes:
            stats[(placement.segment, plane)] = AngleStatistics.of(inclination_rad[:, k, axis])
    if np.isfinite(lumbar_rad).any():
        for plane, axis in planes:
            stats[("lumbar", plane)] = AngleStatistics.of(lumbar_rad[:, axis])
    duration = float(time_s[-1] - time_s[0]) if len(time_s) else 0.0
    return AngleSummary(stats, duration)
