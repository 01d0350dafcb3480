"""`BleSource`: sensors over Bluetooth LE behind the common source interface.

Connection manager: finds the assigned sensors in a scan, connects them one at a time under a
lock, reads identity and battery, then starts them together (session time 0). Notification
callbacks only stamp the host clock and enqueue the bytes; decoding, health and everything
else happen after the queue, in `stream()`. A sensor that drops out is reconnected with
back-off and resumes the same session; its gap shows in the sample counters and as status
changes. Malformed notifications are counted and logged (rate-limited), never fatal: a decoder
may raise only `DecodeError`, and anything else it raises is treated as one (the link enforces
the rule for every family). Decoded samples then pass a `SampleGate` (sensors.ble.admission):
duplicates and late blocks are dropped, implausible ones rejected, restarts spliced in as new
counter epochs, all counted in the sensor's health; what reaches the session is in order.

The production path is bleak's default backend with the monotonic clock; tests and the demo
pass the bleak backends of a virtual radio (and its host clock), nothing else changes.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from bleak import BleakClient, BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

from sensors.ble.admission import GateSettings
from sensors.ble.drivers import Driver, _closest
from sensors.ble.errors import ConnectionFailedError, SensorNotFoundError
from sensors.ble.ingest import SensorIngest
from sensors.ble.link_checks import check_link_settings
from sensors.ble.scan import DiscoveredSensor, scan, scanner_args
from sensors.constants import GRAVITY_M_S2
from sensors.health import HealthTracker
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.samples import SampleBlock
from sensors.source import LinkState, SensorHealth, SourceItem, StatusChange

log = logging.getLogger(__name__)


class HostClock(Protocol):
    def stamp(self, address: str) -> int:
        """Host time (ns) to stamp a notification from `address` with, read in the callback."""
        ...

    def now(self) -> int:
        """Host monotonic time, ns."""
        ...


class _Monotonic:
    def stamp(self, address: str) -> int:
        return time.monotonic_ns()

    def now(self) -> int:
        return time.monotonic_ns()


@dataclass(frozen=True)
class LinkSettings:
    """rate_hz: wanted sensor rate (each sensor takes its nearest supported rate);
    reconnect_delays_s: waits between reconnection attempts (the last repeats);
    give_up_after_s: a sensor silent this long is reported LOST and no longer tried."""

    rate_hz: float = 100.0
    scan_timeout_s: float = 5.0
    connect_timeout_s: float = 10.0
    reconnect_delays_s: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
    give_up_after_s: float = 120.0
    decode_error_log_interval_s: float = 10.0
    acc_range_g: float = 16.0
    gyr_range_dps: float = 2000.0

    def __post_init__(self) -> None:
        check_link_settings(self)  # raises LinkSettingsError naming the setting and why

    def gate_settings(self, rate_hz: float) -> GateSettings:
        """Plausibility limits for a sensor sampling at rate_hz: values beyond the largest full
        scale any supported sensor is configured to (acc_range_g, gyr_range_dps) are refused."""
        return GateSettings(
            rate_hz=rate_hz,
            acc_range_m_s2=self.acc_range_g * GRAVITY_M_S2,
            gyr_range_rad_s=math.radians(self.gyr_range_dps),
        )


@dataclass
class _Sensor:
    placement: Placement
    found: DiscoveredSensor
    client: BleakClient | None = None
    ingest: SensorIngest | None = None
    identity: SensorIdentity | None = None
    tracker: HealthTracker = field(init=False)
    reconnecting: asyncio.Task[None] | None = None
    reconnects: int = 0

    def __post_init__(self) -> None:
        self.tracker = HealthTracker(self.placement)

    @property
    def driver(self) -> Driver:
        return self.found.driver


class BleSource:
    """Streams the sensors assigned to placements (by address or advertised name)."""

    def __init__(
        self,
        assignments: Mapping[Placement, str],
        settings: LinkSettings | None = None,
        backend: tuple[type[BaseBleakScanner], type[BaseBleakClient]] | None = None,
        clock: HostClock | None = None,
    ) -> None:
        if not assignments:
            raise ValueError("assign at least one sensor to a placement")
        self.assignments = dict(assignments)
        self.settings = settings or LinkSettings()
        self._scanner_backend: type[BaseBleakScanner] | None = backend[0] if backend else None
        self._client_backend: type[BaseBleakClient] | None = backend[1] if backend else None
        self.clock: HostClock = clock or _Monotonic()
        self._sensors: dict[Placement, _Sensor] = {}
        self._queue: asyncio.Queue[tuple[Placement, str, int, bytes] | StatusChange | None] = asyncio.Queue()
        self._connect_lock = asyncio.Lock()
        self._origin_ns = 0
        self._stopping = False
        self._started = False

    # Source interface -------------------------------------------------------------------

    @property
    def sensors(self) -> Mapping[Placement, SensorIdentity]:
        return {p: s.identity for p, s in self._sensors.items() if s.identity is not None}

    @property
    def host_origin_ns(self) -> int:
        return self._origin_ns

    async def start(self) -> None:
        """Scan, connect every assigned sensor, then start them all. Calling it again once
        started does nothing (so a caller can start early to learn the sensors' identities)."""
        if self._started:
            return
        self._stopping = False
        found = await scan(
            self.settings.scan_timeout_s, self._scanner_backend, wanted=list(self.assignments.values())
        )
        missing = []
        for placement, sensor_id in self.assignments.items():
            match = next((f for f in found if f.matches(sensor_id)), None)
            if match is None:
                missing.append(f"{placement.value}={sensor_id}")
            else:
                self._sensors[placement] = _Sensor(placement, match)
        if missing:
            seen = ", ".join(f"{f.name} {f.address}" for f in found) or "none"
            raise SensorNotFoundError(f"sensors not found: {', '.join(missing)} (seen: {seen})")
        for sensor in self._sensors.values():
            await self._connect(sensor)
        self._origin_ns = self.clock.now()
        for sensor in self._sensors.values():
            await self._start_streaming(sensor)
        self._started = True

    async def stop(self) -> None:
        self._stopping = True
        for sensor in self._sensors.values():
            if sensor.reconnecting is not None:
                sensor.reconnecting.cancel()
            client = sensor.client
            if client is not None and client.is_connected:
                try:
                    await sensor.driver.stop(client)
                    await client.disconnect()
                except Exception as error:  # a sensor already gone: nothing to stop
                    log.debug("%s: stop: %s", sensor.placement.value, error)
            sensor.tracker.state = LinkState.STOPPED
        self._queue.put_nowait(None)

    def health(self) -> Mapping[Placement, SensorHealth]:
        now = self.clock.now()
        return {p: self._health(s, now, self._origin_ns) for p, s in self._sensors.items()}

    @staticmethod
    def _health(sensor: _Sensor, now_ns: int, origin_ns: int) -> SensorHealth:
        health = replace(sensor.tracker.snapshot(now_ns, origin_ns=origin_ns), rssi_dbm=sensor.found.rssi_dbm)
        return sensor.ingest.health(health, origin_ns) if sensor.ingest is not None else health

    def decode_errors(self) -> Mapping[Placement, int]:
        """Malformed notifications per sensor so far."""
        return {p: s.ingest.decode_errors if s.ingest else 0 for p, s in self._sensors.items()}

    async def stream(self) -> AsyncIterator[SourceItem]:
        for placement, sensor in self._sensors.items():
            yield StatusChange(placement, sensor.tracker.state, self._origin_ns, sensor.found.name)
        while True:
            item = await self._queue.get()
            if item is None:
                return
            for out in self._items(item):
                yield out

    def drain(self) -> list[SourceItem]:
        """What the link still holds once stopped (call after `stop`): the notifications queued
        but not yet decoded, then what each sensor's decoder held back (to judge a delay, to pair
        two streams), given up with the timing it can justify; what it could not judge or had to
        leave out is said in a status change (a link event in the recording)."""
        items: list[SourceItem] = []
        ended = False
        while not self._queue.empty():
            queued = self._queue.get_nowait()
            if queued is None:
                ended = True
            else:
                items.extend(self._items(queued))
        if ended:  # `stream()` still ends
            self._queue.put_nowait(None)
        for placement in self._sensors:
            items.extend(self._drained(placement))
        return items

    def _drained(self, placement: Placement) -> list[SourceItem]:
        """What one sensor's decoder holds, given up: a note on what it could not judge, the block."""
        sensor = self._sensors[placement]
        if sensor.ingest is None:
            return []
        block, unsure = sensor.ingest.drain()
        note = [StatusChange(placement, sensor.tracker.state, self.clock.now(), unsure)] if unsure else []
        return [*note, *([block] if block is not None else [])]

    def awaits_frames(self, arrived_by_ns: int) -> bool:
        """Whether a streaming sensor's decoder holds samples that arrived by host time
        `arrived_by_ns` (ns) and that a frame on its way would complete (a Polar's ACC samples
        waiting for their GYRO frame): worth reading on for at the stop, before `drain`."""
        for sensor in self._sensors.values():
            awaits = getattr(sensor.ingest.decoder, "awaits_frames", None) if sensor.ingest else None
            if awaits is not None and sensor.tracker.state is LinkState.STREAMING and awaits(arrived_by_ns):
                return True
        return False

    def _items(self, item: tuple[Placement, str, int, bytes] | StatusChange) -> list[SourceItem]:
        """What one queued item gives the session: a status change (a lost link's, then what the
        sensor's decoder held); a notification's block (if it completes one), after a note when it
        began a new counter epoch."""
        if isinstance(item, StatusChange):  # a sensor that lost its link gives up what it holds
            return [item, *self._drained(item.placement)] if item.state is LinkState.RECONNECTING else [item]
        placement = item[0]
        ingest = self._sensors[placement].ingest
        restarts = ingest.gate.counts.restarts if ingest is not None else 0
        block = self._decode(*item)
        out: list[SourceItem] = []
        if ingest is not None and ingest.gate.counts.restarts > restarts:
            # Said in the session (and so in the recording's link events), not only logged.
            counts = ingest.gate.counts
            if counts.clock_resets_ns and counts.clock_resets_ns[-1] == item[2]:
                at_s = (item[2] - self._origin_ns) * 1e-9
                what = f"{placement.value} sensor's clock was reset at {at_s:.1f} s ({counts.last_restart})"
                text = f"{what}; new clock epoch after a flagged gap"
            else:
                text = (
                    f"counter restarted or jumped ({counts.last_restart}); "
                    "new counter epoch after a flagged gap"
                )
            out.append(StatusChange(placement, LinkState.STREAMING, item[2], text))
        if block is not None:
            out.append(block)
        return out

    # Connection management --------------------------------------------------------------

    async def _connect(self, sensor: _Sensor) -> None:
        async with self._connect_lock:  # one connection attempt at a time: adapters need it
            client = BleakClient(
                sensor.found.device,
                disconnected_callback=lambda _: self._on_disconnected(sensor),
                timeout=self.settings.connect_timeout_s,
                backend=self._client_backend,
            )
            try:
                await client.connect()
                details = await sensor.driver.details(client)
            except Exception as error:
                raise ConnectionFailedError(
                    f"{sensor.placement.value} sensor {sensor.found.address}: {error}"
                ) from error
            sensor.client = client
            sensor.tracker.battery_pct = details.battery_pct
            sensor.identity = SensorIdentity(
                sensor.driver.family,
                sensor.found.address,
                details.serial,
                details.firmware,
                details.model or sensor.found.name,
            )

    async def _start_streaming(self, sensor: _Sensor) -> None:
        assert sensor.client is not None
        address = sensor.found.address

        def on_notify(characteristic: str, data: bytearray) -> None:
            # The BLE callback: stamp and enqueue, nothing else.
            self._queue.put_nowait((sensor.placement, characteristic, self.clock.stamp(address), bytes(data)))

        decoder = await sensor.driver.start(sensor.client, self.settings.rate_hz, on_notify)
        if sensor.ingest is None:  # a reconnection keeps decoder and gate: counters stay continuous
            # The rate the sensor was started at (a decoder that knows it), else the driver's guess.
            rates = sensor.driver.rates_hz
            rate = getattr(decoder, "rate_hz", None) or (
                _closest(rates, self.settings.rate_hz) if rates else self.settings.rate_hz
            )
            sensor.ingest = SensorIngest(
                sensor.placement,
                decoder,
                self.settings.gate_settings(rate),
                sensor.tracker,
                self.settings.decode_error_log_interval_s,
            )
        sensor.tracker.state = LinkState.STREAMING

    def _on_disconnected(self, sensor: _Sensor) -> None:
        if self._stopping:
            return
        sensor.tracker.state = LinkState.RECONNECTING
        sensor.client = None
        log.warning("%s sensor disconnected; reconnecting", sensor.placement.value)
        self._queue.put_nowait(
            StatusChange(sensor.placement, LinkState.RECONNECTING, self.clock.now(), "link lost")
        )
        if sensor.reconnecting is None or sensor.reconnecting.done():
            sensor.reconnecting = asyncio.get_running_loop().create_task(self._reconnect(sensor))

    async def _reconnect(self, sensor: _Sensor) -> None:
        started = time.monotonic()
        delays = self.settings.reconnect_delays_s
        attempt = 0
        while not self._stopping:
            await asyncio.sleep(delays[min(attempt, len(delays) - 1)])
            attempt += 1
            try:
                device = await BleakScanner.find_device_by_address(
                    sensor.found.address, timeout=2.0, **scanner_args(self._scanner_backend)
                )
                if device is not None:
                    sensor.found = DiscoveredSensor(
                        device,
                        sensor.driver,
                        sensor.found.name,
                        sensor.found.rssi_dbm,
                        sensor.found.battery_pct,
                    )
                    await self._connect(sensor)
                    await self._start_streaming(sensor)
                    sensor.reconnects += 1
                    gap = time.monotonic() - started
                    self._queue.put_nowait(
                        StatusChange(
                            sensor.placement,
                            LinkState.STREAMING,
                            self.clock.now(),
                            f"reconnected after {gap:.1f} s",
                        )
                    )
                    return
            except Exception as error:  # try again after the next delay
                log.info(
                    "%s sensor: reconnection attempt %d failed: %s", sensor.placement.value, attempt, error
                )
            if time.monotonic() - started > self.settings.give_up_after_s:
                sensor.tracker.state = LinkState.LOST
                self._queue.put_nowait(
                    StatusChange(
                        sensor.placement,
                        LinkState.LOST,
                        self.clock.now(),
                        f"gave up after {attempt} attempts",
                    )
                )
                return

    # Decoding, after the queue ---------------------------------------------------------

    def _decode(
        self, placement: Placement, characteristic: str, host_ns: int, data: bytes
    ) -> SampleBlock | None:
        ingest = self._sensors[placement].ingest
        return ingest.notification(characteristic, data, host_ns) if ingest is not None else None
