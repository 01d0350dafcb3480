"""Gait from the pelvic (lower-back) sensor (METRICS.md §4).

- Initial contacts (IC): peaks of the earth-vertical acceleration smoothed by a Gaussian of
  `smoothing_s` — the McCamley et al. (2012) idea (vertical acceleration integrated, then
  differentiated with a Gaussian wavelet) written as the equivalent Gaussian-smoothed acceleration.
  Peaks closer than `min_step_s` or less prominent than `min_prominence_m_s2` are ignored.
- Side: sign of the vertical-axis angular velocity band-passed to the stride frequency
  (`side_band_hz`) at the contact: negative at a left contact, positive at a right one.
- Cadence: steps per minute between the first and last contact (60 / mean step time; a median
  would pick one side's step time when steps alternate long and short).
- Step and stride regularity and stride time: unbiased autocorrelation of the vertical acceleration
  (Moe-Nilssen & Helbostad 2004): first peak = step regularity, second = stride regularity, its
  lag = stride time.
- Harmonic ratio per stride (first 20 harmonics): AP and V even/odd, ML odd/even.
- Pelvic tilt (sagittal), obliquity (frontal) and rotation (heading) ranges per stride, deg.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal
from scipy.ndimage import gaussian_filter1d

from sensors import quaternion as quat
from sensors.constants import GRAVITY_M_S2
from sensors.processing.angles import inclination_angles, segment_orientation
from sensors.processing.comparison import symmetry_index_pct
from sensors.processing.errors import ProcessingError


@dataclass(frozen=True)
class GaitSettings:
    smoothing_s: float = 0.03
    min_step_s: float = 0.3
    min_prominence_m_s2: float = 0.5
    side_band_hz: tuple[float, float] = (0.5, 2.0)
    harmonics: int = 20


@dataclass(frozen=True)
class GaitResult:
    """Gait over one walking bout. Times s, angles deg; per-stride arrays are (strides,)."""

    initial_contacts_s: np.ndarray
    sides: tuple[str, ...]
    cadence_steps_per_min: float
    left_step_time_s: float  # right IC → left IC
    right_step_time_s: float  # left IC → right IC
    step_time_symmetry_index_pct: float
    step_regularity: float
    stride_regularity: float
    stride_time_s: float
    harmonic_ratio_ap: float
    harmonic_ratio_v: float
    harmonic_ratio_ml: float
    pelvic_tilt_range_deg: np.ndarray
    pelvic_obliquity_range_deg: np.ndarray
    pelvic_rotation_range_deg: np.ndarray


def _unbiased_autocorrelation(x: np.ndarray) -> np.ndarray:
    x = x - x.mean()
    n = len(x)
    full = signal.correlate(x, x, mode="full")[n - 1 :] / (n - np.arange(n))
    return full / full[0]


def _harmonic_ratio(x: np.ndarray, harmonics: int, even_over_odd: bool) -> float:
    spectrum = np.abs(np.fft.rfft(x - x.mean()))[1 : harmonics + 1]
    even, odd = spectrum[1::2].sum(), spectrum[0::2].sum()
    return float(even / odd if even_over_odd else odd / even)


def initial_contacts(
    time_s: np.ndarray, vertical_acc_m_s2: np.ndarray, settings: GaitSettings | None = None
) -> np.ndarray:
    """Indices of initial contacts in a gravity-free earth-vertical acceleration (n,), m/s²."""
    s = settings or GaitSettings()
    rate = 1.0 / float(np.median(np.diff(time_s)))
    smooth = gaussian_filter1d(np.nan_to_num(vertical_acc_m_s2), s.smoothing_s * rate)
    peaks, _ = signal.find_peaks(
        smooth, distance=max(1, round(s.min_step_s * rate)), prominence=s.min_prominence_m_s2
    )
    return peaks


def gait_analysis(
    time_s: np.ndarray,
    sensor_q: np.ndarray,
    acc_m_s2: np.ndarray,
    gyr_rad_s: np.ndarray,
    mount_q: np.ndarray,
    settings: GaitSettings | None = None,
) -> GaitResult:
    """Gait of one bout from the pelvic sensor: orientation sensor→earth (n, 4), sensor-frame
    acc (n, 3) m/s² and gyr (n, 3) rad/s at time_s (n,), and its sensor→segment mount (4,)."""
    s = settings or GaitSettings()
    t = np.asarray(time_s, dtype=float)
    if not np.isfinite(sensor_q).all():
        raise ProcessingError("gait analysis needs a gap-free bout (no NaN orientation)")
    rate = 1.0 / float(np.median(np.diff(t)))
    acc_earth = quat.rotate(sensor_q, acc_m_s2) - np.array([0.0, 0.0, GRAVITY_M_S2])
    vertical = acc_earth[:, 2]
    contacts = initial_contacts(t, vertical, s)
    if len(contacts) < 5:
        raise ProcessingError(f"gait analysis found only {len(contacts)} steps; need at least 5")
    yaw_rate = quat.rotate(sensor_q, gyr_rad_s)[:, 2]
    band = signal.butter(2, s.side_band_hz, btype="bandpass", fs=rate, output="sos")
    side_signal = signal.sosfiltfilt(band, yaw_rate)
    sides = tuple("left" if side_signal[k] < 0 else "right" for k in contacts)
    steps = np.diff(t[contacts])
    ended_by = np.array(sides[1:])
    left_steps, right_steps = steps[ended_by == "left"], steps[ended_by == "right"]
    left_step = float(np.mean(left_steps)) if len(left_steps) else float("nan")
    right_step = float(np.mean(right_steps)) if len(right_steps) else float("nan")
    correlation = _unbiased_autocorrelation(vertical[contacts[0] : contacts[-1] + 1])
    step_lag = round(np.median(steps) * rate)
    window = max(1, round(0.25 * step_lag))

    def peak_near(lag: int) -> tuple[int, float]:
        lo, hi = max(lag - window, 1), min(lag + window, len(correlation) - 1)
        k = lo + int(np.argmax(correlation[lo:hi]))
        return k, float(correlation[k])

    _, step_regularity = peak_near(step_lag)
    stride_lag, stride_regularity = peak_near(2 * step_lag)
    # Heading frame per sample: the segment's anterior axis projected on the horizontal plane.
    segment_q = segment_orientation(sensor_q, mount_q)
    anterior = quat.rotate(segment_q, np.array([1.0, 0.0, 0.0]))
    heading = np.unwrap(np.arctan2(anterior[:, 1], anterior[:, 0]))
    ap_dir = np.stack([np.cos(heading), np.sin(heading)], axis=1)
    ap = np.sum(acc_earth[:, :2] * ap_dir, axis=1)
    ml = ap_dir[:, 0] * acc_earth[:, 1] - ap_dir[:, 1] * acc_earth[:, 0]
    inclination = np.degrees(inclination_angles(segment_q))
    strides = [(a, b) for a, b in zip(contacts[:-2], contacts[2:], strict=True)]
    hr = np.array(
        [
            (
                _harmonic_ratio(ap[a:b], s.harmonics, True),
                _harmonic_ratio(vertical[a:b], s.harmonics, True),
                _harmonic_ratio(ml[a:b], s.harmonics, False),
            )
            for a, b in strides
        ]
    )
    return GaitResult(
        initial_contacts_s=t[contacts],
        sides=sides,
        cadence_steps_per_min=float(60.0 / np.mean(steps)),
        left_step_time_s=left_step,
        right_step_time_s=right_step,
        step_time_symmetry_index_pct=symmetry_index_pct(left_step, right_step),
        step_regularity=step_regularity,
        stride_regularity=stride_regularity,
        stride_time_s=stride_lag / rate,
        harmonic_ratio_ap=float(np.median(hr[:, 0])),
        harmonic_ratio_v=float(np.median(hr[:, 1])),
        harmonic_ratio_ml=float(np.median(hr[:, 2])),
        pelvic_tilt_range_deg=np.array([np.ptp(inclination[a:b, 0]) for a, b in strides]),
        pelvic_obliquity_range_deg=np.array([np.ptp(inclination[a:b, 1]) for a, b in strides]),
        pelvic_rotation_range_deg=np.array([np.ptp(np.degrees(heading[a:b])) for a, b in strides]),
    )
