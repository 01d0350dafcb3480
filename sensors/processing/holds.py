"""Static endurance holds (plank, side plank, bird-dog, bridge, Biering-Sørensen; METRICS.md §6).

McGill (1999): a hold ends when the position is lost. An IMU has no standard for "lost", so the
rule is ours and a setting: the segment's tilt away from the reference hold posture (mean vertical
over the first `reference_s` after the hold starts) exceeds `loss_threshold_deg` for at least
`loss_min_s`; the hold was lost at the first sample of that run. Tilt is measured between
verticals, so it is defined in every posture (see `angles.tilt_from_reference_deg`).

Also: drift (length of the slope of the tilt vector over the held part, stopping `drift_margin_s`
before the loss so the loss itself does not count, deg/min), tremor (RMS, deg, and
peak frequency, Hz, of the tilt band-passed to `tremor_band_hz`) and the fatigue trend (slope of
the tremor RMS over consecutive windows, deg/min).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

from sensors.processing.angles import segment_vertical, tilt_from_reference_deg
from sensors.processing.errors import ProcessingError


@dataclass(frozen=True)
class HoldSettings:
    reference_s: float = 2.0
    loss_threshold_deg: float = 10.0
    loss_min_s: float = 0.3
    tremor_band_hz: tuple[float, float] = (6.0, 14.0)
    tremor_window_s: float = 5.0
    drift_margin_s: float = 2.0


@dataclass(frozen=True)
class HoldResult:
    """One hold. held_s is censored (the recording ended first) when `lost` is False."""

    hold_start_s: float
    lost: bool
    lost_s: float
    held_s: float
    drift_deg_per_min: float
    tremor_rms_deg: float
    tremor_frequency_hz: float
    fatigue_trend_deg_per_min: float


def hold_analysis(
    time_s: np.ndarray, segment_q: np.ndarray, hold_start_s: float, settings: HoldSettings | None = None
) -> HoldResult:
    """Analyse a hold of the segment with orientations segment_q (n, 4) at time_s (n,) that starts
    (position reached) at hold_start_s."""
    s = settings or HoldSettings()
    t = np.asarray(time_s, dtype=float)
    q = np.asarray(segment_q, dtype=float)
    rate = 1.0 / float(np.median(np.diff(t)))
    reference = (t >= hold_start_s) & (t < hold_start_s + s.reference_s) & np.isfinite(q).all(axis=1)
    if reference.sum() < 0.5 * s.reference_s * rate:
        raise ProcessingError(
            f"hold starting at {hold_start_s:.1f} s: too few samples to fix the reference posture"
        )
    vertical = segment_vertical(q[reference]).mean(axis=0)
    tilt = tilt_from_reference_deg(q, vertical)
    magnitude = np.linalg.norm(tilt, axis=1)
    after = t >= hold_start_s
    beyond = after & (magnitude > s.loss_threshold_deg)
    run = max(1, round(s.loss_min_s * rate))
    sustained = np.convolve(beyond.astype(int), np.ones(run, int), "valid") == run
    starts = np.flatnonzero(sustained)
    lost = len(starts) > 0
    end = int(starts[0]) if lost else int(np.flatnonzero(after)[-1])
    held = (t >= hold_start_s) & (np.arange(len(t)) < end) & np.isfinite(magnitude)
    steady = held & (t < t[end] - s.drift_margin_s) if lost else held
    if steady.sum() > rate:
        slopes = np.polyfit(t[steady], tilt[steady], 1)[0]  # (2,) deg/s per component
        drift = float(np.hypot(*slopes) * 60.0)
    else:
        drift = math.nan
    band = signal.butter(4, s.tremor_band_hz, btype="bandpass", fs=rate, output="sos")
    tremor = signal.sosfiltfilt(band, np.nan_to_num(tilt[held]), axis=0)
    tremor_norm = np.linalg.norm(tremor, axis=1)
    window = max(1, round(s.tremor_window_s * rate))
    windows = [tremor_norm[k : k + window] for k in range(0, len(tremor_norm) - window + 1, window)]
    rms = np.array([np.sqrt(np.mean(w**2)) for w in windows])
    centres = hold_start_s + (np.arange(len(rms)) + 0.5) * s.tremor_window_s
    trend = float(np.polyfit(centres, rms, 1)[0] * 60.0) if len(rms) >= 2 else math.nan
    f, power = signal.welch(tremor, fs=rate, nperseg=min(len(tremor), round(4 * rate)), axis=0)
    return HoldResult(
        hold_start_s=hold_start_s,
        lost=lost,
        lost_s=float(t[end]) if lost else math.nan,
        held_s=float(t[end] - hold_start_s),
        drift_deg_per_min=drift,
        tremor_rms_deg=float(np.sqrt(np.mean(tremor_norm**2))),
        tremor_frequency_hz=float(f[np.argmax(power.sum(axis=1))]),
        fatigue_trend_deg_per_min=trend,
    )
