"""The session runner: source → per-sensor clock mapping → synchroniser → angle pipeline → sinks.

The first blocks are held until every sensor's clock mapping has settled (`start_hold`: a backlog
delivered at the start would otherwise be squeezed into the moment it arrived), then sent on to
the sinks and the synchroniser together, mapped with the settled fit.

One asyncio task drives it. Sinks (recorder, dashboard buffers, summary) receive raw blocks
with their session times, every synchronised frame with its angles, events and status changes.
Sinks must be quick; anything slow (disk) runs behind a queue in the sink itself.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.processing import settings_checks as check
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.clock_sync import ClockSync, ClockSyncSettings
from sensors.processing.flexion_mounts import finds_flexion_axis
from sensors.processing.live_measures import (
    LiveMeasures,
    LiveMeasuresSettings,
    RunningMeasures,
    live_measures_for,
)
from sensors.processing.orientation import OrientationSettings
from sensors.processing.orientation_axes import FlexionAxisSettings
from sensors.processing.orientation_stance import learns_bias_from_mean_rate
from sensors.processing.pipeline import (
    AngleBlock,
    PipelineSettings,
    SegmentAnglePipeline,
    angle_definition,
    calibrates_while_moving,
)
from sensors.processing.session_end import SessionEnd
from sensors.processing.start_hold import StartHold
from sensors.processing.synchronizer import Synchronizer, SynchronizerSettings
from sensors.samples import Frame, SampleBlock
from sensors.source import SensorHealth, Source, SourceItem, StatusChange, host_clock

log = logging.getLogger(__name__)


class SessionSink(Protocol):
    """Receives what a session produces, in order."""

    def on_start(self, host_origin_ns: int) -> None:
        """The source started; session time 0 is host monotonic time `host_origin_ns`."""

    def on_samples(self, block: SampleBlock, session_time_s: np.ndarray) -> None:
        """A raw block, with each sample's session time (n,) s from the clock mapping."""

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        """A synchronised frame block and the angles computed from it."""

    def on_event(self, event: Event) -> None:
        """An event (operator mark, drill marker, calibration)."""

    def on_status(self, status: StatusChange) -> None:
        """A sensor changed state."""

    def on_calibration(self, calibration: SegmentCalibration) -> None:
        """The pipeline calibrated the sensors to their segments."""

    def on_measures(self, measures: RunningMeasures) -> None:
        """Running measures were updated (about once a second)."""


class NullSink:
    """A sink that ignores everything; subclass it and override what you need."""

    def on_start(self, host_origin_ns: int) -> None:
        pass

    def on_samples(self, block: SampleBlock, session_time_s: np.ndarray) -> None:
        pass

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        pass

    def on_event(self, event: Event) -> None:
        pass

    def on_status(self, status: StatusChange) -> None:
        pass

    def on_calibration(self, calibration: SegmentCalibration) -> None:
        pass

    def on_measures(self, measures: RunningMeasures) -> None:
        pass


@dataclass(frozen=True)
class SessionSettings:
    """rate_hz: common frame rate; duration_s: stop after this much session time (None: until
    the source ends); drill: the catalogue drill being recorded, which decides what the angles
    mean (`pipeline.angle_definition`) and which live measures run (`live_measures_for`); empty:
    upright angles and every live measure.

    Every stage's own settings are nested here and stored with a recording, so a replay runs
    exactly as recorded: `clock` (per-sensor clock mapping), `synchronizer` (its waits),
    `pipeline` (orientation filter, stillness limits, hold posture) and `live_measures` (None:
    chosen from the drill). rate_hz, max_wait_s and calibration_s are given once here and flow
    into the nested settings (whatever those said); the drill sets the pipeline's angle definition.
    """

    rate_hz: float = 100.0
    duration_s: float | None = None
    clock: ClockSyncSettings = field(default_factory=ClockSyncSettings)
    max_wait_s: float = 0.5
    calibration_s: float = 2.0
    drill: str = ""
    synchronizer: SynchronizerSettings = field(default_factory=SynchronizerSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    live_measures: LiveMeasuresSettings | None = None

    def __post_init__(self) -> None:
        check.rate("SessionSettings", self.rate_hz)
        if self.duration_s is not None:
            check.duration("SessionSettings", "duration_s", self.duration_s)
        check.duration("SessionSettings", "max_wait_s", self.max_wait_s, allow_zero=True)
        check.duration("SessionSettings", "calibration_s", self.calibration_s)
        expected = {
            "clock": ClockSyncSettings,
            "synchronizer": SynchronizerSettings,
            "pipeline": PipelineSettings,
        }
        for name, cls in expected.items():
            if not isinstance(getattr(self, name), cls):
                raise check.SettingsError(
                    f"SessionSettings.{name} must be {cls.__name__}, got {getattr(self, name)!r}"
                )
        live = self.live_measures
        if live is not None and not isinstance(live, LiveMeasuresSettings):
            raise check.SettingsError(
                f"SessionSettings.live_measures must be LiveMeasuresSettings, got {live!r}"
            )
        # The values given once here flow into every stage (frozen: set through object.__setattr__).
        orientation = replace(
            self.pipeline.orientation or OrientationSettings(),
            rate_hz=self.rate_hz,
            mean_rate_bias=learns_bias_from_mean_rate(self.drill),
        )
        pipeline = replace(
            self.pipeline,
            rate_hz=self.rate_hz,
            calibration_s=self.calibration_s,
            orientation=orientation,
            angles=angle_definition(self.drill),
            from_gravity=calibrates_while_moving(self.drill),
            flexion_axis=(self.pipeline.flexion_axis or FlexionAxisSettings())
            if finds_flexion_axis(self.drill)
            else None,
        )
        object.__setattr__(self, "pipeline", pipeline)
        object.__setattr__(
            self, "synchronizer", replace(self.synchronizer, rate_hz=self.rate_hz, max_wait_s=self.max_wait_s)
        )
        if live is not None:
            object.__setattr__(self, "live_measures", replace(live, rate_hz=self.rate_hz))


@dataclass(frozen=True)
class SessionReport:
    """What the runner knows at the end: health and clock fit per sensor, frames produced."""

    health: Mapping[Placement, SensorHealth]
    drift_ppm: Mapping[Placement, float]
    frames: int
    session_s: float
    calibrated: bool
    calibration_failures: tuple[str, ...]
    late_samples: int = 0  # came after their frames were out (flagged there; in the recording)
    clock_at_limit: tuple[Placement, ...] = ()  # sensors whose drift fit ended clipped at its limit


def session_processing(
    placements: tuple[Placement, ...], settings: SessionSettings, outputs: Collection[str] | None = None
) -> tuple[SegmentAnglePipeline, LiveMeasures]:
    """The angle pipeline and live measures a session of `settings` runs (the drill chooses the
    angle definition and which live measures mean something), live or batched alike; `outputs`:
    the angle arrays to compute (None: all)."""
    pipeline = SegmentAnglePipeline(placements, settings.pipeline, outputs)
    live = settings.live_measures or live_measures_for(settings.drill, settings.rate_hz)
    return pipeline, LiveMeasures(placements, live)


class SessionRunner:
    """Runs one session from a started source until it ends, the duration passes, or `stop()`."""

    def __init__(
        self, source: Source, sinks: list[SessionSink], settings: SessionSettings | None = None
    ) -> None:
        self.source = source
        self.sinks = list(sinks)
        self.settings = settings or SessionSettings()
        self._build(tuple(source.sensors))
        self._stop_requested = False
        self._marks: deque[Event] = deque()
        self._origin_ns: int | None = None
        self._clocks: dict[Placement, ClockSync] = {}
        self._frames = 0
        self._now_s = 0.0
        #: Session time (s) on the source's host clock when it was asked to stop or reached its
        #: duration (NaN before): what arrived by then is recorded (`SessionEnd`).
        self.stopped_at_s = math.nan
        self._synchronizer: Synchronizer | None = None
        self._hold: StartHold | None = None
        self._held: list[SampleBlock] = []

    def _build(self, placements: tuple[Placement, ...]) -> None:
        """Processing for these placements (a BLE source knows its sensors only once started)."""
        self.placements = placements
        self.pipeline, self.live_measures = session_processing(placements, self.settings)
        self.live_measures.prepare()  # scipy loaded before the data flow, not in its first frame

    @property
    def session_time_s(self) -> float:
        """Session time (s) of the newest block received so far (0 before the first)."""
        return self._now_s

    @property
    def live_wait_s(self) -> float:
        """How long (s) live frames now wait for a sensor behind the others: max_wait_s, or more
        while data come late (see `Synchronizer`)."""
        sync = self._synchronizer
        return sync.wait_s if sync is not None else self.settings.max_wait_s

    def stop(self) -> None:
        """Ask the running session to end after the current block."""
        self._stop_requested = True

    def mark(
        self,
        kind: EventKind,
        label: str = "",
        value: float = math.nan,
        source: str = "operator",
        time_s: float | None = None,
    ) -> Event:
        """Mark an event from any thread (the clinician's key for a push, a note, a pain rating).
        time_s defaults to now on the host clock the session is stamped with. It reaches the
        sinks (and so the recording) with the next data."""
        if time_s is None:
            if self._origin_ns is None:
                raise RuntimeError("the session has not started yet")
            time_s = (time.monotonic_ns() - self._origin_ns) * 1e-9
        event = Event(time_s, kind, label, value, source)
        self._marks.append(event)  # deque appends are thread-safe
        return event

    def _deliver_marks(self) -> None:
        while self._marks:
            self._deliver(self._marks.popleft())

    def _deliver(self, event: Event) -> None:
        """An event from the source or an operator mark: to the pipeline (a hold-start key fixes
        the hold posture), then to every sink."""
        self.pipeline.on_event(event)
        for sink in self.sinks:
            sink.on_event(event)

    async def run(self) -> SessionReport:
        """Start the source, stream until done, flush, and report."""
        s = self.settings
        await self.source.start()
        if tuple(self.source.sensors) != self.placements:
            self._build(tuple(self.source.sensors))
        origin = self.source.host_origin_ns
        self._origin_ns = origin
        for sink in self.sinks:
            sink.on_start(origin)
        self._clocks = {p: ClockSync(origin, s.clock) for p in self.placements}
        synchronizer = Synchronizer(self.placements, s.synchronizer)
        self._synchronizer = synchronizer
        self._hold = StartHold(self.placements, s.synchronizer.longest_wait_s)
        self._held = []
        stream = aiter(self.source.stream())
        end = SessionEnd(self.source, stream, lambda item: self._on_item(item, synchronizer, origin))
        ended = False
        try:
            async for item in stream:
                self._on_item(item, synchronizer, origin)
                if self._stop_requested or (s.duration_s is not None and self._now_s >= s.duration_s):
                    # The source's clock (a simulated source without one runs ahead of ours).
                    stop_ns = max(host_clock(self.source)(), origin + round(self._now_s * 1e9))
                    self.stopped_at_s = (stop_ns - origin) * 1e-9
                    await end.read_on(stop_ns)
                    break
            ended = True
        finally:
            await self.source.stop()
            if ended:  # not after an error: what the source still holds is recorded
                await end.finish()
            self._deliver_marks()
            self._release(synchronizer)
            frame = synchronizer.flush()
            if frame is not None:
                self._process(frame)
        return self._report()

    def _on_item(self, item: SourceItem, synchronizer: Synchronizer, origin_ns: int) -> None:
        if isinstance(item, SampleBlock):
            self._on_block(item, synchronizer, origin_ns)
        elif isinstance(item, Event):
            self._deliver(item)
        elif isinstance(item, StatusChange):
            log.info("%s sensor: %s %s", item.placement.value, item.state.value, item.message)
            for sink in self.sinks:
                sink.on_status(item)
        self._deliver_marks()

    def _on_block(self, block: SampleBlock, synchronizer: Synchronizer, origin_ns: int) -> None:
        clock = self._clocks[block.placement]
        session_time = clock.step(block.device_time_s, block.host_receive_ns)
        arrived_s = (int(block.host_receive_ns[-1]) - origin_ns) * 1e-9
        self._now_s = max(self._now_s, arrived_s)
        hold = self._hold
        if hold is not None and not hold.released:  # the start: held until the clocks settle
            self._held.append(block)
            hold.note(block.placement, clock, float(block.device_time_s[-1]), arrived_s)
            if hold.ready(self._now_s):
                self._release(synchronizer)
            return
        self._deliver_block(block, session_time, synchronizer)

    def _release(self, synchronizer: Synchronizer) -> None:
        """The blocks held at the start, mapped with the clock fits as they stand now."""
        if self._hold is not None:
            self._hold.released = True
        held, self._held = self._held, []
        for block in held:  # in the order they came, none of them late: one pull after them all
            session_time = self._clocks[block.placement].map(block.device_time_s)
            for sink in self.sinks:
                sink.on_samples(block, session_time)
            synchronizer.push(
                block.placement, session_time, block.sequence, block.acc_m_s2, block.gyr_rad_s, False
            )
        if held:
            frame = synchronizer.pull(self._now_s)
            if frame is not None:
                self._process(frame)

    def _deliver_block(
        self, block: SampleBlock, session_time: np.ndarray, synchronizer: Synchronizer
    ) -> None:
        for sink in self.sinks:
            sink.on_samples(block, session_time)
        synchronizer.push(block.placement, session_time, block.sequence, block.acc_m_s2, block.gyr_rad_s)
        frame = synchronizer.pull(self._now_s)
        if frame is not None:
            self._process(frame)

    def _process(self, frame: Frame) -> None:
        was_calibrated = self.pipeline.calibration is not None
        angles = self.pipeline.step(frame)
        if not was_calibrated and self.pipeline.calibration is not None:
            for sink in self.sinks:
                sink.on_calibration(self.pipeline.calibration)
        self._frames += len(frame)
        for sink in self.sinks:
            sink.on_frame(frame, angles)
        measures, detected = self.live_measures.step(frame, angles, self.pipeline.calibration)
        for update in measures:
            for sink in self.sinks:
                sink.on_measures(update)
        for event in self.pipeline.take_events() + detected:
            for sink in self.sinks:
                sink.on_event(event)

    def health(self) -> dict[Placement, SensorHealth]:
        """Live health per sensor: the source's (rate, loss, battery, last packet age) with the
        clock mapping's drift (ppm) and latency estimate (s) filled in."""
        out = {}
        for placement, health in self.source.health().items():
            clock = self._clocks.get(placement)
            if clock is not None and not math.isnan(clock.state.intercept):
                health = replace(health, drift_ppm=clock.drift_ppm, latency_s=clock.latency_s)
            out[placement] = health
        return out

    def _report(self) -> SessionReport:
        health = self.health()
        return SessionReport(
            health=health,
            drift_ppm={p: c.drift_ppm for p, c in self._clocks.items()},
            frames=self._frames,
            session_s=self._now_s if math.isfinite(self._now_s) else 0.0,
            calibrated=self.pipeline.calibration is not None,
            calibration_failures=tuple(dict.fromkeys(self.pipeline.calibration_failures)),
            late_samples=self._synchronizer.late_samples if self._synchronizer is not None else 0,
            clock_at_limit=tuple(p for p, c in self._clocks.items() if c.at_limit),
        )
