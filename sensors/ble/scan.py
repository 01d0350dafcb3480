"""Scan for supported sensors: family, name, address, signal and (where advertised) battery."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Collection
from dataclasses import dataclass

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError

from sensors.ble.codecs import standard
from sensors.ble.drivers import Driver, driver_for
from sensors.ble.errors import BluetoothUnavailableError
from sensors.identity import SensorFamily


@dataclass(frozen=True)
class DiscoveredSensor:
    """A supported sensor seen in a scan. battery_pct is NaN unless the sensor advertises it."""

    device: BLEDevice
    driver: Driver
    name: str
    rssi_dbm: int
    battery_pct: float

    @property
    def address(self) -> str:
        return self.device.address

    @property
    def family(self) -> SensorFamily:
        return self.driver.family

    @property
    def unusable(self) -> str:
        """Why stabmon cannot use this sensor though it knows its protocol ("" if it can)."""
        return self.driver.unusable(self.name)

    def matches(self, sensor_id: str) -> bool:
        """True when `sensor_id` is this sensor's address or its advertised name (case-insensitive)."""
        wanted = sensor_id.strip().lower()
        return wanted in (self.address.lower(), self.name.lower())


def _battery(advertisement: AdvertisementData) -> float:
    data = advertisement.service_data.get(standard.BATTERY_SERVICE)
    return float(data[0]) if data and data[0] <= 100 else math.nan


def scanner_args(backend: type[BaseBleakScanner] | None) -> BleakScanner.ExtraArgs:
    """bleak's scanner keyword arguments: the backend when one is given, else bleak's default."""
    return {} if backend is None else {"backend": backend}


def _supported(device: BLEDevice, advertisement: AdvertisementData) -> DiscoveredSensor | None:
    """The advertisement as a supported sensor, or None when no driver knows it."""
    name = advertisement.local_name or device.name or ""
    driver = driver_for(name, advertisement)
    if driver is None:
        return None
    return DiscoveredSensor(device, driver, name, advertisement.rssi, _battery(advertisement))


async def scan(
    timeout_s: float = 5.0,
    scanner_backend: type[BaseBleakScanner] | None = None,
    wanted: Collection[str] = (),
) -> list[DiscoveredSensor]:
    """Supported sensors in range, strongest signal first.

    Scans for `timeout_s` seconds; when `wanted` names sensors (addresses or advertised names),
    stops as soon as every one of them has been seen, so a start does not wait out the scan.
    """
    everyone_seen = asyncio.Event()
    seen: dict[str, DiscoveredSensor] = {}

    def on_advertisement(device: BLEDevice, advertisement: AdvertisementData) -> None:
        sensor = _supported(device, advertisement)
        if sensor is None:
            return
        seen[device.address] = sensor
        if wanted and all(any(s.matches(w) for s in seen.values()) for w in wanted):
            everyone_seen.set()

    try:
        async with BleakScanner(detection_callback=on_advertisement, **scanner_args(scanner_backend)):
            # A timeout is the whole scan run: the caller names whoever is missing.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(everyone_seen.wait(), timeout_s)
    except (BleakError, OSError) as error:
        raise BluetoothUnavailableError(
            f"Bluetooth is not available on this computer ({type(error).__name__}: {error or 'no detail'}); "
            "check that an adapter is present and switched on (on Linux: that BlueZ is running)"
        ) from error
    return sorted(seen.values(), key=lambda s: -s.rssi_dbm)
