"""Step length, stride length and gait speed from the pelvic sensor: the inverted pendulum.

Zijlstra & Hof (2003, Gait Posture 18:1–10): over one step the pelvis moves on an arc of radius
l (the sensor height above the floor, standing) and rises and falls by h, so the step length is
2·√(2·l·h − h²). h is the range of the vertical position between two contacts, from the
gravity-free earth-vertical acceleration integrated twice with high-pass filters against drift —
fourth-order zero-lag Butterworth at 0.1 Hz on the acceleration and at 1 Hz on the velocity, as
mobgap's `SlZijlstra` (Soltani et al. 2021, IEEE TNSRE 29:1955) does. The model's step length is multiplied by
the scale factor the Mobilise-D consortium fitted for this very model and filter chain on its own
cohorts (Soltani et al. 2021; Mobilise-D-TVS-Recommended-Algorithms, SLA_SLB): K = 4.587 "in
patients with multiple sclerosis" recorded in a real-life-like context ('MS-MS'), which mobgap's
`SlZijlstra` takes as its default and writes as 4.587 / 4 = 1.147 on the per-step 2·√(2·l·h − h²)
(`PredefinedParameters.step_length_scaling_factor_ms_ms`). Its other factors are 4.739 (healthy
adults and MS, real-life-like: 1.185) and 4.99 (healthy adults and Parkinson's disease in the lab
on a GAITRite walkway: 1.2475, close to Zijlstra & Hof's own 1.25 from straight walking). The
slow, turning strides of daily life are what the real-life-like factors were fitted on.

A step that holds a pause (a stop, a hesitation: longer than the bout's typical step, the median
interval between its contacts) is mostly standing, and the pendulum's arc is only its last single
support: the excursion is taken over at most `arc_steps` (1) typical step before the step's
closing contact. Over the whole of a 1.5–2.5 s step the range of the position also holds the
standing part's sway and the integration's slow residue, which the model read as a long step (on
the Mobilise-D lab participants' daily-activity bouts: stride length MAE 0.104 → 0.082 m HA001,
0.134 → 0.102 HA002, 0.110 → 0.096 MS001; straight walks unchanged; benchmarks/RESULTS.md,
session 8).

Stride values as the INDIP reference defines them: a stride is two consecutive steps (contact i to
i+2), its speed its length over its time, and the bout's stride length and speed are the means of
the per-stride values (interior strides Hampel-filtered, first and last kept: step_parameters.py).

Turning: the pendulum's excursion is the leg's swing in whatever direction the body faces, and a
turning stride's ends face directions θ apart (θ = the heading change over the stride, from the
earth-vertical angular velocity). Only the component along the stride's mean direction carries
the body forward, cos(θ/2) of it. On the Mobilise-D lab participants' daily-activity strides
(HA001, HA002, MS001; chosen with all three in view, no constant fitted) the median ratio of
INDIP's stride length to the uncorrected model was 1.05 on strides turning < 30°, 0.95 at
30–60°, 0.87 at 60–90° and 0.65 at 90–120°: 0.90, 0.83 and 0.62 of the straight strides',
where cos(θ/2) gives 0.92, 0.80 and 0.65 and sin(θ/2)/(θ/2), the chord of a steady arc, only
0.97, 0.93 and 0.88.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

import numpy as np

from sensors.processing.errors import ProcessingError
from sensors.processing.step_parameters import RobustStepSettings, bout_mean

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendulumSettings:
    acc_highpass_hz: float = 0.1
    velocity_highpass_hz: float = 1.0
    correction: float = 4.587 / 4  # Mobilise-D's (mobgap SlZijlstra); Zijlstra & Hof's is 1.25
    arc_steps: float = 1.0  # the arc: at most this many typical steps before a contact; 0 = whole step
    robust: RobustStepSettings = field(default_factory=RobustStepSettings)


@dataclass(frozen=True)
class StepLengths:
    """Per-step values (steps,) between consecutive contacts, per-stride values (steps − 1,), and
    the bout's means."""

    step_length_m: np.ndarray
    step_time_s: np.ndarray
    stride_length_m_per_stride: np.ndarray
    stride_speed_m_s: np.ndarray
    stride_length_m: float
    gait_speed_m_s: float


def _highpass(x: np.ndarray, cutoff_hz: float, rate_hz: float) -> np.ndarray:
    from scipy import signal  # imported when needed: scipy submodules are slow to import

    sos = signal.butter(4, cutoff_hz, btype="highpass", fs=rate_hz, output="sos")
    return signal.sosfiltfilt(sos, x)


def vertical_excursion_m(
    time_s: np.ndarray, vertical_acc_m_s2: np.ndarray, contacts: np.ndarray, settings: PendulumSettings
) -> np.ndarray:
    """Range of the pelvis' vertical position, m, over each step (contacts (n,) indices → (n-1,)):
    over its last `arc_steps` typical steps (the median interval between contacts) at most."""
    from scipy import integrate  # imported when needed: scipy submodules are slow to import

    rate = 1.0 / float(np.median(np.diff(time_s)))
    acc = _highpass(np.nan_to_num(np.asarray(vertical_acc_m_s2, dtype=float)), settings.acc_highpass_hz, rate)
    velocity = integrate.cumulative_trapezoid(acc, time_s, initial=0.0)
    velocity = _highpass(velocity, settings.velocity_highpass_hz, rate)
    position = integrate.cumulative_trapezoid(velocity, time_s, initial=0.0)
    if len(contacts) < 2:
        return np.zeros(0)
    arc = len(position)
    if settings.arc_steps > 0:
        arc = round(settings.arc_steps * float(np.median(np.diff(contacts))))
    return np.array([np.ptp(position[max(a, b - arc) : b + 1]) for a, b in itertools.pairwise(contacts)])


def turning_factor(heading_rad: np.ndarray, contacts: np.ndarray) -> np.ndarray:
    """cos(θ/2) per stride (contacts (n,) indices → (n-2,)), θ the heading change (rad, capped at
    π) between a stride's two contacts; heading_rad (samples,) is the integrated yaw rate."""
    heading = np.asarray(heading_rad, dtype=float)
    turned = np.abs(heading[contacts[2:]] - heading[contacts[:-2]])
    return np.cos(np.minimum(turned, np.pi) / 2.0)


def step_lengths(
    time_s: np.ndarray,
    vertical_acc_m_s2: np.ndarray,
    contacts: np.ndarray,
    sensor_height_m: float,
    settings: PendulumSettings | None = None,
    heading_rad: np.ndarray | None = None,
) -> StepLengths:
    """Inverted-pendulum step and stride lengths of a bout: gravity-free earth-vertical acceleration
    (n,), m/s², at time_s (n,), contact indices (k,), the sensor's standing height above the floor,
    m, and optionally the heading (n,), rad (the integrated earth-vertical angular velocity) for
    turning strides; without it every stride is taken as straight."""
    s = settings or PendulumSettings()
    if not 0.3 < sensor_height_m < 2.0:
        raise ProcessingError(f"sensor height {sensor_height_m} m is not a plausible pelvic sensor height")
    t = np.asarray(time_s, dtype=float)
    contacts = np.asarray(contacts, dtype=int)
    if len(contacts) < 2:
        raise ProcessingError(f"step lengths need at least 2 contacts, got {len(contacts)}")
    if len(t) < 30:
        raise ProcessingError(f"step lengths need at least 30 samples, got {len(t)}")
    if heading_rad is not None and len(heading_rad) != len(t):
        raise ProcessingError(f"heading has {len(heading_rad)} samples for {len(t)} of acceleration")
    h = vertical_excursion_m(t, vertical_acc_m_s2, contacts, s)
    length = s.correction * 2.0 * np.sqrt(np.abs(2.0 * sensor_height_m * h - h**2))
    step_time = np.diff(t[contacts])
    if len(contacts) == 2:  # one step: no stride
        none = np.array([])
        return StepLengths(length, step_time, none, none, 2.0 * length[0], length[0] / step_time[0])
    stride = length[:-1] + length[1:]
    if heading_rad is not None:
        stride = stride * turning_factor(heading_rad, contacts)
    stride_speed = stride / (step_time[:-1] + step_time[1:])
    return StepLengths(
        step_length_m=length,
        step_time_s=step_time,
        stride_length_m_per_stride=stride,
        stride_speed_m_s=stride_speed,
        stride_length_m=bout_mean(stride, s.robust),
        gait_speed_m_s=bout_mean(stride_speed, s.robust),
    )
