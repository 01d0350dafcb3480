"""A heel strike is followed by the other foot's final contact (toe-off) within the double support.

McCamley et al. (2012) read both events from the lower-back vertical acceleration: initial
contacts (IC) at the maxima of the Gaussian-smoothed acceleration, final contacts (FC) at the
maxima of its negative derivative (the second differentiation of the integrated acceleration).
scikit-digital-health (skdh, `CreateStridesAndQc`) keeps an IC only when exactly one FC follows
within the initial double support, `t_loading`, and no next IC comes before that FC; its defaults
set `t_loading = (0.17·T + 0.05)·(2·T + 1.0)` s for the bout's mean step time T. The scales are
Caramia et al.'s (2019) as skdh uses them: the FC's `(131 − 52·f)·rate/250` samples for step
frequency f, Hz, clipped to [1, 90]. Nothing here is fitted.
"""

from __future__ import annotations

import numpy as np

from sensors.processing.peaks import find_peaks

FC_HEIGHT_OF_STD = 0.5  # skdh: FC peaks at least 0.5 standard deviations of the FC signal high


def loading_window_s(step_frequency_hz: float) -> float:
    """skdh's default initial double support limit, s, for a bout's step frequency, Hz."""
    step = 1.0 / step_frequency_hz
    return (0.17 * step + 0.05) * (2.0 * step + 1.0)


def final_contact_scale(step_frequency_hz: float, rate_hz: float) -> float:
    """skdh's FC wavelet scale, samples: Caramia et al.'s (131 − 52·f) at 250 Hz, clipped [1, 90]."""
    return float(np.clip((131.0 - 52.0 * step_frequency_hz) * rate_hz / 250.0, 1.0, 90.0))


def final_contacts(vertical_acc_m_s2: np.ndarray, rate_hz: float, step_frequency_hz: float) -> np.ndarray:
    """Indices of final-contact signatures in a gravity-free vertical acceleration (n,), m/s²:
    maxima of −d/dt of the acceleration smoothed at σ = the FC scale (two gaus1 wavelet
    transforms of the velocity at that scale), at least FC_HEIGHT_OF_STD of its std high."""
    from scipy.ndimage import gaussian_filter1d

    x = np.nan_to_num(np.asarray(vertical_acc_m_s2, dtype=float))
    falling = -gaussian_filter1d(x - x.mean(), final_contact_scale(step_frequency_hz, rate_hz), order=1)
    return find_peaks(falling, height=FC_HEIGHT_OF_STD * float(np.std(falling)), distance=1)


def followed_by_final_contact(
    vertical_acc_m_s2: np.ndarray, rate_hz: float, step_frequency_hz: float, contacts: np.ndarray
) -> np.ndarray:
    """Mask (k,) of the IC candidates (k,) (indices, ascending) that exactly one FC follows within
    the loading window and before the next candidate (skdh's QC 1 and QC 0). A candidate whose
    window runs past the data's end with no FC in what there is counts as followed (no evidence)."""
    candidates = np.asarray(contacts, dtype=int)
    fcs = final_contacts(vertical_acc_m_s2, rate_hz, step_frequency_hz)
    window = loading_window_s(step_frequency_hz) * rate_hz
    end = len(vertical_acc_m_s2) - 1
    keep = np.zeros(len(candidates), dtype=bool)
    for k, ic in enumerate(candidates):
        after = fcs[fcs > ic]
        within = after[after < ic + window]
        if len(within) == 0:
            keep[k] = ic + window > end
            continue
        next_ic = candidates[k + 1] if k + 1 < len(candidates) else end + 1
        keep[k] = len(within) == 1 and next_ic >= after[0]
    return keep
