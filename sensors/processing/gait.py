"""Gait from the pelvic (lower-back) sensor (METRICS.md §4).

- Initial contacts (IC), in two steps on the gravity-free earth-vertical acceleration:
  1. One candidate per step cycle: peaks of the acceleration smoothed by a Gaussian whose width
     follows the bout's step frequency — McCamley et al. (2012), whose Gaussian-wavelet CWT of the
     integrated acceleration equals a Gaussian-smoothed acceleration, with the scale adapted to the
     step frequency as Caramia et al. (2019, Sensors 19:1869) found best and scikit-digital-health
     implements (scale = −10·f + 56 at 250 Hz for step frequency f, Hz; σ = scale/√2 samples).
     The step frequency comes from a first pass at the scale for a typical 1.8 Hz (σ 0.108 s,
     McCamley's own is 0.113 s): 1 / the median interval between its peaks, which an odd missed or doubled
     step does not move (an autocorrelation peak does, in irregular daily-life bouts). A slow or
     turning step no longer gives two candidates; candidates must lie above the bout's mean and at
     least `min_step_fraction` (0.6) of a typical step apart: a step shorter than that is beyond
     the step-time variability of even impaired walking (coefficients of variation up to ~10 %),
     and the stronger of the two is kept.
  2. Timing: the heel strike arrests the pelvis' fall, so the vertical acceleration rises
     steepest at contact; the IC is the largest slope of the lightly smoothed (`smoothing_s`)
     acceleration on the rising flank (from the preceding trough to the candidate).
  3. A contact is a jolt: a candidate whose slope at contact is below `min_jolt_fraction` (0.3) of
     the median slope of the bout's contacts is dropped. In turns and shuffles the smoothed
     acceleration wobbles around the bout's mean with no heel strike; those wobbles gave the extra
     contacts of the daily-activity bouts. On the Mobilise-D lab data (HA001, HA002, MS001) 95 %
     of the contacts matched to the reference have slopes above 0.34–0.41 of their bout's
     median; of the unmatched detections 10 % lie below 0.14–0.21 and half below 0.43–0.73.
- Side (side.py): the vertical-axis angular velocity band-passed to the stride frequency
  (`side.band_hz`) at each contact, negative at a left contact and positive at a right one
  (McCamley 2012; mobgap `LrcMcCamley`), read through a two-state sequence in which the feet
  alternate unless the evidence insists (turning adds a yaw rate that flips the plain sign).
- Cadence: mean of the per-stride cadences 120 / stride time, interior strides Hampel-filtered
  against missed and extra contacts, the first and last stride (starting, stopping) kept. Strides
  are INDIP's, per foot, where the sign rule and the sequence agree on every contact's side, and
  contacts i → i+2 elsewhere (the same strides where the feet alternate; step_parameters.py).
  A missed contact counts as the step it hides where timing and sides both say so: an interior
  same-side pair at least 1.5 typical steps apart (a pause keeps the feet alternating).
  Left and right step times cleaned by the Hampel filter mobgap's `CadFromIc` uses.
- Step and stride regularity and stride time: unbiased autocorrelation of the vertical acceleration
  (Moe-Nilssen & Helbostad 2004): first peak = step regularity, second = stride regularity, its
  lag = stride time.
- Harmonic ratio per stride (first 20 harmonics): AP and V even/odd, ML odd/even.
- Pelvic tilt (sagittal), obliquity (frontal) and rotation (heading) ranges per stride, deg.
- Step and stride length and speed when the sensor height is known (gait_speed.py), turning
  strides shortened by the heading change (the integrated earth-vertical angular velocity).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sensors import quaternion as quat
from sensors.constants import GRAVITY_M_S2
from sensors.processing.angles import inclination_angles, segment_orientation
from sensors.processing.comparison import symmetry_index_pct
from sensors.processing.errors import ProcessingError
from sensors.processing.gait_speed import step_lengths
from sensors.processing.side import SideSettings, contact_sides
from sensors.processing.step_parameters import (
    RobustStepSettings,
    bout_cadence_steps_per_min,
    robust_mean,
)


@dataclass(frozen=True)
class GaitSettings:
    smoothing_s: float = 0.03  # light smoothing for the contact's timing
    step_band_hz: tuple[float, float] = (0.5, 3.0)  # walking: 30–180 steps/min
    typical_step_frequency_hz: float = 1.8  # first pass; and when a bout is too short to estimate
    min_step_fraction: float = 0.6  # contacts at least this fraction of a typical step apart
    min_jolt_fraction: float = 0.3  # a contact's jolt (slope) ≥ this fraction of the bout's median
    side: SideSettings = field(default_factory=SideSettings)
    harmonics: int = 20
    robust: RobustStepSettings = field(default_factory=RobustStepSettings)
    sensor_height_m: float | None = None  # height of the pelvic sensor above the floor (standing)


@dataclass(frozen=True)
class GaitResult:
    """Gait over one walking bout. Times s, angles deg; per-stride arrays are (strides,)."""

    initial_contacts_s: np.ndarray
    sides: tuple[str, ...]
    sides_trusted: bool  # sign rule and alternation agree on every contact: cadence per foot
    cadence_steps_per_min: float
    step_frequency_hz: float  # typical, from the step-cycle peaks
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
    stride_length_m: float = float("nan")  # NaN without a sensor height
    gait_speed_m_s: float = float("nan")


def _unbiased_autocorrelation(x: np.ndarray) -> np.ndarray:
    from scipy import signal  # imported when needed: scipy submodules are slow to import

    x = x - x.mean()
    n = len(x)
    full = signal.correlate(x, x, mode="full")[n - 1 :] / (n - np.arange(n))
    return full / full[0]


def _harmonic_ratio(x: np.ndarray, harmonics: int, even_over_odd: bool) -> float:
    spectrum = np.abs(np.fft.rfft(x - x.mean()))[1 : harmonics + 1]
    even, odd = spectrum[1::2].sum(), spectrum[0::2].sum()
    return float(even / odd if even_over_odd else odd / even)


def _caramia_sigma_samples(step_frequency: float, rate_hz: float) -> float:
    """Gaussian σ, samples, of the McCamley wavelet at the scale of Caramia et al. (2019)."""
    scale = float(np.clip((56.0 - 10.0 * step_frequency) * rate_hz / 250.0, 1.0, 90.0 * rate_hz / 250.0))
    return scale / np.sqrt(2.0)


def _cycle_peaks(
    x: np.ndarray, rate_hz: float, frequency: float, settings: GaitSettings
) -> tuple[np.ndarray, np.ndarray]:
    """The step-cycle signal (n,) for a step frequency, Hz, and its candidate peaks (indices)."""
    from scipy import signal
    from scipy.ndimage import gaussian_filter1d

    cycle = gaussian_filter1d(x, _caramia_sigma_samples(frequency, rate_hz))
    distance = max(1, round(settings.min_step_fraction * rate_hz / frequency))
    peaks, _ = signal.find_peaks(cycle, height=0.0, distance=distance)
    return cycle, peaks


def step_frequency_hz(
    vertical_acc_m_s2: np.ndarray, rate_hz: float, settings: GaitSettings | None = None
) -> float:
    """Typical step frequency, Hz, of a bout's gravity-free vertical acceleration (n,), m/s²:
    1 / median interval between the step-cycle peaks found at McCamley's scale for a typical
    walk (`typical_step_frequency_hz`); the median ignores the odd missed or doubled step."""
    s = settings or GaitSettings()
    x = np.nan_to_num(np.asarray(vertical_acc_m_s2, dtype=float))
    _, peaks = _cycle_peaks(x - x.mean(), rate_hz, s.typical_step_frequency_hz, s)
    if len(peaks) < 3:
        return s.typical_step_frequency_hz
    return float(np.clip(rate_hz / np.median(np.diff(peaks)), *s.step_band_hz))


def initial_contacts(
    time_s: np.ndarray, vertical_acc_m_s2: np.ndarray, settings: GaitSettings | None = None
) -> np.ndarray:
    """Indices of initial contacts in a gravity-free earth-vertical acceleration (n,), m/s²."""
    from scipy import signal
    from scipy.ndimage import gaussian_filter1d

    s = settings or GaitSettings()
    rate = 1.0 / float(np.median(np.diff(time_s)))
    x = np.nan_to_num(np.asarray(vertical_acc_m_s2, dtype=float))
    x = x - x.mean()
    frequency = step_frequency_hz(x, rate, s)
    cycle, candidates = _cycle_peaks(x, rate, frequency, s)
    troughs, _ = signal.find_peaks(-cycle)
    slope = np.gradient(gaussian_filter1d(x, s.smoothing_s * rate))
    contacts = []
    for peak in candidates:
        before = troughs[troughs < peak]
        start = int(before[-1]) if len(before) else max(0, peak - round(0.5 * rate / frequency))
        contacts.append(start + int(np.argmax(slope[start : peak + 1])))
    found = np.unique(np.array(contacts, dtype=int))
    if len(found) and s.min_jolt_fraction > 0:
        found = found[slope[found] >= s.min_jolt_fraction * np.median(slope[found])]
    return found


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
    from scipy import integrate  # imported when needed: scipy submodules are slow to import

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
    labels = contact_sides(yaw_rate, rate, contacts, s.side)
    sides = labels.sides
    steps = np.diff(t[contacts])
    ended_by = np.array(sides[1:])
    left_steps, right_steps = steps[ended_by == "left"], steps[ended_by == "right"]
    left_step = robust_mean(left_steps, s.robust)
    right_step = robust_mean(right_steps, s.robust)
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
    stride_length = speed = float("nan")
    if s.sensor_height_m is not None:
        heading = integrate.cumulative_trapezoid(yaw_rate, t, initial=0.0)  # rad, turning strides
        lengths = step_lengths(t, vertical, contacts, s.sensor_height_m, heading_rad=heading)
        stride_length, speed = lengths.stride_length_m, lengths.gait_speed_m_s
    return GaitResult(
        initial_contacts_s=t[contacts],
        sides=sides,
        sides_trusted=labels.consistent,
        cadence_steps_per_min=bout_cadence_steps_per_min(t[contacts], sides, labels.consistent, s.robust),
        step_frequency_hz=step_frequency_hz(vertical, rate, s),
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
        stride_length_m=stride_length,
        gait_speed_m_s=speed,
    )
