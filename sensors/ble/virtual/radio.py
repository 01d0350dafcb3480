"""The virtual radio: one bumble `LocalLink` that virtual sensors and the host's central share.

The central is a bumble `Device` standing in for the computer's Bluetooth adapter; the bleak
backends in `sensors.ble.virtual.bleak_backend` drive it, so production code scans, connects,
discovers and streams through bleak exactly as with hardware. Virtual peripherals join the same
link (`VirtualSensor.attach`).

Host clock: in real-time runs notifications are stamped with the monotonic clock like real ones.
In fast runs (tests, benchmarks, faster than real time) each virtual sensor announces the
simulated arrival time of every notification it sends; the link stamps notifications with those
times, in order, per sensor (`VirtualHostClock`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from bumble.controller import Controller
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from sensors.ble.virtual.late_responses import drop_late_command_responses
from sensors.ble.virtual.packet_text import render_packets_only_for_debug

if TYPE_CHECKING:
    from sensors.ble.virtual.base import VirtualSensor

log = logging.getLogger(__name__)
# A virtual sensor may have a notification in flight when the host unsubscribes; bumble logs each
# such arrival as a warning. That is expected at the end of every virtual session.
logging.getLogger("bumble.gatt_client").setLevel(logging.ERROR)
render_packets_only_for_debug()

CENTRAL_ADDRESS = "F0:5A:B1:00:00:01"
#: World-time step of a fast run, s.
FAST_STEP_S = 0.05
#: Notifications sent but not yet received before a fast run waits for the host to catch up.
FAST_BACKLOG = 64
#: How far past the longest drill a fast run may go before it stops by itself, s.
FAST_OVERRUN_S = 60.0
#: Longest a fast run waits (wall time) for a connected sensor to be started, s.
FAST_START_WAIT_S = 10.0


def make_device(link: LocalLink, address: str, name: str) -> Device:
    """A bumble device with its own controller on `link`."""
    controller = Controller(name, link=link, public_address=address)
    host = Host(controller, AsyncPipeSink(controller))
    drop_late_command_responses(host)
    return Device(name=name, address=Address(address), host=host)


class MonotonicClock:
    """The host clock of a real session: stamps are time.monotonic_ns()."""

    def stamp(self, address: str) -> int:
        return time.monotonic_ns()

    def now(self) -> int:
        return time.monotonic_ns()


class VirtualHostClock:
    """Simulated host clock for fast runs: a virtual sensor `announce`s each notification's arrival
    time before sending it; `stamp` hands those times out in order for that sensor."""

    def __init__(self, start_ns: int = 0) -> None:
        self._pending: dict[str, collections.deque[int]] = collections.defaultdict(collections.deque)
        self._now = start_ns

    @property
    def backlog(self) -> int:
        """Notifications announced but not yet stamped (in flight on the link)."""
        return sum(len(q) for q in self._pending.values())

    def announce(self, address: str, arrival_ns: int) -> None:
        self._pending[address.upper()].append(arrival_ns)
        self._now = max(self._now, arrival_ns)

    def forget(self, address: str) -> None:
        """Drop announced arrivals that will never be delivered (the link went down)."""
        self._pending[address.upper()].clear()

    def advance(self, now_ns: int) -> None:
        self._now = max(self._now, now_ns)

    def stamp(self, address: str) -> int:
        pending = self._pending[address.upper()]
        return pending.popleft() if pending else self._now

    def now(self) -> int:
        return self._now


class CentralRadio:
    """What bleak's virtual backends drive: the host's central (a bumble `Device`), powered on
    once; `backend()` binds the backends to it. Subclasses set `central`, `clock` and `realtime`."""

    central: Device
    clock: MonotonicClock | VirtualHostClock
    realtime: bool
    _powered: bool = False

    async def power_on(self) -> None:
        if not self._powered:
            await self.central.power_on()
            # bumble's first scan after power-on reports nothing (seen with 0.0.236): prime it once.
            await self.central.start_scanning(legacy=True)
            await self.central.stop_scanning(legacy=True)
            self._powered = True

    def backend(self) -> tuple[type, type]:
        """(scanner backend, client backend) classes for bleak's `backend=` bound to this radio."""
        from sensors.ble.virtual.bleak_backend import BumbleClient, BumbleScanner

        scanner = type("BumbleScannerOnRadio", (BumbleScanner,), {"radio": self})
        client = type("BumbleClientOnRadio", (BumbleClient,), {"radio": self})
        return scanner, client


class VirtualRadio(CentralRadio):
    """A LocalLink with the host's central on it, and the world clock virtual sensors sample on.

    realtime=True: sensors send at their simulated arrival times on the monotonic clock, each
    from its own task. realtime=False: one driver advances world time in FAST_STEP_S steps for
    all sensors together, as fast as the host takes the data, waiting whenever a connected
    sensor has not been started yet (so sensors started together share world time 0, and a
    reconnection costs the simulated outage, not the wall time the host needed).
    with_central=False: the central is not made here (the radio process gives the link a
    controller for a host in another process, `sensors.ble.virtual.radio_process`).
    """

    def __init__(self, realtime: bool = True, with_central: bool = True) -> None:
        self.link = LocalLink()
        if with_central:
            self.central = make_device(self.link, CENTRAL_ADDRESS, "stabmon host")
        self.clock: MonotonicClock | VirtualHostClock = MonotonicClock() if realtime else VirtualHostClock()
        self.realtime = realtime
        self.sensors: list[VirtualSensor] = []
        self.origin_ns: int = 0 if not realtime else -1
        self._world_s = 0.0
        self._powered = False
        self._tasks: list[asyncio.Task[None]] = []
        self.closed = False

    def world_time_s(self) -> float:
        """Time since the first sensor started streaming (the drill's clock), s."""
        if not self.realtime:
            return self._world_s
        return 0.0 if self.origin_ns < 0 else (time.monotonic_ns() - self.origin_ns) * 1e-9

    def on_sensor_started(self, sensor: VirtualSensor) -> None:
        """A sensor was told to stream: make sure something drives it."""
        if self.realtime:
            if self.origin_ns < 0:
                self.origin_ns = time.monotonic_ns()
            if not any(t.get_name() == sensor.address for t in self._tasks):
                self._tasks.append(
                    asyncio.get_running_loop().create_task(self._run_realtime(sensor), name=sensor.address)
                )
        elif not self._tasks:
            self._tasks.append(asyncio.get_running_loop().create_task(self._run_fast(), name="fast driver"))

    async def _run_realtime(self, sensor: VirtualSensor) -> None:
        try:
            while not self.closed:
                await sensor.step(self.world_time_s() + 0.05)
                await asyncio.sleep(0.01)
        except Exception:
            log.exception("virtual sensor %s stopped", sensor.address)

    async def _run_fast(self) -> None:
        clock = self.clock
        assert isinstance(clock, VirtualHostClock)
        # Sensors go on sampling after their drill (the body stands on); a run ends when the host
        # closes the radio. The cap only stops a forgotten radio from running for ever.
        end_s = max(s.drill.duration_s for s in self.sensors) + FAST_OVERRUN_S
        try:
            while not self.closed and self._world_s < end_s:
                deadline = time.monotonic() + FAST_START_WAIT_S
                while any(s.awaiting_start for s in self.sensors) and time.monotonic() < deadline:
                    await asyncio.sleep(0.002)
                while clock.backlog > FAST_BACKLOG and not self.closed:
                    await asyncio.sleep(0)
                self._world_s = min(self._world_s + FAST_STEP_S, end_s)
                for sensor in self.sensors:
                    try:
                        await sensor.step(self._world_s)
                    except Exception:  # one broken sensor must not stop the others
                        log.exception("virtual sensor %s failed at %.2f s", sensor.address, self._world_s)
                clock.advance(self.origin_ns + round(self._world_s * 1e9))
                await asyncio.sleep(0)
        except Exception:
            log.exception("fast virtual radio stopped")

    async def close(self) -> None:
        """Stop driving the sensors."""
        self.closed = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
