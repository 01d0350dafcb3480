"""The hold posture: when a hold starts, and the orientation every segment is measured from.

Used by the pipeline for `AngleDefinition.HOLD` drills (plank, side plank, bird-dog, bridge,
Biering-Sørensen). The hold starts either

- on the clinician's key (a HOLD_START event at t): the reference posture is the mean orientation
  of each segment over [t, t + reference_s], and angles follow from the end of that window; or
- detected ("position reached"): the first window of `reference_s` in which every back segment's
  vertical stays within `still_deg` of the window's mean vertical, after the trunk or pelvis has
  turned at least `min_change_deg` from where it was just after calibration. The hold starts at
  the window's first sample, the reference is the window's mean orientation, and angles follow
  from its last sample. A still, upright patient never starts a hold.

The detection cannot tell a hold from a pause on the way down (lying still on the floor for a
second before lifting into a plank reads as "reached"), and it places the start where the
segments are within `still_deg` of the final posture, a few tenths of a second before a
clinician would see the movement end. A key always wins: pressed after a detection it restarts
the hold from the key. A key that
reaches the pipeline after its frames have gone by fixes the reference from the next frame on
(live only; a replay with the recorded events knows it in time).

Vertical drift: a 6D filter sees rotation about the vertical only through the gyroscope, so the
gyro bias vqf has not learnt (typically 0.05–0.1 °/s; it cannot learn it in a hold, where the
tremor keeps the sensors from rest) turns every segment slowly about the vertical: in a plank the
frontal angle, in a side plank the sagittal one, drift by several degrees a minute. With
`remove_vertical_drift` each segment's rotation about the reference vertical (its twist) is fitted
by a line through zero at the middle of the reference window, by least squares over everything
since (running sums: causal, bounded work), and the line is taken off. A true steady turn about the
vertical is removed with it; deviations that come and go, and every tilt against gravity, stay.

Work per block is bounded: only the last `reference_s` of orientations are kept.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from sensors import quaternion as quat
from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.processing.angles import mean_orientation, posture_angles, segment_vertical, wrap_angle

log = logging.getLogger(__name__)

#: Placements whose stillness decides that the position is reached.
DETECTING = (Placement.LUMBAR, Placement.PELVIS)


@dataclass(frozen=True)
class HoldPostureSettings:
    """reference_s: reference (and stillness) window, s; still_deg: largest distance of a
    segment's vertical from the window mean for "still"; min_change_deg: how far the trunk or
    pelvis must have turned from its post-calibration posture; detect: detect the start at all."""

    reference_s: float = 1.0
    still_deg: float = 1.0
    min_change_deg: float = 30.0
    detect: bool = True
    remove_vertical_drift: bool = True


class _Reference:
    """A fixed hold posture (p segments) and the running sums of its vertical-drift fit."""

    def __init__(self, reference_q: np.ndarray, origin_s: float) -> None:
        self.q = reference_q  # (p, 4) segment→earth
        self.vertical = segment_vertical(reference_q)  # (p, 3) in each segment's frame
        self.origin_s = origin_s
        self.sum_xt = np.zeros(len(reference_q))
        self.sum_tt = np.zeros(len(reference_q))

    def angles(self, time_s: np.ndarray, segment_q: np.ndarray, k: int, detrend: bool) -> np.ndarray:
        """Posture angles (m, 3) rad of segment k's orientations (m, 4) at time_s (m,)."""
        if not detrend:
            return posture_angles(segment_q, self.q[k])
        relative = quat.multiply(quat.conjugate(self.q[k]), segment_q)
        v = self.vertical[k]
        twist = wrap_angle(2.0 * np.arctan2(relative[:, 1:] @ v, relative[:, 0]))
        tau = time_s - self.origin_s
        ok = np.isfinite(twist)
        # Accumulated from the running sum, sample by sample: the same additions in the same order
        # whatever the chunking, so a batched replay equals the live session bit for bit.
        sum_xt = np.cumsum(np.concatenate([[self.sum_xt[k]], np.where(ok, twist * tau, 0.0)]))[1:]
        sum_tt = np.cumsum(np.concatenate([[self.sum_tt[k]], np.where(ok, tau * tau, 0.0)]))[1:]
        self.sum_xt[k], self.sum_tt[k] = sum_xt[-1], sum_tt[-1]
        slope = np.divide(sum_xt, sum_tt, out=np.zeros_like(sum_xt), where=sum_tt > 0)
        correction = quat.from_axis_angle(v, -slope * tau)
        return posture_angles(quat.multiply(correction, relative), np.array([1.0, 0.0, 0.0, 0.0]))


class HoldPostureTracker:
    """Segment orientations in, posture angles relative to the hold posture out."""

    def __init__(
        self, placements: tuple[Placement, ...], rate_hz: float, settings: HoldPostureSettings | None = None
    ) -> None:
        self.placements = tuple(placements)
        self.settings = settings or HoldPostureSettings()
        self._window = max(2, round(self.settings.reference_s * rate_hz))
        self.reset()

    def reset(self) -> None:
        self.hold_start_s = math.nan
        self._reference: _Reference | None = None
        self._pending_key_s: float | None = None
        self._start_vertical: np.ndarray | None = None  # (p, 3)
        self._time = np.zeros(0)
        self._q = np.zeros((0, len(self.placements), 4))

    def request_start(self, time_s: float) -> None:
        """The clinician marked the start of the hold (position reached) at time_s."""
        self._pending_key_s = float(time_s)

    def step(self, time_s: np.ndarray, segment_q: np.ndarray) -> tuple[np.ndarray, list[Event]]:
        """Posture angles (n, p, 3) rad [sagittal, frontal, axial] for segment orientations
        segment_q (n, p, 4) at time_s (n,), NaN before the hold posture is fixed; and the
        detected hold start, if it happened in this block."""
        n, p = segment_q.shape[:2]
        out = np.full((n, p, 3), np.nan)
        if n == 0:
            return out, []
        if self._start_vertical is None:
            finite = np.isfinite(segment_q).all(axis=2).all(axis=1)
            if finite.any():
                self._start_vertical = segment_vertical(segment_q[np.flatnonzero(finite)[0]])
        kept = len(self._time)
        times = np.concatenate([self._time, time_s])
        qs = np.concatenate([self._q, segment_q])
        events: list[Event] = []
        active_from = 0  # first row of this block measured against the (new) reference
        previous = self._reference
        if self._pending_key_s is not None:
            keyed = self._from_key(times, qs, kept)
            if keyed is not None:
                active_from = keyed
        elif self._reference is None and self.settings.detect:
            found = self._detect(times, qs, kept)
            if found is not None:
                active_from, start_s = found
                events.append(
                    Event(start_s, EventKind.HOLD_START, "position reached (detected)", source="pipeline")
                )
                log.info("hold position reached at %.2f s (detected)", start_s)
        detrend = self.settings.remove_vertical_drift
        for reference, rows in ((previous, slice(0, active_from)), (self._reference, slice(active_from, n))):
            if reference is not None and rows.stop > rows.start:
                for k in range(p):
                    out[rows, k] = reference.angles(time_s[rows], segment_q[rows, k], k, detrend)
        keep = self._window - 1
        self._time, self._q = times[-keep:], qs[-keep:]
        return out, events

    def _from_key(self, times: np.ndarray, qs: np.ndarray, kept: int) -> int | None:
        """Fix the reference on [key, key + reference_s] once the window is complete; the row of
        this block from which angles follow, or None while the window is still filling."""
        key = float(self._pending_key_s)  # type: ignore[arg-type]
        first = int(np.searchsorted(times, key))
        last = first + self._window - 1
        if last >= len(times):
            return None
        self.hold_start_s = max(key, float(times[0])) if first == 0 else key
        self._fix(qs[first : last + 1])
        self._pending_key_s = None
        return max(last - kept, 0)

    def _detect(self, times: np.ndarray, qs: np.ndarray, kept: int) -> tuple[int, float] | None:
        """The first still window after a posture change, as (row of this block, start time s)."""
        if len(times) < self._window or self._start_vertical is None:
            return None
        columns = [self.placements.index(p) for p in DETECTING if p in self.placements]
        still = np.ones(len(times) - self._window + 1, bool)
        changed = np.zeros_like(still)
        cos_still = math.cos(math.radians(self.settings.still_deg))
        cos_change = math.cos(math.radians(self.settings.min_change_deg))
        for k in columns:
            vertical = segment_vertical(qs[:, k])  # (m, 3), NaN in gaps
            windows = sliding_window_view(vertical, self._window, axis=0)  # (w, 3, N)
            mean = windows.mean(axis=2)
            mean /= np.linalg.norm(mean, axis=1, keepdims=True)
            closeness = np.einsum("wcn,wc->wn", windows, mean)
            still &= np.nan_to_num(closeness, nan=-1.0).min(axis=1) >= cos_still
            changed |= np.nan_to_num(mean @ self._start_vertical[k], nan=1.0) <= cos_change
        ends = np.arange(self._window - 1, len(times))
        hits = np.flatnonzero(still & changed & (ends >= kept))
        if len(hits) == 0:
            return None
        w = int(hits[0])
        self.hold_start_s = float(times[w])
        self._fix(qs[w : w + self._window])
        return int(ends[w]) - kept, self.hold_start_s

    def _fix(self, window_q: np.ndarray) -> None:
        """Fix the hold posture as the mean of each segment over window_q (N, p, 4)."""
        reference = np.stack([mean_orientation(window_q[:, k]) for k in range(window_q.shape[1])])
        self._reference = _Reference(reference, self.hold_start_s + 0.5 * self.settings.reference_s)

    @property
    def reference_q(self) -> np.ndarray | None:
        """The hold posture (p, 4) segment→earth, or None before it is fixed."""
        return None if self._reference is None else self._reference.q


def detect_hold_start(
    time_s: np.ndarray,
    segment_q: np.ndarray,
    placements: tuple[Placement, ...],
    settings: HoldPostureSettings | None = None,
) -> tuple[Event, ...]:
    """The detected "position reached" of a recorded hold, from segment orientations
    segment_q (n, p, 4) at time_s (n,), by the same rule the live pipeline uses: for recordings
    made before the pipeline detected it (or without the drill's name)."""
    t = np.asarray(time_s, dtype=float)
    rate = 1.0 / float(np.median(np.diff(t)))
    tracker = HoldPostureTracker(placements, rate, settings)
    _, events = tracker.step(t, np.asarray(segment_q, dtype=float))
    return tuple(events)
