"""Single-leg stance: time on one leg until the lifted foot comes down.

Standing on one leg tilts the pelvis in the frontal plane (the free side drops or hitches by a few
degrees); putting the foot down brings it back to level. The time to foot-down is the first time
after the stance is established that the pelvic frontal tilt falls back below a third of its
single-leg plateau and stays there for `settle_s`. There is no published IMU standard for this
(METRICS.md §1 leaves it open): the rule is ours, and a clinician's "end task" key, pressed when the
foot touches down, takes precedence over it. Without either, the patient held to the task's end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensors.processing.runs import true_runs


@dataclass(frozen=True)
class FootDownSettings:
    """establish_s: time allowed to move onto one leg after the task starts; plateau_s: the window
    after it whose median tilt is the single-leg plateau; min_plateau_deg: smaller plateaus cannot
    be told from sway (then only the clinician's key counts); return_fraction: share of the
    plateau below which the pelvis is level again; settle_s: how long it must stay there."""

    establish_s: float = 2.0
    plateau_s: float = 2.0
    min_plateau_deg: float = 1.5
    return_fraction: float = 1.0 / 3.0
    settle_s: float = 0.5


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
    calibration, at time_s (n,) s; NaN samples (gaps) never count as level."""
    if ended_by_clinician:
        return FootDown(task_end_s - task_start_s, True, "clinician")
    held = FootDown(task_end_s - task_start_s, False, "held to the end")
    t = np.asarray(time_s, dtype=float)
    tilt = np.asarray(pelvis_frontal_deg, dtype=float)
    s = settings
    plateau_window = (t >= task_start_s + s.establish_s) & (t < task_start_s + s.establish_s + s.plateau_s)
    values = tilt[plateau_window]
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return held
    plateau = float(np.median(values))
    if abs(plateau) < s.min_plateau_deg:
        return held
    after = (t >= task_start_s + s.establish_s + s.plateau_s) & (t <= task_end_s)
    level = after & np.isfinite(tilt) & (np.sign(plateau) * tilt < s.return_fraction * abs(plateau))
    rate = 1.0 / float(np.median(np.diff(t))) if len(t) > 1 else math.inf
    for start, stop in true_runs(level):
        if (stop - start) / rate >= s.settle_s:
            return FootDown(float(t[start]) - task_start_s, True, "pelvis level again")
    return held
