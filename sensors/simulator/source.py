"""`SimulatedSource`: virtual sensors on a simulated body, behind the common source interface."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Mapping

import numpy as np

from sensors.events import Event
from sensors.health import HealthTracker
from sensors.identity import SensorFamily, SensorIdentity
from sensors.placements import REQUIRED_PLACEMENTS, Placement
from sensors.samples import SampleBlock
from sensors.simulator.drills.base import Drill
from sensors.simulator.sensor import SimulatedSensor, SimulatedSensorSettings
from sensors.source import LinkState, SensorHealth, SourceItem, StatusChange

_PLACEMENT_INDEX = {p: k for k, p in enumerate(Placement)}


class SimulatedSource:
    """Streams a drill as the given sensors would deliver it.

    realtime=True paces delivery on the host clock, one block per notification; otherwise it
    runs as fast as possible, one block per sensor per `delivery_s` window of arrival time, in
    arrival order across sensors (so downstream sees the same interleaving, only sooner). Data
    are generated `chunk_s` at a time. Host receive stamps are simulated arrival times from
    `host_origin_ns` either way, so a seed gives the same data in both modes.
    """

    def __init__(
        self,
        drill: Drill,
        placements: tuple[Placement, ...] = REQUIRED_PLACEMENTS,
        settings: SimulatedSensorSettings | Mapping[Placement, SimulatedSensorSettings] | None = None,
        seed: int = 0,
        realtime: bool = False,
        chunk_s: float = 0.5,
        delivery_s: float = 0.1,
        events: Iterable[Event] | None = None,
    ) -> None:
        self.drill = drill
        self.events = tuple(drill.events() if events is None else events)
        self.realtime = realtime
        self.chunk_s = chunk_s
        self.delivery_ns = 0 if realtime else round(delivery_s * 1e9)
        self.seed = seed
        self.simulated: dict[Placement, SimulatedSensor] = {}
        for placement in placements:
            if isinstance(settings, Mapping):
                sensor_settings = settings.get(placement, SimulatedSensorSettings())
            else:
                sensor_settings = settings or SimulatedSensorSettings()
            seed_seq = np.random.SeedSequence(entropy=seed, spawn_key=(_PLACEMENT_INDEX[placement],))
            self.simulated[placement] = SimulatedSensor(drill, placement, sensor_settings, seed_seq)
        self._identities = {
            p: SensorIdentity(
                family=SensorFamily.SIMULATED,
                address=f"SIM-{p.value.upper()}-{seed}",
                serial=f"SIM{seed:05d}{_PLACEMENT_INDEX[p]}",
                firmware="sim-1",
                model="stabmon virtual IMU",
            )
            for p in placements
        }
        self._health = {p: HealthTracker(p, rate_hz=self.simulated[p].settings.rate_hz) for p in placements}
        self._host_origin_ns = 0
        self._stopped = False
        self._now_ns = 0

    @property
    def sensors(self) -> Mapping[Placement, SensorIdentity]:
        return self._identities

    @property
    def host_origin_ns(self) -> int:
        return self._host_origin_ns

    async def start(self) -> None:
        self._host_origin_ns = time.monotonic_ns()
        self._now_ns = self._host_origin_ns
        self._stopped = False

    async def stop(self) -> None:
        self._stopped = True

    def health(self) -> Mapping[Placement, SensorHealth]:
        now = time.monotonic_ns() if self.realtime else self._now_ns
        origin = self._host_origin_ns
        return {p: tracker.snapshot(now, origin_ns=origin) for p, tracker in self._health.items()}

    async def stream(self) -> AsyncIterator[SourceItem]:
        origin = self._host_origin_ns
        for placement in self.simulated:
            yield StatusChange(placement, LinkState.STREAMING, origin, "simulated sensor streaming")
        pending_events = sorted(self.events, key=lambda e: e.time_s)
        t = 0.0
        while t < self.drill.duration_s and not self._stopped:
            t_next = min(t + self.chunk_s, self.drill.duration_s)
            timed: list[tuple[int, int, SourceItem]] = []
            for order, sensor in enumerate(self.simulated.values()):
                block = sensor.generate_until(t_next, origin)
                if block is None:
                    continue
                pieces = block.split_by_arrival(self.delivery_ns, origin)
                timed.extend((int(b.host_receive_ns[-1]), order, b) for b in pieces)
            while pending_events and pending_events[0].time_s <= t_next:
                event: Event = pending_events.pop(0)
                timed.append((origin + round(event.time_s * 1e9), -1, event))
            timed.sort(key=lambda item: (item[0], item[1]))
            for host_ns, _, item in timed:
                if self._stopped:
                    break
                if self.realtime:
                    delay_s = (host_ns - time.monotonic_ns()) * 1e-9
                    if delay_s > 0:
                        await asyncio.sleep(delay_s)
                self._now_ns = max(self._now_ns, host_ns)
                if isinstance(item, SampleBlock):
                    self._health[item.placement].update(item)
                yield item
            if not self.realtime:
                await asyncio.sleep(0)
            t = t_next
        for placement in self.simulated:
            self._health[placement].state = LinkState.STOPPED
            yield StatusChange(placement, LinkState.STOPPED, self._now_ns, "simulation ended")
