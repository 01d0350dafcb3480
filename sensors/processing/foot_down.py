"""Single-leg stance: time on one leg until the lifted foot comes down.

Standing on one leg tilts the pelvis in the frontal plane (the free side drops or hitches by a few
degrees); putting the foot down brings it back to level. Standing on one leg also sways the pelvis
sideways by about a degree (RMS, 0.2–2 Hz), so single samples, and troughs of a second or so, come
back to level during normal sway. The foot is down when the tilt's `smooth_s` centred moving mean
stays below `return_fraction` of the single-leg plateau for `settle_s`: a return held well beyond
the sway's troughs. The plateau is the mean tilt over all the single-leg stance so far, up to
before the candidate's own samples (a few seconds of it would still carry the slow sway). The time
is where the moving mean first falls below the threshold. Over 400 simulated single-leg stances
(seeds 1–200, each leg) the rule saw no foot-down, and it found every scripted one within 0.5 s
(tests/sensors/processing/test_foot_down.py). A foot put down in the last `settle_s` + `smooth_s`/2
of the task cannot be confirmed before the data end.
There is no published IMU standard for this (METRICS.md §1 leaves it open): the rule is ours, and a
clinician's "end task" key, pressed when the foot touches down, takes precedence over it (the rule's
own result is then kept beside it as a cross-check). Without either, the patient held to the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensors.processing.runs import true_runs


@dataclass(frozen=True)
class FootDownSettings:
    """establish_s: time allowed to move onto one leg after the task starts; plateau_s: the window
    after it whose median tilt gives the stance side (the sign of the tilt), and before whose end
    no foot-down is looked for; min_plateau_deg: smaller plateaus cannot
    be told from sway (then only the clinician's key counts); smooth_s: centred moving-mean window
    that removes the single-leg sway; return_fraction: share of the plateau below which the
    smoothed tilt is level again; settle_s: how long it must stay there."""

    establish_s: float = 2.0
    plateau_s: float = 2.0
    min_plateau_deg: float = 1.5
    smooth_s: float = 1.0
    return_fraction: float = 0.3
    settle_s: float = 1.5


@dataclass(frozen=True)
class FootDown:
    """time_s: time on one leg from the task start, s; foot_down: the foot came down before the
    task ended; how: "clinician", "pelvis level again" or "held to the end"."""

    time_s: float
    foot_down: bool
    how: str


def time_to_foot_down(
    time_s: np.ndarray,
    pelvis_frontal_deg: np.ndarray,
    task_start_s: float,
    task_end_s: float,
    ended_by_clinician: bool = False,
    settings: FootDownSettings = FootDownSettings(),
) -> FootDown:
    """Time on one leg from the pelvic frontal inclination (n,) deg relative to the standing
    calibration, at time_s (n,) s; a smoothing window with a NaN sample (gap) never counts as level."""
    if ended_by_clinician:
        return FootDown(task_end_s - task_start_s, True, "clinician")
    return foot_down_rule(time_s, pelvis_frontal_deg, task_start_s, task_end_s, settings)


def foot_down_rule(
    time_s: np.ndarray,
    pelvis_frontal_deg: np.ndarray,
    task_start_s: float,
    task_end_s: float,
    settings: FootDownSettings = FootDownSettings(),
) -> FootDown:
    """The IMU's own answer (`time_to_foot_down` without a clinician's key): "pelvis level again"
    or "held to the end"."""
    held = FootDown(task_end_s - task_start_s, False, "held to the end")
    t = np.asarray(time_s, dtype=float)
    tilt = np.asarray(pelvis_frontal_deg, dtype=float)
    s = settings
    on_leg = task_start_s + s.establish_s
    plateau_window = (t >= on_leg) & (t < on_leg + s.plateau_s)
    values = tilt[plateau_window]
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return held
    side = 1.0 if np.median(values) >= 0 else -1.0
    rate = 1.0 / float(np.median(np.diff(t))) if len(t) > 1 else math.inf
    smoothed = _centred_mean(side * tilt, max(1, round(s.smooth_s * rate)))
    # The plateau before the candidate's smoothing window and settling: a foot-down's own level
    # samples never lower the plateau it is judged against.
    lag = round((s.smooth_s + s.settle_s) * rate)
    plateau = np.concatenate([np.full(lag, np.nan), _plateau_so_far(t, side * tilt, on_leg)])[: len(t)]
    after = (t >= on_leg + s.plateau_s) & (t <= task_end_s)
    level = (
        after
        & np.isfinite(smoothed)
        & (plateau >= s.min_plateau_deg)
        & (smoothed < s.return_fraction * np.nan_to_num(plateau))
    )
    for start, stop in true_runs(level):
        if (stop - start) / rate >= s.settle_s:
            return FootDown(float(t[start]) - task_start_s, True, "pelvis level again")
    return held


def _plateau_so_far(t: np.ndarray, tilt: np.ndarray, from_s: float) -> np.ndarray:
    """The single-leg plateau known at each sample (n,) deg: the mean of the finite tilt (n,) deg
    since from_s, s, before it (NaN before any); all the stance so far, not a few seconds of it,
    so that the slow part of the sway averages out."""
    use = (t >= from_s) & np.isfinite(tilt)
    sums = np.cumsum(np.where(use, tilt, 0.0))
    counts = np.cumsum(use)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _centred_mean(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving mean of x (n,) over `width` samples; NaN where the window has a NaN sample
    or runs past either end."""
    out = np.full(len(x), np.nan)
    if len(x) < width:
        return out
    sums = np.concatenate([[0.0], np.cumsum(np.nan_to_num(x))])
    gaps = np.concatenate([[0], np.cumsum(~np.isfinite(x))])
    means = (sums[width:] - sums[:-width]) / width
    means[(gaps[width:] - gaps[:-width]) > 0] = np.nan
    first = width // 2
    out[first : first + len(means)] = means
    return out
