"""Postural sway measures of a two-dimensional trace (AP, ML): the Prieto (1996) time- and
frequency-domain set as used by ISway (Mancini et al. 2012) for trunk acceleration, and the same
measures on trunk inclination angles for balance drills and static holds.

Inputs are AP and ML traces (n,) in one unit u (deg for angles, m/s² for acceleration), sampled
at rate_hz; they are mean-removed here. Filter them first where the method asks for it (ISway:
3.5 Hz zero-phase low-pass, `filters.lowpass_zero_phase`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors.processing.errors import ProcessingError

#: χ²(0.95, 2 dof): scales the covariance determinant to the 95 % prediction ellipse.
CHI2_95_2DOF = 5.991464547107979

#: Band over which the frequency measures are computed, Hz (Prieto 1996: 0.15–5 Hz).
SPECTRAL_BAND_HZ = (0.15, 5.0)


@dataclass(frozen=True)
class Spectrum:
    """Frequency measures of one trace: F50/F95 (Hz below which 50 %/95 % of the power lies),
    centroid √(μ2/μ0) (Hz) and dispersion √(1 − μ1²/(μ0·μ2)) (0–1). NaN without power."""

    f50_hz: float
    f95_hz: float
    centroid_hz: float
    dispersion: float


@dataclass(frozen=True)
class SwayMeasures:
    """Sway of one trial (Prieto 1996; Mancini 2012). u is the input unit.

    rms_*: √mean(x²) per axis and of the resultant distance R = √(AP² + ML²) (u);
    mean_distance: mean R (MDIST, u); range_*: peak-to-peak per axis, resultant √(rAP² + rML²) (u);
    path_length: Σ√(ΔAP² + ΔML²) (u); mean_velocity: path_length / T (u/s) for angles, the ISway
    mean |∫(AP, ML)dt| (m/s) for acceleration; mean_frequency_hz: path/(2π·MDIST·T);
    jerk: ½∫(dAP/dt)² + (dML/dt)² dt (u²/s; the ISway JERK, m²/s⁵, for acceleration input);
    ellipse_area_95: 95 % prediction ellipse π·χ²(0.95, 2)·√det Σ (Schubert & Kirchner 2014, u²);
    spectrum_ap / spectrum_ml: frequency measures over 0.15–5 Hz.
    """

    duration_s: float
    rms_ap: float
    rms_ml: float
    rms: float
    mean_distance: float
    range_ap: float
    range_ml: float
    range: float
    path_length: float
    mean_velocity: float
    mean_frequency_hz: float
    jerk: float
    ellipse_area_95: float
    spectrum_ap: Spectrum
    spectrum_ml: Spectrum


def prepare() -> None:
    """Import the scipy parts the sway measures use (about a second): a live session does it as
    it starts, so its first running measures do not hold up a frame."""
    from scipy import integrate, signal  # noqa: F401


def spectrum_measures(
    x: np.ndarray, rate_hz: float, band_hz: tuple[float, float] = SPECTRAL_BAND_HZ
) -> Spectrum:
    """Frequency measures (Prieto 1996) of x (n,) from a Welch PSD with 20 s Hann windows."""
    from scipy import signal  # imported when needed: scipy submodules are slow to import

    x = np.asarray(x, dtype=float) - np.mean(x)
    nan = Spectrum(np.nan, np.nan, np.nan, np.nan)
    if len(x) < 8 or not np.any(x):
        return nan
    per_segment = min(len(x), round(20 * rate_hz))
    f, power = signal.welch(x, fs=rate_hz, nperseg=per_segment, detrend="constant")
    keep = (f >= band_hz[0]) & (f <= band_hz[1])
    f, power = f[keep], power[keep]
    mu0, mu1, mu2 = (np.sum(power * f**k) for k in range(3))
    if mu0 <= 0:
        return nan
    cumulative = np.cumsum(power) / mu0
    return Spectrum(
        f50_hz=float(f[np.searchsorted(cumulative, 0.5)]),
        f95_hz=float(f[np.searchsorted(cumulative, 0.95)]),
        centroid_hz=float(np.sqrt(mu2 / mu0)),
        dispersion=float(np.sqrt(max(1.0 - mu1**2 / (mu0 * mu2), 0.0))),
    )


def sway_measures(ap: np.ndarray, ml: np.ndarray, rate_hz: float, acceleration: bool = False) -> SwayMeasures:
    """Sway measures of AP and ML traces (n,) in unit u at rate_hz; set `acceleration` for
    acceleration input (changes only mean_velocity, see `SwayMeasures`). NaN samples are dropped."""
    from scipy import integrate, signal  # imported when needed: scipy submodules are slow to import

    ap = np.asarray(ap, dtype=float)
    ml = np.asarray(ml, dtype=float)
    if ap.shape != ml.shape or ap.ndim != 1:
        raise ProcessingError(f"sway needs two traces of equal shape (n,), got {ap.shape} and {ml.shape}")
    keep = np.isfinite(ap) & np.isfinite(ml)
    ap, ml = ap[keep], ml[keep]
    if len(ap) < 2:
        raise ProcessingError("sway needs at least two valid samples")
    ap = ap - ap.mean()
    ml = ml - ml.mean()
    dt = 1.0 / rate_hz
    duration = len(ap) * dt
    distance = np.hypot(ap, ml)
    mean_distance = float(distance.mean())
    path = float(np.sum(np.hypot(np.diff(ap), np.diff(ml))))
    d_ap, d_ml = np.gradient(ap, dt), np.gradient(ml, dt)
    jerk = 0.5 * float(integrate.trapezoid(d_ap**2 + d_ml**2, dx=dt))
    if acceleration:
        velocity = np.stack([integrate.cumulative_trapezoid(c, dx=dt, initial=0.0) for c in (ap, ml)], axis=1)
        velocity = signal.detrend(velocity, axis=0)  # remove the drift integration always adds
        mean_velocity = float(np.mean(np.linalg.norm(velocity, axis=1)))
    else:
        mean_velocity = path / duration
    covariance = np.cov(np.stack([ap, ml]))
    area = float(np.pi * CHI2_95_2DOF * np.sqrt(max(np.linalg.det(covariance), 0.0)))
    range_ap, range_ml = float(np.ptp(ap)), float(np.ptp(ml))
    return SwayMeasures(
        duration_s=duration,
        rms_ap=float(np.sqrt(np.mean(ap**2))),
        rms_ml=float(np.sqrt(np.mean(ml**2))),
        rms=float(np.sqrt(np.mean(distance**2))),
        mean_distance=mean_distance,
        range_ap=range_ap,
        range_ml=range_ml,
        range=float(np.hypot(range_ap, range_ml)),
        path_length=path,
        mean_velocity=mean_velocity,
        mean_frequency_hz=path / (2 * np.pi * mean_distance * duration)
        if mean_distance > 0
        else float("nan"),
        jerk=jerk,
        ellipse_area_95=area,
        spectrum_ap=spectrum_measures(ap, rate_hz),
        spectrum_ml=spectrum_measures(ml, rate_hz),
    )


def confidence_ellipse(ap: np.ndarray, ml: np.ndarray, points: int = 100) -> np.ndarray:
    """Outline (points, 2) [ML, AP] of the 95 % prediction ellipse of sway traces (n,) around their
    mean; its area is `SwayMeasures.ellipse_area_95` (Schubert & Kirchner 2014). NaN samples dropped."""
    ap = np.asarray(ap, dtype=float)
    ml = np.asarray(ml, dtype=float)
    keep = np.isfinite(ap) & np.isfinite(ml)
    if keep.sum() < 3:
        raise ProcessingError("an ellipse needs at least three valid samples")
    centre = np.array([ml[keep].mean(), ap[keep].mean()])
    values, vectors = np.linalg.eigh(np.cov(np.stack([ml[keep], ap[keep]])))
    radii = np.sqrt(CHI2_95_2DOF * np.maximum(values, 0.0))
    angle = np.linspace(0.0, 2.0 * np.pi, points)
    circle = np.stack([np.cos(angle) * radii[0], np.sin(angle) * radii[1]], axis=1)
    return centre + circle @ vectors.T
