"""Per-step gait values made robust to missed and extra contacts.

A missed contact doubles one step time, an extra one halves it; a plain mean over a short bout
then moves cadence by several steps/min. Step values are cleaned with the Hampel filter that
Mobilise-D's cadence and stride-length algorithms use (mobgap `CadFromIc`, `SlZijlstra`;
Micó-Amigo et al. 2023, J NeuroEng Rehabil 20:78): a value further than `n_sigma` × 1.4826 MAD
from the median of its ±`half_window` neighbours (Hampel 1974) is replaced by that median. The bout
value is the mean of the cleaned step values.

Cadence is the INDIP reference's bout cadence rebuilt from contacts: the mean of the per-stride
cadences 120 / (t[i+2] − t[i]). INDIP takes the plain mean of its per-stride cadences (its own
contacts put through this rule give its bout cadence exactly on every HA001 bout), slow strides
included: a bout starts and stops with slow steps (HA001's daily-activity bouts end in steps of
1.2–2.0 s). So the Hampel filter (±`cadence_half_window` strides; an extra or missed contact
spoils three or two consecutive strides) cleans the interior strides only, and the first and last
stride are kept as they are. (mobgap's `CadFromIc` averages per second instead, and cleans the
edges too.)

INDIP's strides are per foot: a contact to the next contact of the same foot, so where a foot
lands twice in a row (slow shuffles) that is one short stride and the other foot's spans three
steps (`per_foot_stride_times_s`). On the Mobilise-D lab participants this rule gives INDIP's
stride count on every bout and its stride durations wherever INDIP timed them; from the
reference's own contacts and sides its plain mean gives INDIP's bout cadence where INDIP timed
every contact. It needs every contact's side right: a wrong side turns two strides into one of
one step and one of three. The pelvic sensor's side labels are trusted for it only where the
sign of each contact's yaw rate and the alternation model agree on every contact (side.py);
elsewhere cadence comes from contacts i to i+2 (`bout_cadence_steps_per_min`;
benchmarks/RESULTS.md, sessions 5 and 6).

A missed contact inside a bout makes one "stride" of three steps, and the Hampel filter does not
remove two consecutive spoiled strides in a short bout; INDIP, which timed the contact, leaves
no such stride. Timing alone cannot tell a missed step from a real pause (daily-life bouts hold
interior pauses of 1.5–3.3 typical steps that INDIP keeps as slow strides), but the sides can: a
pause keeps the feet alternating (L, pause, R), a missed contact leaves a same-side pair
(L [R] L). So an interior step interval of at least `missed_step_gap` typical steps whose two
contacts carry the same side holds an odd number of undetected steps and is counted as that
many more steps, as a step counter would (`fill_missed_steps`; the first and last interval are
starting and stopping and stay as they are; benchmarks/RESULTS.md, session 7).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from sensors.processing.errors import ProcessingError

logger = logging.getLogger(__name__)

#: MAD → standard deviation for normally distributed data.
_MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class RobustStepSettings:
    half_window: int = 2
    n_sigma: float = 3.0
    cadence_half_window: int = 3  # strides
    missed_step_gap: float = 1.5  # a same-side interval ≥ this many typical steps hides steps


def hampel(values: np.ndarray, half_window: int = 2, n_sigma: float = 3.0) -> np.ndarray:
    """Hampel filter of (n,): a value further than n_sigma robust SDs from the median of its
    ±half_window neighbours (window truncated at the ends) is replaced by that median."""
    x = np.asarray(values, dtype=float)
    out = x.copy()
    for i in range(len(x)):
        window = x[max(0, i - half_window) : i + half_window + 1]
        if not np.isfinite(window).any():
            continue
        median = np.nanmedian(window)
        sigma = _MAD_TO_SD * np.nanmedian(np.abs(window - median))
        if abs(x[i] - median) > n_sigma * sigma:
            out[i] = median
    return out


def robust_mean(step_values: np.ndarray, settings: RobustStepSettings | None = None) -> float:
    """Mean of per-step values (n,) after the Hampel filter; NaN for no steps."""
    s = settings or RobustStepSettings()
    values = np.asarray(step_values, dtype=float)
    return float(np.nanmean(hampel(values, s.half_window, s.n_sigma))) if len(values) else float("nan")


def bout_mean(per_stride: np.ndarray, settings: RobustStepSettings | None = None) -> float:
    """Bout mean of per-stride values (n,) as INDIP takes it, made robust: the interior strides
    Hampel-filtered over ±`cadence_half_window` strides, the first and last stride (starting and
    stopping, slow and short by nature) kept as they are; NaN for none."""
    s = settings or RobustStepSettings()
    x = np.asarray(per_stride, dtype=float)
    if len(x) == 0:
        return float("nan")
    cleaned = hampel(x, s.cadence_half_window, s.n_sigma)
    cleaned[[0, -1]] = x[[0, -1]]
    return float(np.mean(cleaned))


def robust_cadence_steps_per_min(contacts_s: np.ndarray, settings: RobustStepSettings | None = None) -> float:
    """Cadence of a bout, steps/min, from its sorted contact times (n,), s: the mean of the
    per-stride cadences 120 / stride time, interior strides Hampel-filtered; 60 / step time for
    two contacts; NaN for fewer."""
    s = settings or RobustStepSettings()
    t = np.asarray(contacts_s, dtype=float)
    if len(t) < 3:
        return 60.0 / float(t[1] - t[0]) if len(t) == 2 else float("nan")
    return bout_mean(120.0 / (t[2:] - t[:-2]), s)


def per_foot_stride_times_s(contacts_s: np.ndarray, sides: tuple[str, ...] | list[str]) -> np.ndarray:
    """INDIP's strides: from each contact (n,) s, to the next contact of the same foot (sides (n,),
    "left"/"right"), one per contact that has one, in contact order; NaN where either end has no
    time (NaN contact)."""
    t = np.asarray(contacts_s, dtype=float)
    foot = np.asarray(sides)
    if len(foot) != len(t):
        raise ProcessingError(f"per-foot strides: {len(t)} contacts but {len(foot)} sides")
    strides = []
    for i in range(len(t) - 1):
        same = np.flatnonzero(foot[i + 1 :] == foot[i])
        if len(same):
            strides.append(t[i + 1 + same[0]] - t[i])
    return np.array(strides, dtype=float)


def per_foot_stride_cadences(contacts_s: np.ndarray, sides: tuple[str, ...] | list[str]) -> np.ndarray:
    """120 / stride time, steps/min, of each per-foot stride with a (positive) time (k,)."""
    strides = per_foot_stride_times_s(contacts_s, sides)
    return 120.0 / strides[np.isfinite(strides) & (strides > 0)]


def per_foot_cadence_steps_per_min(contacts_s: np.ndarray, sides: tuple[str, ...] | list[str]) -> float:
    """INDIP's bout cadence: the plain mean of 120 / stride time over the per-foot strides with a
    (positive) time; NaN for none."""
    cadences = per_foot_stride_cadences(contacts_s, sides)
    return float(np.mean(cadences)) if len(cadences) else float("nan")


def robust_per_foot_cadence_steps_per_min(
    contacts_s: np.ndarray, sides: tuple[str, ...] | list[str], settings: RobustStepSettings | None = None
) -> float:
    """Bout cadence, steps/min, over INDIP's per-foot strides of sorted contacts (n,) s with sides
    (n,): the mean of 120 / stride time, interior strides Hampel-filtered as `bout_mean` does
    (a missed or extra contact spoils strides of a detector's contacts as it does i → i+2);
    NaN for no stride."""
    cadences = per_foot_stride_cadences(contacts_s, sides)
    return bout_mean(cadences, settings) if len(cadences) else float("nan")


_OTHER_FOOT = {"left": "right", "right": "left"}


def fill_missed_steps(
    contacts_s: np.ndarray, sides: tuple[str, ...] | list[str], settings: RobustStepSettings | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Sorted contacts (n,) s with sides (n,), and the steps a detector missed put in, evenly
    spaced with alternating sides: (m,) s and (m,) sides, m ≥ n. An interior interval (neither
    the first nor the last) between two contacts of the same side that spans at least
    `missed_step_gap` typical steps holds k − 1 missed steps, k = 2·round(r / 2) ≥ 2 for r
    typical steps (a same-side pair hides an odd number). The typical step is half the median
    of the neighbouring strides (contacts j → j + 2 not spanning this interval, ±`cadence_half_window`
    of them), which an asymmetric gait's long step does not stretch."""
    s = settings or RobustStepSettings()
    t = np.asarray(contacts_s, dtype=float)
    foot = list(sides)
    if len(foot) != len(t):
        raise ProcessingError(f"missed steps: {len(t)} contacts but {len(foot)} sides")
    if len(t) < 4:
        return t, tuple(foot)
    d = np.diff(t)
    times, labels = [t[0]], [foot[0]]
    for i, interval in enumerate(d):
        k = 1
        if 0 < i < len(d) - 1 and foot[i] == foot[i + 1]:
            h = s.cadence_half_window
            strides = [
                d[j] + d[j + 1]
                for j in range(max(0, i - h - 1), min(len(d) - 1, i + h + 1))
                if j not in (i - 1, i)
            ]
            r = 2.0 * interval / float(np.median(strides)) if strides else 0.0
            if r >= s.missed_step_gap:
                k = max(2, 2 * round(r / 2))
        side = foot[i]
        for j in range(1, k):
            side = _OTHER_FOOT.get(side, side)
            times.append(t[i] + interval * j / k)
            labels.append(side)
        times.append(t[i + 1])
        labels.append(foot[i + 1])
    if len(times) > len(t):
        logger.debug("cadence: %d missed steps counted in a bout of %d contacts", len(times) - len(t), len(t))
    return np.array(times), tuple(labels)


def bout_cadence_steps_per_min(
    contacts_s: np.ndarray,
    sides: tuple[str, ...] | list[str],
    sides_trusted: bool,
    settings: RobustStepSettings | None = None,
) -> float:
    """Cadence of a bout from a detector's sorted contacts (n,) s and their sides (n,), missed
    steps counted (`fill_missed_steps`): per-foot strides where the side labels are trusted, else
    contacts i → i+2 (`robust_cadence_steps_per_min`). With sides that alternate throughout the
    two are the same strides."""
    t, foot = fill_missed_steps(contacts_s, sides, settings)
    if sides_trusted and len(t) >= 3:
        return robust_per_foot_cadence_steps_per_min(t, foot, settings)
    return robust_cadence_steps_per_min(t, settings)
