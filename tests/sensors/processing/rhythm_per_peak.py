"""The bend search as it was before it worked on all peaks at once (a loop per peak, session 4),
kept as the reference the whole-trace search must equal exactly (test_rhythm_whole_trace.py).
Test code only: `sensors.processing.rhythm.bend_repetitions` replaced it."""

from __future__ import annotations

import numpy as np

from sensors.processing.errors import ProcessingError
from sensors.processing.gradient import gradient
from sensors.processing.peaks import find_peaks
from sensors.processing.rhythm import PROGRESS_LEVELS, BendRepetition, RhythmResult, RhythmSettings
from sensors.processing.runs import true_runs


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
    rate = 1.0 / float(np.median(np.diff(t)))
    finite = np.isfinite(trunk) & np.isfinite(pelvis)
    trunk_v = gradient(trunk, t, finite)  # = np.gradient(np.where(finite, trunk, nan), t)
    pelvis_v = gradient(pelvis, t, finite)
    baseline = np.nanpercentile(trunk, 10)
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
                pelvic_onset_lag_s=float(t[start] - t[pelvis_start]),
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
