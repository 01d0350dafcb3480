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

from recordings.plot_data import (
    COLUMNS,
    TIME,
    TRUNK_AP,
    TRUNK_ML,
    BendCurve,
    ResponseTrace,
    SwayPath,
    angle_rows,
    bend_curves,
    perturbations_of,
    response_traces,
    sway_path,
)
from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.live_measures import RunningMeasures
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import NullSink
from sensors.samples import Frame
from sensors.source import StatusChange


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
        self._judged: dict[float, bool] = {}  # push instant (s) → the trunk responded

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

    def session_time_s(self, now_s: float) -> float:
        """Session time (s) at host monotonic time now_s (s); NaN before a session started."""
        if self.host_origin_ns is None:
            return math.nan
        return now_s - self.host_origin_ns * 1e-9

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

    def sway(self, last_s: float = 20.0) -> SwayPath:
        """Trunk sway (`plot_data.sway_path`) over the last `last_s` seconds."""
        rows = self.angles.view()
        if len(rows):
            rows = rows[rows[:, TIME] >= rows[-1, TIME] - last_s]
        return sway_path(rows, self.rate_hz)

    def bend_curves(self) -> list[BendCurve]:
        """Lumbar contribution of every complete bend in the buffer (`plot_data.bend_curves`)."""
        return bend_curves(self.angles.view(), self.rate_hz)

    def perturbation_responses(self) -> list[ResponseTrace]:
        """The trunk's response to each perturbation the analysis would analyse (marks merged with
        the detected pushes, `plot_data.perturbations_of`), with its verdict once the response
        window is over (judged once per push)."""
        return response_traces(self.angles.view(), perturbations_of(self.events), self._judged)
