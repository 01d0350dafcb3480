"""Lumbo-pelvic rhythm of forward bend and return repetitions (METRICS.md §2).

Inputs are sagittal inclination traces (n,) in deg of the trunk (lumbar sensor, T12/L1) and the
pelvis (S1/S2) at times (n,) s; lumbar angle = trunk − pelvis. A repetition is a trunk flexion
of at least `min_range_deg`. A segment's movement starts at the last sample before its flexion
where its angular velocity was below `onset_velocity_deg_s`; the flexion ends (end range reached)
at the first sample after it where the trunk's velocity is below it again; the return ends at the
first sample after the end-range hold where the trunk's velocity falls back below it.

Lost samples: a repetition is measured when its gaps are at most `max_gap_s` and none lies within
`key_margin_s` of a movement start, the end of flexion, the peak or the end of the return; the
measures then use the samples that arrived (nothing is filled in). Others are counted as skipped.

Per repetition (Laird et al. 2019, T12/S2): trunk, lumbar and pelvic flexion; lumbar contribution
Δθ_L/Δθ_trunk as a curve over 0–100 % of the trunk's flexion and at end range; lumbar/pelvic ratio
Δθ_L/Δθ_P; pelvic onset lag (pelvis onset − trunk onset; positive when the pelvis lags); flexion
and total duration; peak angular velocities. Coordination (Seay et al. 2011): continuous relative
phase CRP = φ_trunk − φ_pelvis with φ = atan2(ω̂, θ̂) from angle and velocity normalised to
[−1, 1] per repetition; MARP = mean |CRP|; deviation phase DP = mean over the normalised cycle
of the across-repetition SD of CRP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensors.processing.errors import ProcessingError
from sensors.processing.gradient import gradient
from sensors.processing.peaks import find_peaks
from sensors.processing.runs import true_runs

#: Flexion progress levels (fraction of the trunk's range) at which the contribution curve is given.
PROGRESS_LEVELS = np.linspace(0.1, 1.0, 10)


@dataclass(frozen=True)
class RhythmSettings:
    min_range_deg: float = 30.0
    onset_velocity_deg_s: float = 5.0
    min_separation_s: float = 2.0
    max_gap_s: float = 0.25
    key_margin_s: float = 0.05


@dataclass(frozen=True)
class BendRepetition:
    """One forward bend and return. Times in s, angles deg, velocities deg/s; contribution 0–1."""

    start_s: float
    flexion_end_s: float  # trunk velocity back below the onset threshold: end range reached
    peak_s: float  # maximum trunk flexion (anywhere in an end-range hold)
    end_s: float
    trunk_flexion_deg: float
    lumbar_flexion_deg: float
    pelvic_flexion_deg: float
    end_range_lumbar_contribution: float
    lumbar_pelvic_ratio: float
    contribution_curve: np.ndarray  # at PROGRESS_LEVELS
    pelvic_onset_lag_s: float
    flexion_duration_s: float
    duration_s: float
    trunk_peak_velocity_deg_s: float
    lumbar_peak_velocity_deg_s: float
    pelvic_peak_velocity_deg_s: float
    marp_deg: float


@dataclass(frozen=True)
class RhythmResult:
    repetitions: tuple[BendRepetition, ...]
    deviation_phase_deg: float  # DP across repetitions; NaN with fewer than two
    skipped_for_gaps: int = 0  # repetitions left out because samples were lost inside them


def _measurable(finite: np.ndarray, rep: slice, key: tuple[int, ...], rate: float, s: RhythmSettings) -> bool:
    """A repetition is measured when its gaps are short and none touches a key instant
    (movement starts, end of flexion, peak, end of return)."""
    missing = ~finite[rep]
    if missing.any():
        longest = max(stop - start for start, stop in true_runs(missing))
        if longest > s.max_gap_s * rate:
            return False
    margin = max(1, round(s.key_margin_s * rate))
    return all(finite[max(k - margin, 0) : k + margin + 1].all() for k in key)


class _Crossings:
    """`movement_start` and `movement_end` of one velocity trace (n,) against one limit: the
    indices where it is at or above the limit and where it is below (NaN is neither) are found
    once, then each query is a binary search (O(n) over all repetitions; the earlier search
    scanned the whole trace per repetition, which made it quadratic)."""

    def __init__(self, velocity: np.ndarray, limit: float) -> None:
        v = np.asarray(velocity, dtype=float)
        self.n = len(v)
        index = np.int32 if self.n < np.iinfo(np.int32).max else np.int64  # half the memory
        self.fast = np.flatnonzero(v >= limit).astype(index)
        self.slow = np.flatnonzero(v < limit).astype(index)

    def start(self, peak: int) -> int:
        """= movement_start(velocity, peak, limit)."""
        fast = _last_before(self.fast, peak)
        if fast < 0:
            return peak
        return max(_last_before(self.slow, fast), 0)

    def end(self, start: int) -> int:
        """= movement_end(velocity, start, limit)."""
        fast = self.first_fast(start)
        if fast >= self.n:
            return start
        slowed = _first_from(self.slow, fast, self.n)
        return slowed if slowed < self.n else self.n - 1

    def first_fast(self, start: int) -> int:
        """The first index ≥ start where the velocity is at or above the limit (n if none)."""
        return _first_from(self.fast, start, self.n)


def _last_before(indices: np.ndarray, before: int) -> int:
    """The last of the sorted `indices` below `before` (-1 if none)."""
    at = int(np.searchsorted(indices, indices.dtype.type(before), side="left")) - 1  # no cast of indices
    return int(indices[at]) if at >= 0 else -1


def _first_from(indices: np.ndarray, start: int, none: int) -> int:
    """The first of the sorted `indices` at or after `start` (`none` if none)."""
    at = int(np.searchsorted(indices, indices.dtype.type(start), side="left"))
    return int(indices[at]) if at < len(indices) else none


def _median(values: np.ndarray) -> float:
    """`np.median` of values (n,) without NaN, bit for bit, without loading `numpy.ma` (which
    np.median imports to check for masked arrays: ~40 ms of the analysis command's start)."""
    n = len(values)
    if n == 0:
        return float("nan")
    half = n // 2
    if n % 2:
        return float(np.partition(values, half)[half])
    part = np.partition(values, [half - 1, half])
    return float(np.mean(part[half - 1 : half + 1]))


def _nanpercentile(values: np.ndarray, percent: float) -> float:
    """`np.nanpercentile(values, percent)` of values (n,), bit for bit (numpy's linear method:
    between the two order statistics around (m − 1)·q of the m finite values, interpolated from
    the nearer one), without loading `numpy.ma` (np.nanpercentile does, through np.unique)."""
    finite = values[~np.isnan(values)]
    m = len(finite)
    if m == 0:
        return float("nan")
    virtual = (m - 1) * (percent / 100)
    below = math.floor(virtual)
    if virtual >= m - 1:
        return float(np.partition(finite, m - 1)[m - 1])
    part = np.partition(finite, [below, below + 1])
    a, b = part[below], part[below + 1]
    gamma = virtual - below
    return float(b - (b - a) * (1 - gamma)) if gamma >= 0.5 else float(a + (b - a) * gamma)


def _phase_deg(angle: np.ndarray, velocity: np.ndarray) -> np.ndarray:
    span = np.ptp(angle)
    angle_n = 2 * (angle - angle.min()) / span - 1 if span > 0 else np.zeros_like(angle)
    top = np.max(np.abs(velocity))
    velocity_n = velocity / top if top > 0 else np.zeros_like(velocity)
    return np.degrees(np.arctan2(velocity_n, angle_n))


def _relative_phase(t: np.ndarray, trunk: np.ndarray, pelvis: np.ndarray) -> np.ndarray:
    crp = _phase_deg(trunk, np.gradient(trunk, t)) - _phase_deg(pelvis, np.gradient(pelvis, t))
    return (crp + 180.0) % 360.0 - 180.0


def bend_repetitions(
    time_s: np.ndarray, trunk_deg: np.ndarray, pelvis_deg: np.ndarray, settings: RhythmSettings | None = None
) -> RhythmResult:
    """Find and measure every forward bend in the traces (n,); gaps (NaN) are not bridged."""
    s = settings or RhythmSettings()
    t = np.asarray(time_s, dtype=float)
    trunk = np.asarray(trunk_deg, dtype=float)
    pelvis = np.asarray(pelvis_deg, dtype=float)
    if not (t.shape == trunk.shape == pelvis.shape) or t.ndim != 1:
        raise ProcessingError("bend analysis needs time, trunk and pelvis traces of equal shape (n,)")
    rate = 1.0 / _median(np.diff(t))
    finite = np.isfinite(trunk) & np.isfinite(pelvis)
    trunk_v = gradient(trunk, t, finite)  # = np.gradient(np.where(finite, trunk, nan), t)
    pelvis_v = gradient(pelvis, t, finite)
    baseline = _nanpercentile(trunk, 10)
    peaks = find_peaks(
        np.nan_to_num(trunk, nan=baseline),
        height=baseline + s.min_range_deg,
        distance=max(1, round(s.min_separation_s * rate)),
    )
    limit = s.onset_velocity_deg_s
    trunk_rise, pelvis_rise = _Crossings(trunk_v, limit), _Crossings(pelvis_v, limit)
    trunk_return = _Crossings(-trunk_v, limit)
    repetitions, cycles, skipped = [], [], 0
    for peak in peaks:
        start = trunk_rise.start(peak)
        pelvis_start = max(pelvis_rise.start(peak), start)
        if trunk_return.first_fast(peak) >= len(trunk_v):
            continue  # the recording ends bent over (never returns at -limit deg/s or faster)
        end = trunk_return.end(peak)
        flexion_end = min(trunk_rise.end(start), peak)
        rep = slice(start, end + 1)
        if not _measurable(finite, rep, (start, pelvis_start, flexion_end, peak, end), rate, s):
            skipped += 1  # data lost where it matters: left out, nothing invented
            continue
        d_trunk = trunk[peak] - trunk[start]
        d_pelvis = pelvis[peak] - pelvis[start]
        d_lumbar = d_trunk - d_pelvis
        flexion = slice(start, peak + 1)
        lumbar = trunk[flexion] - pelvis[flexion]  # per repetition: no whole-length trace
        progress = (trunk[flexion] - trunk[start]) / d_trunk
        share = np.divide(
            lumbar - lumbar[0],
            trunk[flexion] - trunk[start],
            out=np.full(peak + 1 - start, np.nan),
            where=np.abs(trunk[flexion] - trunk[start]) > 1e-9,
        )
        order = np.argsort(progress)
        keep = np.isfinite(share[order])
        curve = np.interp(PROGRESS_LEVELS, progress[order][keep], share[order][keep])
        ok = finite[rep]
        crp = _relative_phase(t[rep][ok], trunk[rep][ok], pelvis[rep][ok])
        cycle_time = (t[rep][ok] - t[start]) / (t[end] - t[start])
        cycles.append(np.interp(np.linspace(0, 1, 101), cycle_time, crp))
        repetitions.append(
            BendRepetition(
                start_s=float(t[start]),
                flexion_end_s=float(t[flexion_end]),
                peak_s=float(t[peak]),
                end_s=float(t[end]),
                trunk_flexion_deg=float(d_trunk),
                lumbar_flexion_deg=float(d_lumbar),
                pelvic_flexion_deg=float(d_pelvis),
                end_range_lumbar_contribution=float(d_lumbar / d_trunk),
                lumbar_pelvic_ratio=float(d_lumbar / d_pelvis) if d_pelvis != 0 else float("nan"),
                contribution_curve=curve,
                pelvic_onset_lag_s=float(t[pelvis_start] - t[start]),
                flexion_duration_s=float(t[flexion_end] - t[start]),
                duration_s=float(t[end] - t[start]),
                trunk_peak_velocity_deg_s=float(np.nanmax(trunk_v[flexion])),
                lumbar_peak_velocity_deg_s=float(np.nanmax(trunk_v[flexion] - pelvis_v[flexion])),
                pelvic_peak_velocity_deg_s=float(np.nanmax(pelvis_v[flexion])),
                marp_deg=float(np.mean(np.abs(crp))),
            )
        )
    deviation = float(np.mean(np.std(np.array(cycles), axis=0, ddof=1))) if len(cycles) > 1 else float("nan")
    return RhythmResult(tuple(repetitions), deviation, skipped)
