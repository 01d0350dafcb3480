"""Standard Bluetooth SIG services the virtual sensors share: Battery (0x180F) and Device
Information (0x180A)."""

from __future__ import annotations

from collections.abc import Callable

from bumble.gatt import Characteristic, Service

from sensors.ble.codecs.standard import (
    BATTERY_LEVEL,
    BATTERY_SERVICE,
    DEVICE_INFORMATION_SERVICE,
    FIRMWARE_REVISION,
    MANUFACTURER_NAME,
    MODEL_NUMBER,
    SERIAL_NUMBER,
)
from sensors.ble.virtual.base import gatt_value


def battery_service(level: Callable[[], int]) -> Service:
    return Service(
        BATTERY_SERVICE,
        [
            Characteristic(
                BATTERY_LEVEL,
                Characteristic.Properties.READ,
                Characteristic.READABLE,
                gatt_value(read=lambda connection: bytes([level()])),
            )
        ],
    )


def device_information_service(manufacturer: str, model: str, serial: str, firmware: str) -> Service:
    fields = (
        (MANUFACTURER_NAME, manufacturer),
        (MODEL_NUMBER, model),
        (SERIAL_NUMBER, serial),
        (FIRMWARE_REVISION, firmware),
    )
    return Service(
        DEVICE_INFORMATION_SERVICE,
        [
            Characteristic(uuid, Characteristic.Properties.READ, Characteristic.READABLE, text.encode())
            for uuid, text in fields
        ],
    )
