"""From the session thread to the screen: a sink that queues what the session produces, and the
preallocated ring buffers the GUI thread drains it into on its timer.

The sink's methods run in the session thread and only append to a deque (thread-safe, no
locks); `LiveBuffers.drain` runs in the GUI thread. Widgets read the buffers and never touch
the session.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.errors import ProcessingError
from sensors.processing.live_measures import RunningMeasures
from sensors.processing.pipeline import AngleBlock
from sensors.processing.rhythm import PROGRESS_LEVELS, bend_repetitions
from sensors.processing.session import NullSink
from sensors.processing.sway import confidence_ellipse
from sensors.samples import Frame
from sensors.source import StatusChange

#: Columns of the angle ring buffer.
COLUMNS = (
    "time",
    "trunk_ap",
    "trunk_ml",
    "pelvis_ap",
    "pelvis_ml",
    "lumbar_sag",
    "lumbar_front",
    "lumbar_axial",
)
TIME, TRUNK_AP, TRUNK_ML, PELVIS_AP, PELVIS_ML, LUMBAR_SAG, LUMBAR_FRONT, LUMBAR_AXIAL = range(len(COLUMNS))


@dataclass(frozen=True)
class AngleRows:
    """Angles of one frame block in degrees, rows (n, len(COLUMNS)), and when the block was
    handed over (host monotonic ns), for latency measurements."""

    rows: np.ndarray
    queued_ns: int


@dataclass(frozen=True)
class SessionStarted:
    """A new session (a recording or the calibration step) started: the buffers start afresh."""

    host_origin_ns: int


@dataclass(frozen=True)
class BendCurve:
    """One forward bend's lumbar contribution (%) at the flexion progress levels (%)."""

    progress_pct: np.ndarray
    contribution_pct: np.ndarray


def angle_rows(angles: AngleBlock) -> np.ndarray:
    """Trunk and pelvis inclination and lumbar angles of a block, deg, rows (n, len(COLUMNS))."""
    rows = np.full((len(angles), len(COLUMNS)), np.nan)
    rows[:, TIME] = angles.time_s
    for placement, (ap, ml) in (
        (Placement.LUMBAR, (TRUNK_AP, TRUNK_ML)),
        (Placement.PELVIS, (PELVIS_AP, PELVIS_ML)),
    ):
        if placement in angles.placements:
            incl = np.degrees(angles.inclination(placement))
            rows[:, ap], rows[:, ml] = incl[:, 0], incl[:, 1]
    rows[:, LUMBAR_SAG:] = np.degrees(angles.lumbar_rad)
    return rows


def sway(rows: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Trunk sway about its mean over `rows`: AP (n,), ML (n,) deg and the 95 % ellipse outline
    (k, 2) [ML, AP] (None with under 3 s of samples)."""
    ok = np.isfinite(rows[:, TRUNK_AP]) & np.isfinite(rows[:, TRUNK_ML])
    ap, ml = rows[ok, TRUNK_AP], rows[ok, TRUNK_ML]
    if len(ap) < 3 * rate_hz:
        return ap, ml, None
    ap, ml = ap - ap.mean(), ml - ml.mean()
    try:
        return ap, ml, confidence_ellipse(ap, ml)
    except ProcessingError:
        return ap, ml, None


def bend_curves(rows: np.ndarray, rate_hz: float) -> list[BendCurve]:
    """Lumbar contribution curve of every complete forward bend in `rows`."""
    if len(rows) < 2 * rate_hz:
        return []
    try:
        reps = bend_repetitions(rows[:, TIME], rows[:, TRUNK_AP], rows[:, PELVIS_AP]).repetitions
    except ProcessingError:
        return []
    return [BendCurve(100 * PROGRESS_LEVELS, 100 * rep.contribution_curve) for rep in reps]


def perturbation_responses(
    rows: np.ndarray, events: list[Event], before_s: float = 0.5, after_s: float = 3.0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Trunk sagittal response around each perturbation event within `rows`: (time from the push
    (s), angle from the pre-push mean (deg)) per push."""
    out = []
    for event in events:
        if event.kind is not EventKind.PERTURBATION:
            continue
        t = rows[:, TIME] - event.time_s
        before = (t >= -before_s) & (t < 0) & np.isfinite(rows[:, TRUNK_AP])
        window = (t >= -before_s) & (t <= after_s)
        if before.any() and window.any():
            out.append((t[window], rows[window, TRUNK_AP] - rows[before, TRUNK_AP].mean()))
    return out


class LiveFeed(NullSink):
    """Session sink: trunk/pelvis/lumbar angles (deg), events, measures and calibration, queued
    for the GUI thread."""

    def __init__(self) -> None:
        self.queue: deque[
            AngleRows | Event | RunningMeasures | SegmentCalibration | StatusChange | SessionStarted
        ] = deque()

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        self.queue.append(AngleRows(angle_rows(angles), time.monotonic_ns()))

    def on_start(self, host_origin_ns: int) -> None:
        self.queue.append(SessionStarted(host_origin_ns))

    def on_event(self, event: Event) -> None:
        self.queue.append(event)

    def on_measures(self, measures: RunningMeasures) -> None:
        self.queue.append(measures)

    def on_calibration(self, calibration: SegmentCalibration) -> None:
        self.queue.append(calibration)

    def on_status(self, status: StatusChange) -> None:
        self.queue.append(status)


class RingBuffer:
    """Fixed-capacity rows (capacity, width), oldest overwritten; allocated once."""

    def __init__(self, capacity: int, width: int) -> None:
        self.data = np.full((capacity, width), np.nan)
        self.capacity = capacity
        self.count = 0  # rows ever written

    def extend(self, rows: np.ndarray) -> None:
        rows = rows[-self.capacity :]
        start = self.count % self.capacity
        first = min(len(rows), self.capacity - start)
        self.data[start : start + first] = rows[:first]
        self.data[: len(rows) - first] = rows[first:]
        self.count += len(rows)

    def view(self) -> np.ndarray:
        """The stored rows, oldest first (a copy)."""
        if self.count <= self.capacity:
            return self.data[: self.count].copy()
        start = self.count % self.capacity
        return np.concatenate([self.data[start:], self.data[:start]])

    def clear(self) -> None:
        self.count = 0


class LiveBuffers:
    """What the live view draws, filled from a LiveFeed on the GUI thread's timer.

    window_s of angles at rate_hz; all events, the newest running measures and calibration state
    of the current recording; latencies_s: handover → drain delay of each block (for benchmarks)."""

    def __init__(self, rate_hz: float = 100.0, window_s: float = 60.0) -> None:
        self.rate_hz = rate_hz
        self.angles = RingBuffer(round(window_s * rate_hz), len(COLUMNS))
        self.latencies_s: deque[float] = deque(maxlen=10_000)
        self.version = 0  # bumps whenever something new arrives
        self.reset()

    def reset(self) -> None:
        """Empty, for a new recording."""
        self.angles.clear()
        self.events: list[Event] = []
        self.measures: RunningMeasures | None = None
        self.calibrated = False
        self.calibration_message = ""
        self.status: dict[Placement, StatusChange] = {}
        self.host_origin_ns: int | None = None

    def drain(self, feed: LiveFeed) -> int:
        """Move everything queued into the buffers; returns the number of items taken."""
        taken = 0
        now = time.monotonic_ns()
        while feed.queue:
            item = feed.queue.popleft()
            taken += 1
            if isinstance(item, SessionStarted):
                self.reset()
                self.host_origin_ns = item.host_origin_ns
            elif isinstance(item, AngleRows):
                self.angles.extend(item.rows)
                self.latencies_s.append((now - item.queued_ns) * 1e-9)
            elif isinstance(item, Event):
                self.events.append(item)
                if item.kind is EventKind.CALIBRATION and item.source == "pipeline":
                    self.calibration_message = item.label
            elif isinstance(item, RunningMeasures):
                self.measures = item
            elif isinstance(item, SegmentCalibration):
                self.calibrated = True
            elif isinstance(item, StatusChange):
                self.status[item.placement] = item
        if taken:
            self.version += 1
        return taken

    def behind_s(self, now_ns: int) -> float:
        """How far (s) the newest angles drawn from are behind the host clock `now_ns` (NaN when
        there are none): the synchroniser's wait, plus any backlog of a computer that is busy."""
        if self.host_origin_ns is None:
            return math.nan
        return (now_ns - self.host_origin_ns) * 1e-9 - self.latest_time_s

    @property
    def latest_time_s(self) -> float:
        rows = self.angles.count
        if rows == 0:
            return math.nan
        return float(self.angles.data[(rows - 1) % self.angles.capacity, TIME])

    def latest_trunk(self) -> tuple[float, float]:
        """The newest trunk inclination (sagittal, frontal) deg, NaN when unknown."""
        rows = self.angles.count
        if rows == 0:
            return math.nan, math.nan
        row = self.angles.data[(rows - 1) % self.angles.capacity]
        return float(row[TRUNK_AP]), float(row[TRUNK_ML])

    def sway(self, last_s: float = 20.0) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Trunk sway (see `sway`) over the last `last_s` seconds."""
        rows = self.angles.view()
        if len(rows):
            rows = rows[rows[:, TIME] >= rows[-1, TIME] - last_s]
        return sway(rows, self.rate_hz)

    def bend_curves(self) -> list[BendCurve]:
        return bend_curves(self.angles.view(), self.rate_hz)

    def perturbation_responses(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return perturbation_responses(self.angles.view(), self.events)


def decimate_peaks(t: np.ndarray, y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a trace to at most 2 points per pixel column, keeping each column's minimum and
    maximum so that no peak is lost (unlike subsampling).

    t: times (n,), ascending; y: values (n,) or (n, k) that share t; columns: pixel columns the
    span of t is drawn on. Returns (t (m,), y (m,) or (m, k)) with m ≤ 2·columns: per non-empty
    column its first time twice, with the column's min then max (NaN when the column holds only
    NaN, so gaps stay gaps). Traces already that short are returned unchanged."""
    n = len(t)
    columns = max(int(columns), 1)
    if n <= 2 * columns:
        return t, y
    span = float(t[-1] - t[0])
    if not span > 0:
        return t[:1], y[:1]
    index = np.minimum(((t - t[0]) * (columns / span)).astype(np.int64), columns - 1)
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    with np.errstate(invalid="ignore"):
        low = np.fmin.reduceat(y, starts, axis=0)
        high = np.fmax.reduceat(y, starts, axis=0)
    t_out = np.repeat(t[starts], 2)
    y_out = np.empty((2 * len(starts), *y.shape[1:]))
    y_out[0::2], y_out[1::2] = low, high
    return t_out, y_out
