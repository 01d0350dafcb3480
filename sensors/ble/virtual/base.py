"""A virtual sensor: a bumble GATT peripheral on the virtual radio, fed by the motion simulator.

Subclasses define the GATT database and the bytes of each notification for one protocol
(`services`, `encode`); this base class advertises, follows connections, and streams the
simulator's notifications (its packet grouping, loss bursts and arrival jitter included) once a
connected central has started it. Faults (`FaultPlan`) drop the link, kill the sensor or send
garbage, to exercise the host's recovery; or send well-formed but wrong notifications
(duplicated, reordered, counters and device clock jumping, a reboot), to exercise its admission.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from bumble.core import AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, Service

from sensors.ble.virtual.radio import FAST_OVERRUN_S, VirtualHostClock, VirtualRadio, make_device
from sensors.identity import SensorFamily, SensorIdentity
from sensors.placements import Placement
from sensors.samples import SampleBlock
from sensors.simulator.drills.base import Drill, continued
from sensors.simulator.sensor import SimulatedSensor, SimulatedSensorSettings

log = logging.getLogger(__name__)
#: How far (s of world time) a real-time virtual sensor simulates ahead of what it sends: the
#: simulator's cost per call is mostly fixed, so it runs once per this instead of per step (the
#: same samples). A `Performance`'s next act starts after what was simulated, up to this later.
REALTIME_AHEAD_S = 0.25


@dataclass(frozen=True)
class FaultPlan:
    """disconnect_at_s: world times (s) at which the sensor drops the link, unreachable for
    outage_s each time; dies_at_s: world time the battery dies for good; garbage_every: every
    n-th notification is replaced by malformed bytes (0: never); storm_s: (start, end) world
    times between which every notification is malformed.

    Well-formed but wrong: duplicate_every: every n-th notification is sent twice;
    reorder_every: every n-th is held back and sent after the next; jumps: (world time s,
    counter jump, device-time jump s): from then on the counter and the device clock are shifted
    by these (a glitching firmware); reboots_at_s: world times at which the sensor restarts its
    counter and clock from 0 (stabmon sets FLAG_CLOCK_RESTARTED on the next packet); inject:
    (world time s, bytes): sent once on the data characteristic at that time, before the data."""

    disconnect_at_s: tuple[float, ...] = ()
    outage_s: float = 2.0
    dies_at_s: float | None = None
    garbage_every: int = 0
    storm_s: tuple[float, float] | None = None
    duplicate_every: int = 0
    reorder_every: int = 0
    jumps: tuple[tuple[float, int, float], ...] = ()
    reboots_at_s: tuple[float, ...] = ()
    inject: tuple[tuple[float, bytes], ...] = ()

    @staticmethod
    def every(n: int, notification: int) -> bool:
        return n > 0 and notification % n == 0

    def garbage(self, notification: int, world_s: float) -> bool:
        """Whether the notification-th notification, sent at world_s, is malformed."""
        if self.garbage_every and notification % self.garbage_every == 0:
            return True
        return self.storm_s is not None and self.storm_s[0] <= world_s < self.storm_s[1]


@dataclass
class _Link:
    """What the sensor knows of its current connection."""

    connection: Connection | None = None
    streaming: bool = False
    outage_until_s: float = -1.0
    dead: bool = False
    due_back: bool = False  # an outage just ended: the host should reconnect
    faults_done: set[float] = field(default_factory=set)


class VirtualSensor:
    """Base class of the virtual sensors of each protocol family."""

    family: SensorFamily = SensorFamily.SIMULATED
    model: str = "virtual IMU"
    firmware: str = "1.0.0"

    def __init__(
        self,
        radio: VirtualRadio,
        address: str,
        drill: Drill,
        placement: Placement,
        settings: SimulatedSensorSettings | None = None,
        seed: int = 0,
        faults: FaultPlan | None = None,
        battery_pct: int = 87,
        keep_sent: bool = False,
    ) -> None:
        self.radio = radio
        self.address = address.upper()
        self.drill = drill
        self.placement = placement
        self.settings = settings or SimulatedSensorSettings()
        self.seed = seed
        self.faults = faults or FaultPlan()
        self.battery_pct = battery_pct
        self.serial = f"{self.family.value.upper()[:3]}{self.address.replace(':', '')[-6:]}"
        self.device: Device | None = None
        self.link = _Link()
        self.simulated: SimulatedSensor | None = None
        self.notifications_sent = 0
        self.samples_sent = 0
        self.sent_blocks: list[SampleBlock] | None = [] if keep_sent else None  # ground truth for tests
        self.spoiled_blocks: list[SampleBlock] = []  # sent, but (partly) as malformed bytes
        #: (monotonic ns handed to the stack, newest sample's counter) per block sent, when a
        #: benchmark asks (the radio process's send times, to time the transport to the host).
        self.send_log: list[tuple[int, int]] | None = None
        self._world_s = 0.0
        self._shift = (0, 0.0)  # what faults add to the counter and device time from now on
        self._shifts_done: set[float] = set()
        self._injected: set[tuple[float, bytes]] = set()
        self._held: list[tuple[Characteristic, bytes, int]] = []  # notifications held back (reorder)
        self.restart_pending = False  # a reboot fault happened: the next packet says so
        self._hci = asyncio.Lock()  # bumble's host takes one command at a time per device

    # Protocol hooks ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        raise NotImplementedError

    def services(self) -> list[Service]:
        raise NotImplementedError

    def advertising_data(self) -> AdvertisingData:
        return AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode())])

    def encode(self, block: SampleBlock) -> list[tuple[Characteristic, bytes]]:
        """The notifications (characteristic, bytes) that carry one simulated notification's samples."""
        raise NotImplementedError

    def identity(self) -> SensorIdentity:
        return SensorIdentity(self.family, self.address, self.serial, self.firmware, self.model)

    # Life cycle ------------------------------------------------------------------------------

    async def attach(self) -> None:
        """Join the radio's link and start advertising."""
        device = make_device(self.radio.link, self.address, self.name)
        for service in self.services():
            device.add_service(service)
        device.on("connection", self._on_connection)
        await device.power_on()
        self.device = device
        self.radio.sensors.append(self)
        await self._advertise()

    async def _advertise(self) -> None:
        assert self.device is not None
        if self.radio.closed:
            return
        async with self._hci:
            await self.device.start_advertising(
                advertising_data=bytes(self.advertising_data()), auto_restart=False
            )

    async def _advertise_again(self) -> None:
        """Advertise again after a disconnection, once bumble has finished handling it (a
        command sent from inside the disconnection callback collides with its own)."""
        await asyncio.sleep(0.05)
        await self._advertise()

    async def _stop_advertising(self) -> None:
        if self.device is not None:
            async with self._hci:
                await self.device.stop_advertising()

    def _on_connection(self, connection: Connection) -> None:
        self.link.connection = connection
        connection.on("disconnection", lambda reason: self._on_disconnection())

    def _on_disconnection(self) -> None:
        self.link.connection = None
        self.link.streaming = False
        if isinstance(self.radio.clock, VirtualHostClock):
            self.radio.clock.forget(self.address)
        if not self.link.dead and self.link.outage_until_s < 0 and self.device is not None:
            asyncio.get_running_loop().create_task(self._advertise_again())

    # Streaming ------------------------------------------------------------------------------

    def start_streaming(self, rate_hz: float | None = None, samples_per_packet: int | None = None) -> None:
        """Called by a protocol's control point: begin (or resume) sending notifications."""
        settings = self.settings
        if rate_hz is not None and rate_hz != settings.rate_hz:
            settings = replace(settings, rate_hz=float(rate_hz))
        if samples_per_packet is not None and samples_per_packet != settings.radio.samples_per_packet:
            settings = replace(settings, radio=replace(settings.radio, samples_per_packet=samples_per_packet))
        if self.simulated is None or settings != self.settings:
            self.settings = replace(settings, start_s=self._world_now())
            seed = np.random.SeedSequence(
                entropy=self.seed, spawn_key=(list(Placement).index(self.placement),)
            )
            # The sensor samples on after the drill's script ends, until the host stops it.
            body = continued(self.drill, FAST_OVERRUN_S)
            self.simulated = SimulatedSensor(body, self.placement, self.settings, seed)
        self.link.streaming = True
        self.link.due_back = False
        self.radio.on_sensor_started(self)

    def stop_streaming(self) -> None:
        self.link.streaming = False

    def _world_now(self) -> float:
        return self.radio.world_time_s()

    @property
    def awaiting_start(self) -> bool:
        """Connected (or due back after an outage) but not yet streaming: a fast run waits for it."""
        if self.link.dead:
            return False
        return (self.link.connection is not None or self.link.due_back) and not self.link.streaming

    async def step(self, world_until_s: float) -> None:
        """Produce everything up to world time `world_until_s`: send it if streaming, else drop it."""
        self._world_s = world_until_s
        await self._apply_faults(world_until_s)
        if self.simulated is None:
            return
        ahead_s = REALTIME_AHEAD_S if self.radio.realtime else 0.0
        block = self.simulated.generate_until(world_until_s, self.radio.origin_ns, ahead_s)
        if block is None or len(block) == 0:
            return
        if not (self.link.streaming and self.link.connection is not None) or self.link.dead:
            return  # sampled but never sent: the host sees a gap
        stamps = block.host_receive_ns
        edges = np.flatnonzero(np.diff(stamps)) + 1
        for start, stop in zip([0, *edges.tolist()], [*edges.tolist(), len(block)], strict=True):
            if not (self.link.streaming and self.link.connection is not None):
                return
            piece = block.rows(start, stop)
            arrival_ns = int(piece.host_receive_ns[-1])
            if self.radio.realtime:
                delay_s = (arrival_ns - time.monotonic_ns()) * 1e-9
                if delay_s > 0:
                    await asyncio.sleep(delay_s)
            await self._send(piece, arrival_ns)

    def _tampered(self, piece: SampleBlock) -> SampleBlock:
        """The piece as a faulty sensor sends it: counter and clock shifted by the jumps and
        reboots planned up to now."""
        plan = self.faults
        for at, counter_jump, time_jump_s in plan.jumps:
            if self._world_s >= at and at not in self._shifts_done:
                self._shifts_done.add(at)
                self._shift = (self._shift[0] + counter_jump, self._shift[1] + time_jump_s)
        for at in plan.reboots_at_s:
            if self._world_s >= at and at not in self._shifts_done:
                self._shifts_done.add(at)
                self._shift = (-int(piece.sequence[0]), -float(piece.device_time_s[0]))
                self.restart_pending = True
        counter, clock_s = self._shift
        if counter == 0 and clock_s == 0.0:
            return piece
        return replace(piece, sequence=piece.sequence + counter, device_time_s=piece.device_time_s + clock_s)

    async def _send(self, piece: SampleBlock, arrival_ns: int) -> None:
        assert self.device is not None
        spoiled = False
        piece = self._tampered(piece)
        if self.send_log is not None:
            self.send_log.append((time.monotonic_ns(), int(piece.sequence[-1])))
        notifications = self.encode(piece)
        for at, extra in self.faults.inject:
            if self._world_s >= at and (at, extra) not in self._injected:
                self._injected.add((at, extra))
                if not await self._notify(notifications[0][0], extra, arrival_ns):
                    return
        for characteristic, payload in notifications:
            self.notifications_sent += 1
            n = self.notifications_sent
            if self.faults.garbage(n, self._world_s):
                payload = bytes(reversed(payload))[: max(len(payload) // 2, 1)]
                spoiled = True
            if FaultPlan.every(self.faults.reorder_every, n) and not self._held:
                self._held.append((characteristic, payload, arrival_ns))
                continue
            copies = 2 if FaultPlan.every(self.faults.duplicate_every, n) else 1
            held = [(c, p, arrival_ns) for c, p, _ in self._held]  # stamped when they arrive, late
            outgoing = [(characteristic, payload, arrival_ns)] * copies + held
            self._held = []
            for out_characteristic, out_payload, out_arrival_ns in outgoing:
                if not await self._notify(out_characteristic, out_payload, out_arrival_ns):
                    return
        self.samples_sent += len(piece)
        if self.sent_blocks is not None:
            self.sent_blocks.append(piece)
            if spoiled:
                self.spoiled_blocks.append(piece)

    async def _notify(self, characteristic: Characteristic, payload: bytes, arrival_ns: int) -> bool:
        """Send one notification; False if the link went down."""
        assert self.device is not None
        if isinstance(self.radio.clock, VirtualHostClock):
            self.radio.clock.announce(self.address, arrival_ns)
        connection = self.link.connection
        if connection is None:
            return False
        try:
            await self.device.notify_subscriber(connection, characteristic, payload)
        except Exception as error:  # the link went down under us
            log.debug("%s: notification not sent: %s", self.address, error)
            return False
        return True

    async def _apply_faults(self, world_s: float) -> None:
        plan, link = self.faults, self.link
        if plan.dies_at_s is not None and world_s >= plan.dies_at_s and not link.dead:
            link.dead = True
            await self._drop("battery died")
            await self._stop_advertising()
            return
        for at in plan.disconnect_at_s:
            if world_s >= at and at not in link.faults_done:
                link.faults_done.add(at)
                link.outage_until_s = at + plan.outage_s
                await self._drop("out of range")
                await self._stop_advertising()
        if 0 <= link.outage_until_s <= world_s and not link.dead:
            link.outage_until_s = -1.0
            link.due_back = True
            await self._advertise()

    async def _drop(self, why: str) -> None:
        connection = self.link.connection
        self.link.streaming = False
        if connection is not None:
            log.info("%s: dropping the link (%s)", self.address, why)
            try:
                async with self._hci:
                    await connection.disconnect()
            except Exception as error:
                log.debug("%s: disconnect: %s", self.address, error)


def counts(values: np.ndarray, full_scale: float) -> np.ndarray:
    """int16 counts of values (n, 3) for ±full_scale, saturating as a real ADC does."""
    return np.clip(np.round(values / full_scale * 32768.0), -32768, 32767).astype(np.int16)


def gatt_value(read: Any = None, write: Any = None) -> Any:
    """A dynamic characteristic value."""
    from bumble.gatt import CharacteristicValue

    return CharacteristicValue(read=read, write=write)
