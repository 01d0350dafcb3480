"""Scan for supported sensors: family, name, address, signal and (where advertised) battery."""

from __future__ import annotations

import math
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


async def scan(
    timeout_s: float = 5.0, scanner_backend: type[BaseBleakScanner] | None = None
) -> list[DiscoveredSensor]:
    """Supported sensors in range, strongest signal first."""
    try:
        found = await BleakScanner.discover(
            timeout=timeout_s, return_adv=True, **scanner_args(scanner_backend)
        )
    except (BleakError, OSError) as error:
        raise BluetoothUnavailableError(
            f"Bluetooth is not available on this computer ({type(error).__name__}: {error or 'no detail'}); "
            "check that an adapter is present and switched on (on Linux: that BlueZ is running)"
        ) from error
    sensors = []
    for device, advertisement in found.values():
        name = advertisement.local_name or device.name or ""
        driver = driver_for(name, advertisement)
        if driver is not None:
            sensors.append(
                DiscoveredSensor(device, driver, name, advertisement.rssi, _battery(advertisement))
            )
    return sorted(sensors, key=lambda s: -s.rssi_dbm)
