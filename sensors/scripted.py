"""A source wrapper that adds events from elsewhere (a drill's scripted markers, another
program's LSL markers) to another source's stream, just before the sample blocks they precede."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping

from sensors.events import Event
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.samples import SampleBlock
from sensors.source import SensorHealth, Source, SourceItem, awaits_frames, drain

#: due(now_s, host_origin_ns): the events to yield before a block whose newest sample arrived at
#: session time now_s.
EventsDue = Callable[[float, int], Iterable[Event]]


class WithEvents:
    """`source` plus the events `due` hands out before each of its sample blocks."""

    def __init__(self, source: Source, due: EventsDue) -> None:
        self.source = source
        self.due = due

    @property
    def sensors(self) -> Mapping[Placement, SensorIdentity]:
        return self.source.sensors

    @property
    def host_origin_ns(self) -> int:
        return self.source.host_origin_ns

    async def start(self) -> None:
        await self.source.start()

    async def stop(self) -> None:
        await self.source.stop()

    def health(self) -> Mapping[Placement, SensorHealth]:
        return self.source.health()

    async def stream(self) -> AsyncIterator[SourceItem]:
        async for item in self.source.stream():
            for out in self._with_due(item):
                yield out

    def drain(self) -> list[SourceItem]:
        """What the wrapped source still holds once stopped (`sensors.source.drain`)."""
        return [out for item in drain(self.source) for out in self._with_due(item)]

    def awaits_frames(self, arrived_by_ns: int) -> bool:
        return awaits_frames(self.source, arrived_by_ns)

    def _with_due(self, item: SourceItem) -> list[SourceItem]:
        """`item`, after the events due before it when it is a sample block."""
        if not isinstance(item, SampleBlock):
            return [item]
        now_s = (int(item.host_receive_ns[-1]) - self.host_origin_ns) * 1e-9
        return [*self.due(now_s, self.host_origin_ns), item]


def with_scripted_events(source: Source, events: Iterable[Event]) -> WithEvents:
    """`source` plus `events` (session times, s), each before the first block received after it."""
    pending = sorted(events, key=lambda e: e.time_s)

    def due(now_s: float, origin_ns: int) -> list[Event]:
        count = next((k for k, e in enumerate(pending) if e.time_s > now_s), len(pending))
        ready = pending[:count]
        del pending[:count]
        return ready

    return WithEvents(source, due)
