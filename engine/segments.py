"""One open source shared by consecutive recordings, so the BLE link stays up between the
repetitions of a protocol (reconnecting costs seconds). `SharedSource` pumps the source's
stream for as long as it is open; each `Segment` is a source of its own for one recording: its
session time starts when it starts, and it ends when its runner stops it, without disconnecting
anything. Between segments, what the sensors send is dropped (it belongs to no recording)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace

from sensors.events import Event
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.source import SensorHealth, Source, SourceItem

log = logging.getLogger(__name__)

_END = object()


def _clock_of(source: object) -> Callable[[], int]:
    """The host clock (ns) the source stamps with: a BLE link's (possibly a virtual radio's)
    clock, looked up through wrappers, else the monotonic clock."""
    while source is not None:
        clock = getattr(source, "clock", None)
        if clock is not None and hasattr(clock, "now"):
            return clock.now
        source = getattr(source, "source", None)
    return time.monotonic_ns


class SharedSource:
    """A started source whose stream feeds one `Segment` at a time."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._now = _clock_of(source)
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._active: Segment | None = None
        self._pump = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            async for item in self.source.stream():
                if self._active is not None:
                    self._queue.put_nowait(item)
        finally:
            self._queue.put_nowait(_END)

    def segment(self) -> Segment:
        """A source for the next recording (start it through its runner)."""
        return Segment(self)

    async def close(self) -> None:
        """Stop the source (disconnecting it) and the pump."""
        await self.source.stop()
        try:
            await asyncio.wait_for(self._pump, timeout=10.0)
        except (TimeoutError, asyncio.CancelledError):
            self._pump.cancel()


class Segment:
    """One recording's view of a `SharedSource` (implements the source interface)."""

    def __init__(self, shared: SharedSource) -> None:
        self.shared = shared
        self._origin_ns = 0
        self._started = False
        self._stopped = False

    @property
    def sensors(self) -> Mapping[Placement, SensorIdentity]:
        return self.shared.source.sensors

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
        self._origin_ns = shared._now()
        shared._active = self

    async def stop(self) -> None:
        """End this segment; the link stays up for the next one."""
        self._stopped = True
        if self.shared._active is self:
            self.shared._active = None

    def health(self) -> Mapping[Placement, SensorHealth]:
        return self.shared.source.health()

    async def stream(self) -> AsyncIterator[SourceItem]:
        shift_s = (self._origin_ns - self.shared.source.host_origin_ns) * 1e-9
        queue = self.shared._queue
        while not self._stopped:
            item = await queue.get()
            if item is _END:
                queue.put_nowait(_END)
                return
            if isinstance(item, Event):  # on the shared source's session clock: shift to ours
                if item.time_s - shift_s < 0:
                    continue
                item = replace(item, time_s=item.time_s - shift_s)
            yield item  # type: ignore[misc]
