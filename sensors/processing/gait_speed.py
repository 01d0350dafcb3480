"""Step length, stride length and gait speed from the pelvic sensor: the inverted pendulum.

Zijlstra & Hof (2003, Gait Posture 18:1–10): over one step the pelvis moves on an arc of radius
l (the sensor height above the floor, standing) and rises and falls by h, so the step length is
2·√(2·l·h − h²). h is the range of the vertical position between two contacts, from the
gravity-free earth-vertical acceleration integrated twice with high-pass filters against drift —
fourth-order zero-lag Butterworth at 0.1 Hz on the acceleration and at 1 Hz on the velocity, as
mobgap's `SlZijlstra` (Soltani et al. 2021, IEEE TNSRE 29:1955) does. The model's step length is
multiplied by Zijlstra & Hof's correction factor 1.25 (their mean ratio of true to modelled step
length). Per-step lengths are cleaned like cadence (step_parameters.py); stride length is twice
the robust mean step length, speed the robust mean step length over the robust mean step time.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

import numpy as np

from sensors.processing.errors import ProcessingError
from sensors.processing.step_parameters import RobustStepSettings, robust_mean

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendulumSettings:
    acc_highpass_hz: float = 0.1
    velocity_highpass_hz: float = 1.0
    correction: float = 1.25  # Zijlstra & Hof 2003
    robust: RobustStepSettings = field(default_factory=RobustStepSettings)


@dataclass(frozen=True)
class StepLengths:
    """Per-step values (steps,) between consecutive contacts and the bout's robust means."""

    step_length_m: np.ndarray
    step_time_s: np.ndarray
    stride_length_m: float
    gait_speed_m_s: float


def _highpass(x: np.ndarray, cutoff_hz: float, rate_hz: float) -> np.ndarray:
    from scipy import signal  # imported when needed: scipy submodules are slow to import

    sos = signal.butter(4, cutoff_hz, btype="highpass", fs=rate_hz, output="sos")
    return signal.sosfiltfilt(sos, x)


def vertical_excursion_m(
    time_s: np.ndarray, vertical_acc_m_s2: np.ndarray, contacts: np.ndarray, settings: PendulumSettings
) -> np.ndarray:
    """Range of the pelvis' vertical position, m, over each step (contacts (n,) indices → (n-1,))."""
    from scipy import integrate  # imported when needed: scipy submodules are slow to import

    rate = 1.0 / float(np.median(np.diff(time_s)))
    acc = _highpass(np.nan_to_num(np.asarray(vertical_acc_m_s2, dtype=float)), settings.acc_highpass_hz, rate)
    velocity = integrate.cumulative_trapezoid(acc, time_s, initial=0.0)
    velocity = _highpass(velocity, settings.velocity_highpass_hz, rate)
    position = integrate.cumulative_trapezoid(velocity, time_s, initial=0.0)
    return np.array([np.ptp(position[a : b + 1]) for a, b in itertools.pairwise(contacts)])


def step_lengths(
    time_s: np.ndarray,
    vertical_acc_m_s2: np.ndarray,
    contacts: np.ndarray,
    sensor_height_m: float,
    settings: PendulumSettings | None = None,
) -> StepLengths:
    """Inverted-pendulum step lengths of a bout: gravity-free earth-vertical acceleration (n,), m/s²,
    at time_s (n,), contact indices (k,), and the sensor's standing height above the floor, m."""
    s = settings or PendulumSettings()
    if not 0.3 < sensor_height_m < 2.0:
        raise ProcessingError(f"sensor height {sensor_height_m} m is not a plausible pelvic sensor height")
    t = np.asarray(time_s, dtype=float)
    contacts = np.asarray(contacts, dtype=int)
    if len(contacts) < 2:
        raise ProcessingError(f"step lengths need at least 2 contacts, got {len(contacts)}")
    if len(t) < 30:
        raise ProcessingError(f"step lengths need at least 30 samples, got {len(t)}")
    h = vertical_excursion_m(t, vertical_acc_m_s2, contacts, s)
    length = s.correction * 2.0 * np.sqrt(np.abs(2.0 * sensor_height_m * h - h**2))
    contact_s = t[contacts]
    step_time = np.diff(contact_s)
    return StepLengths(
        step_length_m=length,
        step_time_s=step_time,
        stride_length_m=2.0 * robust_mean(length, s.robust),
        gait_speed_m_s=robust_mean(length, s.robust) / robust_mean(step_time, s.robust),
    )
