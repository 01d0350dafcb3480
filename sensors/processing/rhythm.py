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
Δθ_L/Δθ_P; pelvic onset lag (trunk onset − pelvis onset, Laird 2019's sign: negative when the
pelvis lags); flexion and total duration; peak angular velocities. Coordination (Seay et al.
2011): continuous relative phase CRP = φ_trunk − φ_pelvis with φ = atan2(ω̂, θ̂) from angle and
velocity normalised to [−1, 1] per repetition; MARP = mean |CRP|; deviation phase DP = mean over
the normalised cycle of the across-repetition SD of CRP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensors.processing import segmented
from sensors.processing.errors import ProcessingError
from sensors.processing.gradient import gradient
from sensors.processing.peaks import find_peaks
from sensors.processing.rhythm_keys import Crossings, measurable
from sensors.processing.segmented import concatenated_ranges, segment_of

#: Repetitions measured at once (their samples' temporaries: ~10 MB at 200 Hz).
BATCH = 100

#: Flexion progress levels (fraction of the trunk's range) at which the contribution curve is given.
PROGRESS_LEVELS = np.linspace(0.1, 1.0, 10)


def lumbar_contribution(
    trunk_rise_deg: np.ndarray | float, lumbar_rise_deg: np.ndarray | float
) -> np.ndarray:
    """Lumbar contribution Δθ_L/Δθ_trunk (0–1) of rises (deg, any equal shapes) since the
    movement's start: the one definition of the review curves and the patient's live share; NaN
    where the trunk has not moved (|Δθ_trunk| ≤ 1e-9 deg)."""
    trunk = np.asarray(trunk_rise_deg, dtype=float)
    lumbar = np.asarray(lumbar_rise_deg, dtype=float)
    return np.divide(lumbar, trunk, out=np.full(trunk.shape, np.nan), where=np.abs(trunk) > 1e-9)


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


def _median(values: np.ndarray, scratch: bool = False) -> float:
    """`np.median` of values (n,) without NaN, bit for bit, without loading `numpy.ma` (which
    np.median imports to check for masked arrays: ~40 ms of the analysis command's start).
    Sorted, not partitioned: the time steps of a frame grid take a handful of distinct values,
    on which numpy's selection degrades (0.28 s for 4 h at 200 Hz; the sort takes 0.03 s).
    `scratch`: values is a temporary of the caller's, sorted in place (no copy of it)."""
    n = len(values)
    if n == 0:
        return float("nan")
    if scratch:
        values.sort()
    ordered = values if scratch else np.sort(values)
    half = n // 2
    return float(ordered[half]) if n % 2 else float(np.mean(ordered[half - 1 : half + 1]))


def _nanpercentile(values: np.ndarray, percent: float) -> float:
    """`np.nanpercentile(values, percent)` of values (n,), bit for bit (numpy's linear method:
    between the two order statistics around (m − 1)·q of the m finite values, interpolated from
    the nearer one), without loading `numpy.ma` (np.nanpercentile does, through np.unique)."""
    finite = values[~np.isnan(values)]  # a copy: partitioned in place
    m = len(finite)
    if m == 0:
        return float("nan")
    virtual = (m - 1) * (percent / 100)
    below = math.floor(virtual)
    if virtual >= m - 1:
        finite.partition(m - 1)
        return float(finite[m - 1])
    finite.partition([below, below + 1])
    a, b = finite[below], finite[below + 1]
    gamma = virtual - below
    return float(b - (b - a) * (1 - gamma)) if gamma >= 0.5 else float(a + (b - a) * gamma)


def bend_repetitions(
    time_s: np.ndarray, trunk_deg: np.ndarray, pelvis_deg: np.ndarray, settings: RhythmSettings | None = None
) -> RhythmResult:
    """Find and measure every forward bend in the traces (n,); gaps (NaN) are not bridged. All
    repetitions are worked out at once, with numpy over the whole trace."""
    s = settings or RhythmSettings()
    t = np.asarray(time_s, dtype=float)
    trunk = np.asarray(trunk_deg, dtype=float)
    pelvis = np.asarray(pelvis_deg, dtype=float)
    if not (t.shape == trunk.shape == pelvis.shape) or t.ndim != 1:
        raise ProcessingError("bend analysis needs time, trunk and pelvis traces of equal shape (n,)")
    rate = 1.0 / _median(np.diff(t), scratch=True)
    finite = np.isfinite(trunk) & np.isfinite(pelvis)
    trunk_v = gradient(trunk, t, finite)  # = np.gradient(np.where(finite, trunk, nan), t)
    pelvis_v = gradient(pelvis, t, finite)
    baseline = _nanpercentile(trunk, 10)
    peak = find_peaks(
        np.nan_to_num(trunk, nan=baseline),
        height=baseline + s.min_range_deg,
        distance=max(1, round(s.min_separation_s * rate)),
    ).astype(np.int64)
    limit = s.onset_velocity_deg_s
    trunk_rise, pelvis_rise = Crossings(trunk_v, limit), Crossings(pelvis_v, limit)
    trunk_return = Crossings(-trunk_v, limit)
    peak = peak[trunk_return.first_fast(peak) < len(t)]  # not those where the recording ends bent over
    start = trunk_rise.start(peak)
    pelvis_start = np.maximum(pelvis_rise.start(peak), start)
    end = trunk_return.end(peak)
    flexion_end = np.minimum(trunk_rise.end(start), peak)
    keys = (start, pelvis_start, flexion_end, peak, end)
    ok = measurable(finite, start, end, keys, s.max_gap_s * rate, max(1, round(s.key_margin_s * rate)))
    skipped = int(np.count_nonzero(~ok))  # data lost where it matters: left out, nothing invented
    start, pelvis_start, flexion_end, peak, end = (key[ok] for key in keys)
    if len(peak) == 0:
        return RhythmResult((), float("nan"), skipped)
    d_trunk = trunk[peak] - trunk[start]
    d_pelvis = pelvis[peak] - pelvis[start]
    d_lumbar = d_trunk - d_pelvis
    curves, cycles, marp, peak_velocity = np.empty((len(peak), len(PROGRESS_LEVELS))), [], [], []
    for a in range(0, len(peak), BATCH):  # a batch at a time: memory bounded whatever the length
        z = min(a + BATCH, len(peak))
        curves[a:z] = _contribution_curves(trunk, pelvis, start[a:z], peak[a:z], d_trunk[a:z])
        crp, arrived, bounds = _relative_phases(t, trunk, pelvis, finite, start[a:z], end[a:z])
        rep = segment_of(bounds)
        cycle_time = (t[arrived] - t[start[a:z]][rep]) / (t[end[a:z]] - t[start[a:z]])[rep]
        cycles.append(segmented.interp(np.linspace(0, 1, 101), cycle_time, crp, bounds))
        marp.append(segmented.means(np.abs(crp), bounds))
        flexion, flexion_bounds = concatenated_ranges(start[a:z], peak[a:z] + 1)
        trunk_f, pelvis_f = trunk_v[flexion], pelvis_v[flexion]
        peak_velocity.append(
            [np.fmax.reduceat(v, flexion_bounds[:-1]) for v in (trunk_f, trunk_f - pelvis_f, pelvis_f)]
        )
    trunk_peak, lumbar_peak, pelvis_peak = np.concatenate(peak_velocity, axis=1)
    marp_deg = np.concatenate(marp)
    ratio = np.divide(d_lumbar, d_pelvis, out=np.full(len(peak), np.nan), where=d_pelvis != 0)
    repetitions = tuple(
        BendRepetition(
            start_s=float(t[start[r]]),
            flexion_end_s=float(t[flexion_end[r]]),
            peak_s=float(t[peak[r]]),
            end_s=float(t[end[r]]),
            trunk_flexion_deg=float(d_trunk[r]),
            lumbar_flexion_deg=float(d_lumbar[r]),
            pelvic_flexion_deg=float(d_pelvis[r]),
            end_range_lumbar_contribution=float(d_lumbar[r] / d_trunk[r]),
            lumbar_pelvic_ratio=float(ratio[r]),
            contribution_curve=curves[r],
            pelvic_onset_lag_s=float(t[start[r]] - t[pelvis_start[r]]),
            flexion_duration_s=float(t[flexion_end[r]] - t[start[r]]),
            duration_s=float(t[end[r]] - t[start[r]]),
            trunk_peak_velocity_deg_s=float(trunk_peak[r]),
            lumbar_peak_velocity_deg_s=float(lumbar_peak[r]),
            pelvic_peak_velocity_deg_s=float(pelvis_peak[r]),
            marp_deg=float(marp_deg[r]),
        )
        for r in range(len(peak))
    )
    cycle = np.concatenate(cycles)
    deviation = float(np.mean(np.std(cycle, axis=0, ddof=1))) if len(cycle) > 1 else float("nan")
    return RhythmResult(repetitions, deviation, skipped)


def _contribution_curves(
    trunk: np.ndarray, pelvis: np.ndarray, start: np.ndarray, peak: np.ndarray, d_trunk: np.ndarray
) -> np.ndarray:
    """Per repetition (k, 10): the lumbar share of the trunk's flexion at PROGRESS_LEVELS of it,
    interpolated over the flexion's samples sorted by progress."""
    index, bounds = concatenated_ranges(start, peak + 1)
    rep = segment_of(bounds)
    rise = trunk[index] - trunk[start][rep]
    progress = rise / d_trunk[rep]
    lumbar_rise = (trunk[index] - pelvis[index]) - (trunk[start] - pelvis[start])[rep]
    share = lumbar_contribution(rise, lumbar_rise)
    order = np.lexsort((progress, rep))  # by repetition, then progress (NaN last)
    order = order[np.isfinite(share[order])]
    xp, fp, rep_kept = progress[order], share[order], rep[order]
    kept_bounds = np.zeros(len(start) + 1, dtype=np.intp)
    np.cumsum(np.bincount(rep_kept, minlength=len(start)), out=kept_bounds[1:])
    curves = segmented.interp(PROGRESS_LEVELS, xp, fp, kept_bounds)
    # Equal progress twice in one repetition: the order of those two (np.argsort's, unstable)
    # decides the curve; such a repetition is worked out alone, as np.argsort orders it.
    tied = np.flatnonzero((np.diff(xp) == 0) & (rep_kept[1:] == rep_kept[:-1]))
    for r in sorted(set(rep_kept[tied].tolist())):  # (np.unique would load numpy.ma)
        p, f = progress[bounds[r] : bounds[r + 1]], share[bounds[r] : bounds[r + 1]]
        sort = np.argsort(p)
        keep = np.isfinite(f[sort])
        curves[r] = np.interp(PROGRESS_LEVELS, p[sort][keep], f[sort][keep])
    return curves


def _relative_phases(
    t: np.ndarray,
    trunk: np.ndarray,
    pelvis: np.ndarray,
    finite: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Continuous relative phase (deg) trunk − pelvis over each repetition's samples that arrived,
    flat (m,); those samples' indices (m,); the bounds (k + 1,) of each repetition in both."""
    index, bounds = concatenated_ranges(start, end + 1)
    arrived = finite[index]
    rep = segment_of(bounds)[arrived]
    index = index[arrived]
    bounds = np.zeros(len(start) + 1, dtype=np.intp)
    np.cumsum(np.bincount(rep, minlength=len(start)), out=bounds[1:])
    when = t[index]
    crp = _phase_deg(trunk[index], when, bounds) - _phase_deg(pelvis[index], when, bounds)
    return (crp + 180.0) % 360.0 - 180.0, index, bounds


def _phase_deg(angle: np.ndarray, t: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Phase angle atan2(ω̂, θ̂) (deg) of each repetition's angle (flat (m,)), with angle and
    velocity normalised to [−1, 1] per repetition."""
    velocity = segmented.gradient(angle, t, bounds)
    firsts, counts = bounds[:-1], np.diff(bounds)
    low = np.minimum.reduceat(angle, firsts)
    span = np.maximum.reduceat(angle, firsts) - low
    top = np.maximum.reduceat(np.abs(velocity), firsts)
    angle_n = 2 * (angle - np.repeat(low, counts)) / np.repeat(np.where(span > 0, span, 1.0), counts) - 1
    velocity_n = velocity / np.repeat(np.where(top > 0, top, 1.0), counts)
    if not (span > 0).all() or not (top > 0).all():  # a repetition without movement: zeros
        angle_n[np.repeat(span <= 0, counts)] = 0.0
        velocity_n[np.repeat(top <= 0, counts)] = 0.0
    return np.degrees(np.arctan2(velocity_n, angle_n))
