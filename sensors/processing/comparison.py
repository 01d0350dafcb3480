"""Measures across conditions and sessions: dual-task effect, left/right symmetry, re-test
reliability and whether a change is real."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sensors.processing.errors import ProcessingError


def dual_task_effect_pct(single: float, dual: float, higher_is_better: bool) -> float:
    """Dual-task effect, %: (dual − single)/single × 100, sign flipped where higher is worse, so a
    negative value is always a cost (Plummer & Eskes 2015). For sway (higher is worse) pass
    higher_is_better=False; for cognitive accuracy pass True."""
    if single == 0:
        raise ProcessingError("dual-task effect is undefined when the single-task value is zero")
    effect = (dual - single) / single * 100.0
    return effect if higher_is_better else -effect


def symmetry_index_pct(left: float, right: float) -> float:
    """Symmetry index SI = (R − L)/(0.5·(R + L)) × 100, %; 0 is symmetric, positive means more
    on the right (Robinson et al. 1987, as in Zifchock et al. 2008)."""
    if left + right == 0:
        raise ProcessingError("symmetry index is undefined when left + right is zero")
    return (right - left) / (0.5 * (right + left)) * 100.0


def symmetry_angle_pct(left: float, right: float) -> float:
    """Symmetry angle SA = (45° − arctan(L/R))/90° × 100, %, needing no reference side
    (Zifchock et al. 2008); 0 is symmetric, ±100 is opposite in sign. Uses their correction
    (subtract 180°) when 45° − arctan(L/R) exceeds 90°."""
    if right == 0:
        raise ProcessingError("symmetry angle is undefined when the right-side value is zero")
    angle = 45.0 - np.degrees(np.arctan(left / right))
    if angle > 90.0:
        angle -= 180.0
    return float(angle / 90.0 * 100.0)


def icc_2_1(scores: np.ndarray) -> float:
    """ICC(2,1): two-way random effects, absolute agreement, single measurement (Shrout & Fleiss
    1979), of scores (n subjects, k sessions):
    (MSR − MSE)/(MSR + (k−1)·MSE + k·(MSC − MSE)/n)."""
    x = np.asarray(scores, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2 or not np.isfinite(x).all():
        raise ProcessingError(f"ICC needs finite scores of shape (subjects ≥ 2, sessions ≥ 2), got {x.shape}")
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * np.sum((x.mean(axis=1) - grand) ** 2)
    ss_cols = n * np.sum((x.mean(axis=0) - grand) ** 2)
    ss_error = np.sum((x - grand) ** 2) - ss_rows - ss_cols
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_error / ((n - 1) * (k - 1))
    return float((msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n))


@dataclass(frozen=True)
class Reliability:
    """Re-test reliability of one measure: ICC(2,1), SEM = SD·√(1 − ICC) and
    MDC95 = 1.96·√2·SEM, both in the measure's unit; SD is the SD of all scores."""

    icc: float
    sem: float
    mdc95: float
    subjects: int
    sessions: int


def retest_reliability(scores: np.ndarray) -> Reliability:
    """Reliability of scores (n subjects, k sessions) from a test–retest study."""
    x = np.asarray(scores, dtype=float)
    icc = icc_2_1(x)
    sem = float(np.std(x, ddof=1) * np.sqrt(max(1.0 - icc, 0.0)))
    return Reliability(icc, sem, 1.96 * np.sqrt(2.0) * sem, x.shape[0], x.shape[1])


def change_exceeds_mdc(baseline: float, retest: float, mdc95: float) -> bool:
    """True when |retest − baseline| exceeds the minimal detectable change: a real change."""
    return bool(abs(retest - baseline) > mdc95)


#: Fewest repetitions (or 10-s windows) in each session for a within-session MDC: from two the
#: pooled SD has two degrees of freedom and may be far too small (Reynard 2019: 4 repetitions for
#: a reliable trunk-accelerometer sway, ICC 0.85; NORMS.md "Balance and sway").
MIN_REPETITIONS_FOR_MDC = 3


def mdc95_between_session_means(baseline: npt.ArrayLike, retest: npt.ArrayLike) -> float:
    """MDC95 of the difference between two session means, from the spread of the repetitions
    within each session (baseline (k1,), retest (k2,); non-finite values ignored):
    1.96 · SD_within · √(1/k1 + 1/k2), SD_within pooled over both sessions. With k1 = k2 = k this
    is 1.96·√2·SEM with SEM = SD_within/√k, the error of one session's mean. It knows only
    repetition-to-repetition error, not day-to-day change in how sensors are placed, so it is a
    lower bound on the MDC a test–retest study would give."""
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(retest, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if min(len(a), len(b)) < MIN_REPETITIONS_FOR_MDC:
        raise ProcessingError(
            f"an MDC needs at least {MIN_REPETITIONS_FOR_MDC} repetitions in each session, "
            f"got {len(a)} and {len(b)}"
        )
    pooled = ((len(a) - 1) * np.var(a, ddof=1) + (len(b) - 1) * np.var(b, ddof=1)) / (len(a) + len(b) - 2)
    return float(1.96 * np.sqrt(pooled) * np.sqrt(1.0 / len(a) + 1.0 / len(b)))
