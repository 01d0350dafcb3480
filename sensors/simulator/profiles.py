"""Smooth motion primitives, evaluable at any time array, used to script drills.

All are pure functions of time so that a drill can be evaluated at sample instants and at the
half-sample and finite-difference points the IMU model needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def minimum_jerk(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk ramp 0→1 over u ∈ [0, 1] (10u³ − 15u⁴ + 6u⁵), clamped outside."""
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10.0 - 15.0 * u + 6.0 * u**2)


def minimum_jerk_integral(u: np.ndarray) -> np.ndarray:
    """∫₀ᵘ minimum_jerk, continued linearly (slope 1) past u = 1 and zero before 0."""
    u = np.asarray(u, dtype=float)
    inside = np.clip(u, 0.0, 1.0)
    value = 2.5 * inside**4 - 3.0 * inside**5 + inside**6
    return value + np.maximum(u - 1.0, 0.0)


#: Peak velocity of a minimum-jerk move of size Δ and duration T is this factor · Δ/T.
MINIMUM_JERK_PEAK_VELOCITY_FACTOR = 1.875


def ramp(t: np.ndarray, start_s: float, duration_s: float, amount: float) -> np.ndarray:
    """Minimum-jerk change by `amount` that starts at `start_s` and lasts `duration_s`."""
    return amount * minimum_jerk((np.asarray(t) - start_s) / duration_s)


@dataclass(frozen=True)
class SumOfSines:
    """Band-limited random sway as a sum of sinusoids with known spectrum.

    frequencies_hz, amplitudes, phases_rad: (k,). The signal is Σ a·sin(2πft + φ); its
    power at fᵢ is aᵢ²/2, so its RMS and spectral moments are known exactly.
    """

    frequencies_hz: np.ndarray
    amplitudes: np.ndarray
    phases_rad: np.ndarray

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        arg = 2 * np.pi * np.multiply.outer(t, self.frequencies_hz) + self.phases_rad
        return np.sin(arg) @ self.amplitudes

    def __add__(self, other: SumOfSines) -> SumOfSines:
        return SumOfSines(
            np.concatenate([self.frequencies_hz, other.frequencies_hz]),
            np.concatenate([self.amplitudes, other.amplitudes]),
            np.concatenate([self.phases_rad, other.phases_rad]),
        )

    def scaled(self, factor: float) -> SumOfSines:
        """The same sway with every amplitude multiplied by `factor`."""
        return SumOfSines(self.frequencies_hz, self.amplitudes * factor, self.phases_rad)

    @property
    def rms(self) -> float:
        """Long-run RMS of the signal (same unit as the amplitudes)."""
        return float(np.sqrt(np.sum(self.amplitudes**2) / 2.0))

    def power_fraction_frequency(self, fraction: float) -> float:
        """Lowest frequency, Hz, below which `fraction` of the power lies (F50 for 0.5)."""
        order = np.argsort(self.frequencies_hz)
        power = self.amplitudes[order] ** 2
        cumulative = np.cumsum(power) / np.sum(power)
        return float(self.frequencies_hz[order][np.searchsorted(cumulative, fraction)])

    @property
    def centroid_hz(self) -> float:
        """Spectral centroid √(μ2/μ0), Hz."""
        power = self.amplitudes**2
        return float(np.sqrt(np.sum(power * self.frequencies_hz**2) / np.sum(power)))


def make_sway(
    rng: np.random.Generator,
    rms: float,
    band_hz: tuple[float, float],
    components: int = 40,
    spectral_slope: float = -1.0,
) -> SumOfSines:
    """Random sway with exact RMS `rms` and power spread over `band_hz` ∝ f^spectral_slope."""
    low, high = band_hz
    frequencies = np.exp(rng.uniform(np.log(low), np.log(high), components))
    power = frequencies**spectral_slope * rng.uniform(0.5, 1.5, components)
    amplitudes = np.sqrt(2.0 * power)
    amplitudes *= rms / np.sqrt(np.sum(amplitudes**2) / 2.0)
    phases = rng.uniform(0.0, 2 * np.pi, components)
    return SumOfSines(frequencies, amplitudes, phases)


def active(t: np.ndarray, start_s: float, end_s: float) -> bool:
    """Whether times t (n,) reach into [start_s, end_s]: scripts skip motions that are over or not
    yet begun, whose contribution there is exactly zero, so long drills stay cheap to evaluate."""
    return bool(len(t)) and float(t.min()) <= end_s and float(t.max()) >= start_s


def damped_response(tau_s: np.ndarray, natural_frequency_rad_s: float, damping_ratio: float) -> np.ndarray:
    """Free response of θ̈ + 2ζωθ̇ + ω²θ = 0 from θ=0, θ̇>0 at τ=0, scaled to a first peak of 1.

    Zero for τ < 0. Valid for 0 < ζ < 1 (under-damped, as the trunk is).
    """
    tau_s = np.asarray(tau_s, dtype=float)
    omega_d = natural_frequency_rad_s * np.sqrt(1.0 - damping_ratio**2)
    decay = damping_ratio * natural_frequency_rad_s
    t_peak = damped_response_time_to_peak(natural_frequency_rad_s, damping_ratio)
    peak = np.exp(-decay * t_peak) * np.sin(omega_d * t_peak)
    tau = np.maximum(tau_s, 0.0)
    return np.where(tau_s > 0, np.exp(-decay * tau) * np.sin(omega_d * tau) / peak, 0.0)


def damped_response_time_to_peak(natural_frequency_rad_s: float, damping_ratio: float) -> float:
    """Time, s, from onset to the first peak of `damped_response`."""
    omega_d = natural_frequency_rad_s * np.sqrt(1.0 - damping_ratio**2)
    return float(np.arctan2(omega_d, damping_ratio * natural_frequency_rad_s) / omega_d)


def damped_response_overshoot(damping_ratio: float) -> float:
    """Ratio of the second (opposite) extremum to the first peak, exp(−ζπ/√(1−ζ²))."""
    return float(np.exp(-damping_ratio * np.pi / np.sqrt(1.0 - damping_ratio**2)))
