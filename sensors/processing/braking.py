"""A heel strike brakes the body's forward motion (RESULTS.md, session 9 gait-ap, choice 1c).

NOT ADOPTED (off by default): kept in one commit for the record, then removed.

At initial contact the leading leg, planted ahead of the centre of mass, decelerates it: the lower
trunk's anterior-posterior (AP) acceleration peaks forward at the contact and falls sharply
through the loading response (Zijlstra & Hof 2003). A contact's *fall* is the largest drop of the
lightly smoothed heading-frame AP acceleration within a quarter of a typical step on either side
of it. Only contacts inside a continuing walk are tested (not a bout's first or last, both
intervals beside it shorter than `pause_steps` typical steps: a start or a stop has no walk to
brake); such a contact is dropped when its fall is below `min_fraction` of both its neighbours'
falls (braking scales with the forward velocity, which the steps beside it share).
"""

from __future__ import annotations

import numpy as np


def ap_falls(ap_m_s2: np.ndarray, contacts: np.ndarray, half_window: int) -> np.ndarray:
    """Per contact (k,) the largest drop a[i] − a[j], i ≤ j, m/s², of the AP acceleration (n,)
    within ±half_window samples of each contact index (k,)."""
    falls = np.zeros(len(contacts))
    for k, c in enumerate(contacts):
        part = ap_m_s2[max(0, c - half_window) : c + half_window + 1]
        later_min = np.minimum.accumulate(part[::-1])[::-1]
        falls[k] = float(np.max(part - later_min)) if len(part) else 0.0
    return falls


def braking_contacts(
    ap_m_s2: np.ndarray,
    contacts: np.ndarray,
    rate_hz: float,
    step_frequency_hz: float,
    window_steps: float,
    min_fraction: float,
    smoothing_s: float,
    pause_steps: float,
) -> np.ndarray:
    """The contacts (indices (k,), sorted) without those inside a continuing walk whose fall of the
    heading-frame AP acceleration (n,), m/s², within ±window_steps typical steps
    (1 / step_frequency_hz) is below min_fraction of both neighbours' falls. All of them when
    window_steps is 0."""
    from scipy.ndimage import gaussian_filter1d

    if window_steps <= 0 or len(contacts) < 3:
        return contacts
    typical = rate_hz / step_frequency_hz  # samples
    gaps = np.diff(contacts) / typical
    tested = np.zeros(len(contacts), dtype=bool)
    tested[1:-1] = (gaps[:-1] < pause_steps) & (gaps[1:] < pause_steps)
    smooth = gaussian_filter1d(np.nan_to_num(np.asarray(ap_m_s2, dtype=float)), smoothing_s * rate_hz)
    falls = ap_falls(smooth, contacts, max(1, round(window_steps * typical)))
    neighbours = np.minimum(np.r_[np.inf, falls[:-1]], np.r_[falls[1:], np.inf])
    keep = ~tested | (falls >= min_fraction * neighbours)
    return contacts[keep]
