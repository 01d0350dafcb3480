"""One open source shared by consecutive recordings, so the BLE link stays up between the
repetitions of a protocol (reconnecting costs seconds). `SharedSource` pumps the source's
stream for as long as it is open; each `Segment` is a source of its own for one recording: its
session time starts when it starts, and it ends when its runner stops it, without disconnecting
anything. Between segments, what the sensors send is dropped (it belongs to no recording).

Simulated sensors (virtual BLE or none) stay on too: a `Stage` has their body act out each
recording's `Cue` from the segment's start, and hands the drill's markers to the segment. A
source simulated faster than real time is only drawn from while a segment records."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sensors.events import Event
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.samples import SampleBlock
from sensors.source import SensorHealth, Source, SourceItem, awaits_frames, drain, host_clock

log = logging.getLogger(__name__)

_END = object()
_WAKE = object()  # wakes a segment's stream to see it was stopped (its sensors may be silent)


@dataclass(frozen=True)
class Cue:
    """What the wearer does in one recording: `drill` for duration_s (s), the first
    calibration_s of it standing still, in the dual-task condition when `dual_task`."""

    drill: str
    duration_s: float
    calibration_s: float
    dual_task: bool = False


@dataclass
class Act:
    """A cue as simulated sensors will act it out: what to store about it (seed, dual-task
    factor) and its markers (session time of its recording, s); `begin()` starts it and returns
    the host time (ns) of its time 0."""

    begin: Callable[[], int]
    about: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    events: tuple[Event, ...] = ()


class Stage(Protocol):
    """Has simulated sensors act out cues."""

    def prepare(self, cue: Cue) -> Act: ...


class SharedSource:
    """A started source whose stream feeds one `Segment` at a time. stage: how its simulated
    sensors act out each segment's cue (None: real sensors); paced: the source delivers in real
    time (else it is drawn from only while a segment is active)."""

    def __init__(self, source: Source, stage: Stage | None = None, paced: bool = True) -> None:
        self.source = source
        self.stage = stage
        self.paced = paced
        self._now = host_clock(source)
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._active: Segment | None = None
        self._wanted = asyncio.Event()
        self._closing = False
        if paced:
            self._wanted.set()
        self._pump = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            async for item in self.source.stream():
                if self._active is not None:
                    self._queue.put_nowait(item)
                await self._wanted.wait()
                if self._closing:
                    break
        finally:
            self._queue.put_nowait(_END)

    def _activate(self, segment: Segment | None) -> None:
        self._active = segment
        if segment is not None or self.paced or self._closing:
            self._wanted.set()
        else:
            self._wanted.clear()

    def segment(self, cue: Cue | None = None) -> Segment:
        """A source for the next recording (start it through its runner); simulated sensors
        act out `cue` in it (its seed and dual-task factor in `Segment.about`)."""
        act = self.stage.prepare(cue) if self.stage is not None and cue is not None else None
        return Segment(self, act)

    async def close(self) -> None:
        """Stop the source (disconnecting it) and the pump."""
        self._closing = True
        self._wanted.set()
        await self.source.stop()
        try:
            await asyncio.wait_for(self._pump, timeout=10.0)
        except (TimeoutError, asyncio.CancelledError):
            self._pump.cancel()


class Segment:
    """One recording's view of a `SharedSource` (implements the source interface)."""

    def __init__(self, shared: SharedSource, act: Act | None = None) -> None:
        self.shared = shared
        self.act = act
        self._origin_ns = 0
        self._started = False
        self._stopped = False

    @property
    def about(self) -> dict[str, Any]:
        """What to store about the act performed in this segment (empty: real sensors)."""
        return dict(self.act.about) if self.act is not None else {}

    @property
    def seed(self) -> int | None:
        return self.act.seed if self.act is not None else None

    @property
    def sensors(self) -> Mapping[Placement, SensorIdentity]:
        return self.shared.source.sensors

    @property
    def source(self) -> Source:
        """The shared source this segment reads (its host clock is this segment's)."""
        return self.shared.source

    @property
    def host_origin_ns(self) -> int:
        return self._origin_ns

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        shared = self.shared
        while not shared._queue.empty():  # left over from the segment before
            if shared._queue.get_nowait() is _END:
                shared._queue.put_nowait(_END)
                break
        self._origin_ns = self.act.begin() if self.act is not None else shared._now()
        shared._activate(self)

    async def stop(self) -> None:
        """End this segment (its stream ends, even while no sensor sends); the link stays up for
        the next one."""
        self._stopped = True
        if self.shared._active is self:
            self.shared._activate(None)
        self.shared._queue.put_nowait(_WAKE)

    def health(self) -> Mapping[Placement, SensorHealth]:
        """The shared link's health, a silent sensor's `data_until_s` in this segment's time (0:
        it has sent nothing since this segment began)."""
        shift_s = (self._origin_ns - self.shared.source.host_origin_ns) * 1e-9
        health = dict(self.shared.source.health())
        for p, h in health.items():
            if math.isfinite(h.data_until_s):
                health[p] = replace(h, data_until_s=max(h.data_until_s - shift_s, 0.0))
        return health

    async def stream(self) -> AsyncIterator[SourceItem]:
        queue = self.shared._queue
        markers = sorted(self.act.events if self.act is not None else (), key=lambda e: e.time_s)
        while not self._stopped:
            item = await queue.get()
            if item is _END:
                queue.put_nowait(_END)
                return
            own = self._own(item)
            if own is None:
                continue
            if isinstance(own, SampleBlock):
                newest_s = (int(own.host_receive_ns[-1]) - self._origin_ns) * 1e-9
                while markers and markers[0].time_s <= newest_s:
                    yield markers.pop(0)
            yield own

    def drain(self) -> list[SourceItem]:
        """Once stopped: what reached this segment but was not read, then what the shared link's
        decoders still hold (`sensors.source.drain`); the link stays up."""
        queue = self.shared._queue
        items: list[object] = []
        while not queue.empty():
            item = queue.get_nowait()
            if item is _END:
                queue.put_nowait(_END)
                break
            items.append(item)
        items.extend(drain(self.shared.source))
        return [own for item in items if (own := self._own(item)) is not None]

    def awaits_frames(self, arrived_by_ns: int) -> bool:
        return awaits_frames(self.shared.source, arrived_by_ns)

    def _own(self, item: object) -> SourceItem | None:
        """An item of the shared stream as this segment's (events shifted to its session time),
        or None: a wake-up, or what came before the segment began."""
        if item is _WAKE:
            return None
        if isinstance(item, Event):  # on the shared source's session clock: shift to ours
            shift_s = (self._origin_ns - self.shared.source.host_origin_ns) * 1e-9
            return replace(item, time_s=item.time_s - shift_s) if item.time_s - shift_s >= 0 else None
        if isinstance(item, SampleBlock) and int(item.host_receive_ns[-1]) < self._origin_ns:
            return None  # sampled and sent before this recording began
        return item  # type: ignore[return-value]
