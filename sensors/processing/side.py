"""Left/right labels of a pelvic sensor's initial contacts, robust to turning.

Evidence: the earth-vertical angular velocity (yaw rate) band-passed to the stride frequency
(`band_hz`), at each contact: the pelvis rotates towards the leading leg, so the rate is negative
at a left contact and positive at a right one (McCamley et al. 2012; mobgap `LrcMcCamley`, whose
Butterworth band Ullrich et al. 2021 introduced). Taken alone, its sign (the *sign rule*) fails in
turns: turning adds a yaw rate of one sign that the band-pass does not fully remove, and
consecutive contacts then get the same side.

Labels: the feet alternate, so the labels are the most probable two-state sequence (Viterbi) in
which labelling contact i with side s (−1 left, +1 right) costs −s·z_i, z_i the evidence divided
by the bout's median |evidence|, and a same-side repeat costs `repeat_cost` (2: a repeat is
accepted only where the contacts' own evidence for it outweighs twice a typical contact's). Over
alternating labels a yaw-rate offset adds +b and −b in turn and cancels, which the sign rule
cannot do; a repeat remains possible where the evidence of both contacts insists on it (a missed
contact, or the same foot landing twice in a shuffle). Where the sign rule and the sequence agree
on every contact (`SideLabels.consistent`) no contact's label rests on the prior alone: the side
labels are then trusted for per-foot strides (step_parameters.per_foot_cadence_steps_per_min).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from sensors.processing.errors import ProcessingError

logger = logging.getLogger(__name__)

LEFT, RIGHT = "left", "right"


@dataclass(frozen=True)
class SideSettings:
    band_hz: tuple[float, float] = (0.5, 2.0)  # the stride frequency of walking, Hz
    repeat_cost: float = 2.0  # a same-side repeat, in units of the bout's median |evidence|


@dataclass(frozen=True)
class SideLabels:
    """Sides of a bout's contacts (n,), "left"/"right", and whether the sign rule agrees."""

    sides: tuple[str, ...]
    consistent: bool  # every label equals the sign of its own evidence


def side_evidence(
    yaw_rate_rad_s: np.ndarray, rate_hz: float, settings: SideSettings | None = None
) -> np.ndarray:
    """The earth-vertical angular velocity (n,), rad/s, band-passed to the stride frequency:
    negative around a left contact, positive around a right one."""
    from scipy import signal  # imported when needed: scipy submodules are slow to import

    s = settings or SideSettings()
    x = np.asarray(yaw_rate_rad_s, dtype=float)
    if not np.isfinite(x).all():
        raise ProcessingError("side labels need a gap-free yaw rate (no NaN)")
    band = signal.butter(2, s.band_hz, btype="bandpass", fs=rate_hz, output="sos")
    return np.asarray(signal.sosfiltfilt(band, x))


def alternating_sides(evidence: np.ndarray, repeat_cost: float = 2.0) -> np.ndarray:
    """Most probable sides (n,), −1 left / +1 right, of contacts with evidence (n,) (positive =
    right): labelling a contact s costs −s·z, z = evidence / median |evidence|, and each same-side
    repeat costs `repeat_cost`. Ties go to alternation and, at the start, to the left."""
    e = np.asarray(evidence, dtype=float)
    n = len(e)
    if n == 0:
        return np.zeros(0)
    scale = float(np.median(np.abs(e)))
    z = e / scale if scale > 0 else np.zeros(n)
    states = np.array([-1.0, 1.0])
    cost = -states * z[0]
    came_from = np.zeros((n, 2), dtype=int)
    for i in range(1, n):
        stay = cost + repeat_cost  # previous contact on the same side
        switch = cost[::-1]  # previous contact on the other side
        repeat = stay < switch
        came_from[i] = np.where(repeat, [0, 1], [1, 0])
        cost = np.minimum(stay, switch) - states * z[i]
    path = np.empty(n, dtype=int)
    path[-1] = int(np.argmin(cost))
    for i in range(n - 1, 0, -1):
        path[i - 1] = came_from[i, path[i]]
    return states[path]


def contact_sides(
    yaw_rate_rad_s: np.ndarray, rate_hz: float, contacts: np.ndarray, settings: SideSettings | None = None
) -> SideLabels:
    """Sides of the contacts (indices (k,)) of a bout with earth-vertical angular velocity (n,),
    rad/s, sampled at rate_hz."""
    s = settings or SideSettings()
    idx = np.asarray(contacts, dtype=int)
    if len(idx) and (idx.min() < 0 or idx.max() >= len(yaw_rate_rad_s)):
        raise ProcessingError(f"side labels: contact index outside the bout's {len(yaw_rate_rad_s)} samples")
    evidence = side_evidence(yaw_rate_rad_s, rate_hz, s)[idx]
    labels = alternating_sides(evidence, s.repeat_cost)
    sign_rule = np.where(evidence < 0, -1.0, 1.0)
    consistent = bool(np.array_equal(labels, sign_rule))
    if not consistent:
        logger.debug(
            "side labels: the alternation overrules the sign of %d of %d contacts",
            int(np.sum(labels != sign_rule)),
            len(idx),
        )
    return SideLabels(tuple(LEFT if x < 0 else RIGHT for x in labels), consistent)
