"""Missed steps counted from the body's medio-lateral sway (a benchmark row, `stabmon_sway`;
measured in session 9 and not adopted: benchmarks/RESULTS.md, "Gait, issue 16, session 9,
gait-sway").

The centre of mass sways towards the stance foot once per step (the frontal-plane inverted
pendulum, MacKinnon & Winter 1993), so the heading-frame ML acceleration band-passed to the
stride band (side.py `side_evidence`) makes one half-cycle per step, its extreme at mid-stance
between two contacts. Half-cycles are bounded by `gait-stride`'s Schmitt trigger
(gait_stride_cycles `stride_events` at half its `swing_scale`). Session 7's
`step_parameters.fill_missed_steps` counts a miss only where the sides show a same-side pair; this
rule also counts, in every other interior interval of at least `missed_step_gap` typical steps,
k − 1 missed steps where the sway makes k ≥ 2 half-cycles in it, evenly spaced with alternating
sides, and takes the cadence as `step_parameters.bout_cadence_steps_per_min` does.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or imported from tests
from gait_stride_cycles import stride_events, swing_scale

from sensors.processing.errors import ProcessingError
from sensors.processing.step_parameters import (
    RobustStepSettings,
    fill_missed_steps,
    robust_cadence_steps_per_min,
    robust_per_foot_cadence_steps_per_min,
)

_OTHER_FOOT = {"left": "right", "right": "left"}


def half_cycle_extremes(evidence: np.ndarray, threshold: float) -> np.ndarray:
    """Sample indices (h,) of the sway's whole half-cycles' extremes: a half-cycle spans two
    successive trigger events (`stride_events` at ±threshold, rising and falling together); its
    place is its sample of largest |evidence| (n,). An unfinished swing at either end is none."""
    e = np.asarray(evidence, dtype=float)
    rising, falling = stride_events(e, threshold)
    events = np.sort(np.concatenate([rising, falling]))
    bounds = [(int(np.ceil(a)), int(np.floor(b)) + 1) for a, b in itertools.pairwise(events)]
    return np.array([a + int(np.argmax(np.abs(e[a:b]))) for a, b in bounds if b > a], dtype=int)


def half_cycles_per_step(evidence: np.ndarray, contacts: np.ndarray) -> np.ndarray:
    """Sway half-cycles (c − 1,) in each interval between consecutive contacts (sample indices
    (c,) into the stride-band ML evidence (n,), sorted): whole half-cycles (trigger at half the
    `swing_scale`) whose extreme lies strictly between the two contacts."""
    idx = np.asarray(contacts, dtype=int)
    if len(idx) < 2:
        return np.zeros(0, dtype=int)
    extremes = half_cycle_extremes(evidence, 0.5 * swing_scale(evidence, idx))
    before_end = np.searchsorted(extremes, idx[1:], side="left")
    up_to_start = np.searchsorted(extremes, idx[:-1], side="right")
    return (before_end - up_to_start).astype(int)


def _typical_steps(d: np.ndarray, i: int, half_window: int) -> float:
    """Interval i of the step intervals d (n − 1,) s in typical steps, as `fill_missed_steps`
    takes it: against half the median of the neighbouring strides not spanning it; 0 for none."""
    strides = [
        d[j] + d[j + 1]
        for j in range(max(0, i - half_window - 1), min(len(d) - 1, i + half_window + 1))
        if j not in (i - 1, i)
    ]
    return 2.0 * float(d[i]) / float(np.median(strides)) if strides else 0.0


def fill_swayed_steps(
    contacts_s: np.ndarray,
    sides: tuple[str, ...] | list[str],
    half_cycles: np.ndarray,
    settings: RobustStepSettings | None = None,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Sorted contacts (n,) s with sides (n,) and the missed steps put in: session 7's
    (`fill_missed_steps`, same-side intervals) and, in every other interior interval of at least
    `missed_step_gap` typical steps holding k ≥ 2 sway half-cycles (`half_cycles` (n − 1,)),
    k − 1 more, evenly spaced with sides alternating from the interval's first contact."""
    s = settings or RobustStepSettings()
    t = np.asarray(contacts_s, dtype=float)
    foot = list(sides)
    if len(half_cycles) != max(len(t) - 1, 0):
        raise ProcessingError(f"sway steps: {len(t)} contacts but {len(half_cycles)} sway intervals")
    times, labels = fill_missed_steps(t, foot, s)
    if len(t) < 4:
        return times, labels
    d = np.diff(t)
    extra_t: list[float] = []
    extra_side: list[str] = []
    for i in range(1, len(d) - 1):
        k = int(half_cycles[i])
        if foot[i] == foot[i + 1] or k < 2 or _typical_steps(d, i, s.cadence_half_window) < s.missed_step_gap:
            continue
        side = foot[i]
        for j in range(1, k):
            side = _OTHER_FOOT.get(side, side)
            extra_t.append(t[i] + d[i] * j / k)
            extra_side.append(side)
    every_t = np.concatenate([times, extra_t])
    order = np.argsort(every_t, kind="stable")
    every_side = [*labels, *extra_side]
    return every_t[order], tuple(every_side[j] for j in order)


def sway_cadence_steps_per_min(
    contacts_s: np.ndarray,
    sides: tuple[str, ...] | list[str],
    sides_trusted: bool,
    half_cycles: np.ndarray,
    settings: RobustStepSettings | None = None,
) -> float:
    """Bout cadence, steps/min, as `bout_cadence_steps_per_min` takes it, with the missed steps of
    `fill_swayed_steps`: per-foot strides where the sides are trusted, else contacts i → i+2."""
    t, foot = fill_swayed_steps(contacts_s, sides, half_cycles, settings)
    if sides_trusted and len(t) >= 3:
        return robust_per_foot_cadence_steps_per_min(t, foot, settings)
    return robust_cadence_steps_per_min(t, settings)
