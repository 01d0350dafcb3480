"""A source wrapper that adds scripted events (a drill's markers) to another source's stream,
each just before the first sample block received after its time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping

from sensors.events import Event
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.samples import SampleBlock
from sensors.source import SensorHealth, Source, SourceItem


class WithScriptedEvents:
    """`source` plus `events` (session times, s), in time order with its blocks."""

    def __init__(self, source: Source, events: Iterable[Event]) -> None:
        self.source = source
        self.events = sorted(events, key=lambda e: e.time_s)

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
        pending = list(self.events)
        async for item in self.source.stream():
            if isinstance(item, SampleBlock):
                now_s = (int(item.host_receive_ns[-1]) - self.host_origin_ns) * 1e-9
                while pending and pending[0].time_s <= now_s:
                    yield pending.pop(0)
            yield item
