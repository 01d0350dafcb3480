"""Static endurance holds (plank, side plank, bird-dog, bridge, Biering-Sørensen; METRICS.md §6).

McGill (1999): a hold ends when the position is lost. An IMU has no standard for "lost", so the
rule is ours and a setting: the segment's tilt (away from the reference hold posture, the mean
vertical over the first `reference_s` after the hold starts) departs from where it was just
before — its mean over the `loss_baseline_s` that end `loss_lag_s` earlier — by more than
`loss_threshold_deg` for at least `loss_min_s`; the hold was lost at the first sample of that
run. The slow drift of a tiring hold (a few °/min) moves that recent posture with it and is not a
loss, as neither the clinician's key nor the published test count it (a Biering-Sørensen trunk
sinking 3 °/min read lost 11–28 s early against the start posture); the drift is reported as
such. Tilt is measured between verticals, so it is defined in every posture (see
`angles.tilt_from_reference_deg`).

Also: drift (length of the slope of the tilt vector over the held part, stopping `drift_margin_s`
before the loss so the loss itself does not count, deg/min), tremor (RMS, deg, and
peak frequency, Hz, of the tilt band-passed to `tremor_band_hz`; NaN, too short for tremor, over
less than one `tremor_window_s`) and the fatigue trend (slope of the tremor RMS over consecutive
windows, deg/min). Both trends, drift and fatigue, need a held part of at least
`shortest_trend_s` (two tremor windows); NaN from a shorter one.

The hold's time is the clinician's stopwatch (`HoldClock`): it starts when the position is
reached — the clinician's HOLD_START key, or else the pipeline's detection (`hold_posture`) —
and stops on the clinician's E (HOLD_END, "position lost"), or, without E, at the end of the
task (not lost: censored, e.g. the Biering-Sørensen test's 240 s). It counts up. The tilt rule
above is the IMU's own opinion of when the position was lost, reported beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensors.events import Event, EventKind
from sensors.processing.angles import segment_vertical, tilt_from_reference_deg
from sensors.processing.errors import ProcessingError

#: The label of the task end the dashboard marks when the clinician ends a hold with E.
CLINICIAN_END_LABEL = "ended by the clinician"


@dataclass(frozen=True)
class HoldClockState:
    """The stopwatch. phase: "waiting" (getting into position), "holding" or "ended"; times in
    session s (NaN until known); lost: ended by the clinician's E (else censored); start_source:
    "clinician" (a key) or "detected"."""

    phase: str = "waiting"
    start_s: float = math.nan
    end_s: float = math.nan
    lost: bool = False
    start_source: str = ""

    @property
    def held_s(self) -> float:
        """Held time, s: from position reached to position lost (NaN while not ended)."""
        return self.end_s - self.start_s

    def elapsed_s(self, now_s: float) -> float:
        """What the clock shows at now_s: 0 while waiting, counting up while holding, the held
        time once ended."""
        if self.phase == "waiting":
            return 0.0
        if self.phase == "ended":
            return self.held_s
        return max(0.0, now_s - self.start_s)


class HoldClock:
    """The hold's stopwatch driven by session events (in any order of arrival).

    A start key (HOLD_START not from the pipeline) always wins over a detected start; the first
    HOLD_END (or the dashboard's "ended by the clinician" task end) after the start ends the hold
    as lost; another TASK_END ends it as censored."""

    def __init__(self) -> None:
        self.state = HoldClockState()

    def on_event(self, event: Event) -> HoldClockState:
        s = self.state
        if event.kind is EventKind.HOLD_START and s.phase != "ended":
            key = event.source != "pipeline"
            if key or s.phase == "waiting":
                source = "clinician" if key else "detected"
                self.state = HoldClockState("holding", event.time_s, start_source=source)
        elif (
            event.kind in (EventKind.HOLD_END, EventKind.TASK_END)
            and s.phase == "holding"
            and event.time_s >= s.start_s
        ):
            lost = event.kind is EventKind.HOLD_END or event.label == CLINICIAN_END_LABEL
            self.state = HoldClockState("ended", s.start_s, event.time_s, lost, s.start_source)
        return self.state


def hold_timing(events: tuple[Event, ...] | list[Event]) -> HoldClockState:
    """The stopwatch of a recorded hold from all its events: a start key anywhere wins over a
    detection; then events in time order."""
    ordered = sorted(events, key=lambda e: e.time_s)
    keys = [e for e in ordered if e.kind is EventKind.HOLD_START and e.source != "pipeline"]
    starts = keys[:1] or [e for e in ordered if e.kind is EventKind.HOLD_START][:1]
    clock = HoldClock()
    for event in starts + [e for e in ordered if e.kind is not EventKind.HOLD_START]:
        clock.on_event(event)
    return clock.state


@dataclass(frozen=True)
class HoldSettings:
    reference_s: float = 2.0
    loss_threshold_deg: float = 10.0
    loss_min_s: float = 0.3
    loss_baseline_s: float = 5.0
    loss_lag_s: float = 2.0
    tremor_band_hz: tuple[float, float] = (6.0, 14.0)
    tremor_window_s: float = 5.0
    drift_margin_s: float = 2.0

    @property
    def shortest_trend_s(self) -> float:
        """The shortest held part, s, a trend over the hold (drift, fatigue) is fitted on: two
        tremor windows (a fatigue trend needs two; a drift from less reads the settling and
        sway of a few seconds as °/min)."""
        return 2 * self.tremor_window_s


@dataclass(frozen=True)
class HoldResult:
    """One hold. held_s is censored (the recording ended first) when `lost` is False."""

    hold_start_s: float
    lost: bool
    lost_s: float
    held_s: float
    drift_deg_per_min: float
    tremor_rms_deg: float
    tremor_frequency_hz: float
    fatigue_trend_deg_per_min: float


def hold_analysis(
    time_s: np.ndarray, segment_q: np.ndarray, hold_start_s: float, settings: HoldSettings | None = None
) -> HoldResult:
    """Analyse a hold of the segment with orientations segment_q (n, 4) at time_s (n,) that starts
    (position reached) at hold_start_s."""
    from scipy import signal  # imported when needed: scipy submodules are slow to import

    s = settings or HoldSettings()
    t = np.asarray(time_s, dtype=float)
    q = np.asarray(segment_q, dtype=float)
    rate = 1.0 / float(np.median(np.diff(t)))
    reference = (t >= hold_start_s) & (t < hold_start_s + s.reference_s) & np.isfinite(q).all(axis=1)
    if reference.sum() < 0.5 * s.reference_s * rate:
        raise ProcessingError(
            f"hold starting at {hold_start_s:.1f} s: too few samples to fix the reference posture"
        )
    vertical = segment_vertical(q[reference]).mean(axis=0)
    tilt = tilt_from_reference_deg(q, vertical)
    magnitude = np.linalg.norm(tilt, axis=1)
    after = t >= hold_start_s
    beyond = after & (_departure_deg(tilt, after, rate, s) > s.loss_threshold_deg)
    run = max(1, round(s.loss_min_s * rate))
    sustained = np.convolve(beyond.astype(int), np.ones(run, int), "valid") == run
    starts = np.flatnonzero(sustained)
    lost = len(starts) > 0
    end = int(starts[0]) if lost else int(np.flatnonzero(after)[-1])
    held = (t >= hold_start_s) & (np.arange(len(t)) < end) & np.isfinite(magnitude)
    steady = held & (t < t[end] - s.drift_margin_s) if lost else held
    long_enough = held.sum() >= round(s.shortest_trend_s * rate)
    if long_enough and steady.sum() > rate:
        slopes = np.polyfit(t[steady], tilt[steady], 1)[0]  # (2,) deg/s per component
        drift = float(np.hypot(*slopes) * 60.0)
    else:
        drift = math.nan
    band = signal.butter(4, s.tremor_band_hz, btype="bandpass", fs=rate, output="sos")
    tremor = signal.sosfiltfilt(band, np.nan_to_num(tilt[held]), axis=0)
    tremor_norm = np.linalg.norm(tremor, axis=1)
    window = max(1, round(s.tremor_window_s * rate))
    windows = [tremor_norm[k : k + window] for k in range(0, len(tremor_norm) - window + 1, window)]
    rms = np.array([np.sqrt(np.mean(w**2)) for w in windows])
    centres = hold_start_s + (np.arange(len(rms)) + 0.5) * s.tremor_window_s
    trend = float(np.polyfit(centres, rms, 1)[0] * 60.0) if long_enough and len(rms) >= 2 else math.nan
    if held.sum() >= window:
        f, power = signal.welch(tremor, fs=rate, nperseg=min(len(tremor), round(4 * rate)), axis=0)
        tremor_rms, tremor_hz = (
            float(np.sqrt(np.mean(tremor_norm**2))),
            float(f[np.argmax(power.sum(axis=1))]),
        )
    else:  # shorter than one tremor window: too short for tremor
        tremor_rms, tremor_hz = math.nan, math.nan
    return HoldResult(
        hold_start_s=hold_start_s,
        lost=lost,
        lost_s=float(t[end]) if lost else math.nan,
        held_s=float(t[end] - hold_start_s),
        drift_deg_per_min=drift,
        tremor_rms_deg=tremor_rms,
        tremor_frequency_hz=tremor_hz,
        fatigue_trend_deg_per_min=trend,
    )


def _departure_deg(tilt: np.ndarray, after: np.ndarray, rate: float, s: HoldSettings) -> np.ndarray:
    """How far (n,) deg the tilt (n, 2) deg is from the recent posture: its mean over the
    `s.loss_baseline_s` that end `s.loss_lag_s` earlier, where samples before the hold (`after`
    (n,) False) count as the reference posture (tilt 0) and gaps (NaN) do not count; NaN where
    the tilt is."""
    finite = np.isfinite(tilt).all(axis=1)
    values = np.where((after & finite)[:, None], tilt, 0.0)
    weights = np.where(after, finite, True).astype(float)
    sums = np.concatenate([np.zeros((1, 2)), np.cumsum(values, axis=0)])
    counts = np.concatenate([[0.0], np.cumsum(weights)])
    n = len(tilt)
    stop = np.clip(np.arange(n) - round(s.loss_lag_s * rate) + 1, 0, n)
    start = np.clip(stop - max(1, round(s.loss_baseline_s * rate)), 0, n)
    count = counts[stop] - counts[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        recent = np.where(count[:, None] > 0, (sums[stop] - sums[start]) / count[:, None], 0.0)
    return np.linalg.norm(tilt - recent, axis=1)
