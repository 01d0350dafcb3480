"""Trunk responses to perturbations (a push, a platform, a self-initiated load).

All functions are pure and work on one angle trace in the plane of the perturbation (deg, signed)
sampled uniformly; the live pipeline calls them on a window once the response is over.

Definitions (METRICS.md §3; the choices are ours where the literature has none):
- Missing samples (NaN) are allowed in the baseline and after the first trough; a gap from just
  before the onset to the first trough makes the response unmeasurable (ProcessingError).
- Onset: the velocity of each sample step (timed at its middle: a central difference already
  moves on the sample before a movement starts, half a sample early) stays beyond its baseline
  mean ± k·SD (k = 3, SD floored at `min_threshold_deg_s` / k) for `min_duration_s` (Hodges &
  Bui 1996 threshold family); the onset is where that movement left the baseline: traced back
  over the steps before the crossing still beyond one SD in the same direction (a smooth
  anticipatory lean starts at zero velocity and crosses 3 SD ~35 ms after it began; a reactive
  response jumps at once). Baseline: [instant − 1.0 s, instant − 0.3 s], which ends before an
  anticipatory movement can start.
- Anticipatory vs reactive: a sustained crossing in the 0.5 s before the instant is anticipatory;
  the reactive onset is the first crossing at or after the instant once any anticipatory
  movement has stopped. Latency = reactive onset − instant.
- Peak displacement: largest excursion in the direction of the initial response within 1 s of
  onset, from the angle held just before the reactive onset (mean of the 50 ms before it).
- Overshoot: the following opposite excursion as a fraction of the peak.
- Natural frequency ω_n and damping ratio ζ: least-squares fit of the under-damped free response
  θ(τ) = θ₀ + A·e^{−ζω_n τ}·sin(ω_n√(1−ζ²)·τ), τ = t − t₀, from onset to the first trough plus
  half a peak-to-trough time (within 0.6–2 s), so the window follows the trunk's own timing
  (Moorhouse & Granata 2005 model). Time to stabilisation: the fitted response's 5 % settling time,
  ln(20)/(ζ·ω_n) after onset (one fixed, model-based method; Fransz 2015 shows why one must be fixed).
- No response: a reactive onset later than `max_onset_latency_s` (0.5 s) after the instant is not
  a response to it (trunk reflex latencies to unexpected pushes are 50–150 ms, and a voluntary
  reaction well under 0.5 s); `NoResponseError` is raised and the instant is reported as "no
  response", outside every mean.

Which instants are analysed (`merge_perturbation_marks`; METRICS.md §3 note):
- Candidates are the marks (the clinician's P key, a platform's trigger, the simulator's script)
  and the pushes detected from pelvic jerk.
- Candidates closer than `merge_window_s` (1.0 s) to the first of a group are one perturbation:
  a clinician pressing P while pushing, or a key on top of a platform trigger, is one push, not two.
- A group's instant is, by precedence: a machine mark (platform, simulator: timed by hardware),
  else the detected jerk (the physical onset of the push), else the clinician's key (which lags
  or leads the push by a reaction time).
- A key with nothing detected near it is analysed at the key; without a trunk response it is
  "no response" (a stray press), never a response found seconds later in the sway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensors.processing.errors import ProcessingError


@dataclass(frozen=True)
class ResponseSettings:
    """Thresholds and windows of the response analysis (s, deg/s)."""

    baseline_s: tuple[float, float] = (-1.0, -0.3)
    threshold_sd: float = 3.0
    min_threshold_deg_s: float = 3.0
    min_duration_s: float = 0.03
    anticipation_window_s: float = 0.5
    peak_window_s: float = 1.0
    fit_window_s: tuple[float, float] = (0.6, 2.0)
    max_onset_latency_s: float = 0.5


class NoResponseError(ProcessingError):
    """The trunk did not respond to a marked perturbation (within `max_onset_latency_s`)."""


#: Mark sources that are people pressing keys (less exact than hardware triggers and detection).
OPERATOR_SOURCES = ("operator", "patient")
#: The source of perturbations the live pipeline detected from pelvic jerk.
DETECTED_SOURCE = "pipeline"


@dataclass(frozen=True)
class PerturbationInstant:
    """One perturbation to analyse: its instant (session s), and what pointed at it: the sources
    of the marks merged into it, and whether pelvic jerk showed a push there."""

    time_s: float
    sources: tuple[str, ...]
    detected: bool

    @property
    def keyed_only(self) -> bool:
        """Only a person's key points at it (nothing detected, no hardware trigger)."""
        return not self.detected and all(s in OPERATOR_SOURCES for s in self.sources)


def merge_perturbation_marks(
    marks: list[tuple[float, str]], detected_s: list[float], merge_window_s: float = 1.0
) -> list[PerturbationInstant]:
    """Perturbations to analyse from marks [(time s, source)] and detected push times (s), by the
    module's merge rule: groups within merge_window_s of their first candidate are one push, timed
    by a machine mark, else the detection, else the key. Sorted by time."""
    candidates = sorted(
        [(float(t), source, False) for t, source in marks]
        + [(float(t), DETECTED_SOURCE, True) for t in detected_s]
    )
    groups: list[list[tuple[float, str, bool]]] = []
    for candidate in candidates:
        if groups and candidate[0] - groups[-1][0][0] < merge_window_s:
            groups[-1].append(candidate)
        else:
            groups.append([candidate])
    out = []
    for group in groups:
        machine = [t for t, source, det in group if not det and source not in OPERATOR_SOURCES]
        jerk = [t for t, _, det in group if det]
        keys = [t for t, source, det in group if not det and source in OPERATOR_SOURCES]
        instant = (machine or jerk or keys)[0]
        sources = tuple(dict.fromkeys(source for _, source, det in group if not det))
        out.append(PerturbationInstant(instant, sources, bool(jerk)))
    return out


@dataclass(frozen=True)
class PerturbationResponse:
    """Response to one perturbation. Times in session s, angles deg, velocities deg/s."""

    instant_s: float
    anticipatory_onset_s: float  # NaN when no anticipatory movement
    onset_s: float
    onset_latency_s: float
    peak_displacement_deg: float
    time_to_peak_s: float
    peak_velocity_deg_s: float
    overshoot_ratio: float
    natural_frequency_rad_s: float
    damping_ratio: float
    time_to_stabilisation_s: float

    @property
    def anticipatory(self) -> bool:
        return not math.isnan(self.anticipatory_onset_s)


def _sustained_start(above: np.ndarray, start: int, stop: int, run: int) -> int | None:
    """First index in [start, stop) that begins `run` consecutive True values of above (n,)."""
    count = 0
    for k in range(start, min(stop, len(above))):
        count = count + 1 if above[k] else 0
        if count >= run:
            return k - run + 1
    return None


def _departure(deviation: np.ndarray, band: float, crossing: int, earliest: int) -> int:
    """Where the movement whose velocity crossed the threshold at step `crossing` left the
    baseline: the first of the steps just before it (from `earliest` on) whose velocity's
    deviation from the baseline mean (n,) deg/s is still beyond `band` (one baseline SD) in the
    same direction. A smooth movement (an anticipatory lean) starts at zero velocity and crosses
    the threshold tens of ms after it began; a reactive response jumps at once."""
    sign = 1.0 if deviation[crossing] > 0 else -1.0
    while crossing > earliest and sign * deviation[crossing - 1] > band:
        crossing -= 1
    return crossing


def _free_response(
    t: np.ndarray, t0: float, offset: float, amplitude: float, zeta: float, omega: float
) -> np.ndarray:
    tau = np.maximum(t - t0, 0.0)
    omega_d = omega * np.sqrt(max(1.0 - zeta**2, 1e-9))
    return offset + amplitude * np.exp(-zeta * omega * tau) * np.sin(omega_d * tau)


def perturbation_response(
    time_s: np.ndarray, angle_deg: np.ndarray, instant_s: float, settings: ResponseSettings | None = None
) -> PerturbationResponse:
    """Analyse the response to the perturbation at instant_s in a trace angle_deg (n,) at time_s (n,)."""
    s = settings or ResponseSettings()
    t = np.asarray(time_s, dtype=float)
    angle = np.asarray(angle_deg, dtype=float)
    where = f"perturbation at {instant_s:.2f} s"
    if np.isfinite(angle).sum() < 10:
        raise ProcessingError(f"{where}: no angle data around it")
    rate = 1.0 / float(np.median(np.diff(t)))
    velocity = np.gradient(angle, t)
    # Onsets are found on the velocity of each sample step, timed at its middle: a central
    # difference already moves on the sample before a movement starts, half a sample early.
    step_v, middle = np.diff(angle) / np.diff(t), 0.5 * (t[:-1] + t[1:])
    baseline = (t >= instant_s + s.baseline_s[0]) & (t < instant_s + s.baseline_s[1]) & np.isfinite(velocity)
    if baseline.sum() < 5:
        raise ProcessingError(f"{where}: not enough data before it for a baseline")
    mean_v = float(velocity[baseline].mean())
    quiet = baseline[:-1] & baseline[1:]
    mean_step = float(step_v[quiet].mean())
    threshold = max(s.threshold_sd * float(step_v[quiet].std()), s.min_threshold_deg_s)
    above = np.abs(np.nan_to_num(step_v - mean_step)) > threshold
    run = max(1, round(s.min_duration_s * rate))
    at_instant = int(np.searchsorted(middle, instant_s))
    early = int(np.searchsorted(middle, instant_s - s.anticipation_window_s))
    deviation = np.nan_to_num(step_v - mean_step)
    anticipatory = _sustained_start(above, early, at_instant, run)
    if anticipatory is not None:
        anticipatory = _departure(deviation, threshold / s.threshold_sd, anticipatory, early)
    search = at_instant
    while search < len(above) and above[search]:  # let an anticipatory movement finish first
        search += 1
    onset = _sustained_start(above, search, len(above), run)  # the step from sample `onset` on
    onset = None if onset is None else _departure(deviation, threshold / s.threshold_sd, onset, search)
    if onset is None or middle[onset] - instant_s > s.max_onset_latency_s:
        raise NoResponseError(
            f"{where}: no response above {threshold:.1f} °/s within {s.max_onset_latency_s:.1f} s"
        )
    onset_s = float(middle[onset])
    before = slice(max(onset - max(1, round(0.05 * rate)), 0), onset + 1)
    reference = float(angle[before].mean())
    direction = 1.0 if step_v[onset + run - 1] - mean_step > 0 else -1.0
    window = (t >= t[onset]) & (t <= t[onset] + s.peak_window_s)
    displacement = direction * (angle - reference)
    peak = int(np.flatnonzero(window)[np.nanargmax(displacement[window])])
    after_peak = (t > t[peak]) & (t <= t[peak] + s.peak_window_s) & np.isfinite(displacement)
    trough = (
        int(np.flatnonzero(after_peak)[np.argmin(displacement[after_peak])]) if after_peak.any() else peak
    )
    if not np.isfinite(angle[before.start : trough + 1]).all():
        raise ProcessingError(f"{where}: data were lost during the response, so its onset or peak is unknown")
    peak_value = float(displacement[peak])
    overshoot = max(-float(displacement[trough]), 0.0) / peak_value if peak_value > 0 else math.nan
    zeta, omega = _fit_free_response(t, angle, onset, peak, trough, reference, overshoot, s)
    return PerturbationResponse(
        instant_s=instant_s,
        anticipatory_onset_s=float(middle[anticipatory]) if anticipatory is not None else math.nan,
        onset_s=onset_s,
        onset_latency_s=onset_s - instant_s,
        peak_displacement_deg=peak_value,
        time_to_peak_s=float(t[peak]) - onset_s,
        peak_velocity_deg_s=float(np.nanmax(np.abs(velocity[window] - mean_v))),
        overshoot_ratio=overshoot,
        natural_frequency_rad_s=omega,
        damping_ratio=zeta,
        time_to_stabilisation_s=float(np.log(20.0) / (zeta * omega)) if zeta > 0 and omega > 0 else math.nan,
    )


def _fit_free_response(
    t: np.ndarray,
    angle: np.ndarray,
    onset: int,
    peak: int,
    trough: int,
    reference: float,
    overshoot: float,
    s: ResponseSettings,
) -> tuple[float, float]:
    """(ζ, ω_n rad/s) of the damped sinusoid best fitting the response after onset."""
    from scipy import optimize  # imported when needed: scipy submodules are slow to import

    span = (t[trough] - t[onset]) + 0.5 * (t[trough] - t[peak]) if trough > peak else s.fit_window_s[1]
    span = min(max(span, s.fit_window_s[0]), s.fit_window_s[1])
    fit = (t >= t[onset] - 0.05) & (t <= t[onset] + span) & np.isfinite(angle)
    if overshoot > 0:
        log_os = np.log(overshoot)
        zeta0 = float(-log_os / np.sqrt(np.pi**2 + log_os**2))
    else:
        zeta0 = 0.7
    half_period = t[trough] - t[peak] if trough > peak else 2 * (t[peak] - t[onset])
    omega0 = float(np.pi / max(half_period, 1e-3) / np.sqrt(1 - min(zeta0, 0.95) ** 2))
    amplitude0 = (angle[peak] - reference) / max(np.exp(-zeta0 * omega0 * (t[peak] - t[onset])), 1e-3)
    start = [t[onset], reference, amplitude0, min(zeta0, 0.95), omega0]
    bounds = ([t[onset] - 0.1, -np.inf, -np.inf, 0.01, 0.5], [t[onset] + 0.1, np.inf, np.inf, 0.99, 100.0])
    try:
        params, _ = optimize.curve_fit(
            _free_response, t[fit], angle[fit], p0=start, bounds=bounds, maxfev=5000
        )
    except (RuntimeError, ValueError):
        return math.nan, math.nan
    return float(params[3]), float(params[4])


def detect_perturbation_instants(
    time_s: np.ndarray, acc_m_s2: np.ndarray, threshold_m_s3: float = 50.0, refractory_s: float = 2.0
) -> np.ndarray:
    """Perturbation instants (k,), s, from jerk spikes in acc (n, 3), m/s² (e.g. the pelvic sensor):
    the first sample of each run where ‖d acc/dt‖ exceeds max(threshold, 10 × the trace's median
    jerk), at least `refractory_s` after the previous one. Gaps (NaN) never trigger."""
    t = np.asarray(time_s, dtype=float)
    jerk = np.linalg.norm(np.diff(np.asarray(acc_m_s2, dtype=float), axis=0), axis=1) / np.diff(t)
    jerk = np.nan_to_num(jerk, nan=0.0)
    level = max(threshold_m_s3, 10.0 * float(np.median(jerk)))
    instants: list[float] = []
    for k in np.flatnonzero(jerk > level):
        if not instants or t[k] - instants[-1] >= refractory_s:
            instants.append(float(t[k]))
    return np.array(instants)
