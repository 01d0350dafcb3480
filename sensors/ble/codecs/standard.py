"""Bluetooth SIG services every family may carry: Battery (0x180F) and Device Information (0x180A)."""

from __future__ import annotations

from sensors.ble.errors import DecodeError

BATTERY_SERVICE = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"
DEVICE_INFORMATION_SERVICE = "0000180a-0000-1000-8000-00805f9b34fb"
MANUFACTURER_NAME = "00002a29-0000-1000-8000-00805f9b34fb"
MODEL_NUMBER = "00002a24-0000-1000-8000-00805f9b34fb"
SERIAL_NUMBER = "00002a25-0000-1000-8000-00805f9b34fb"
FIRMWARE_REVISION = "00002a26-0000-1000-8000-00805f9b34fb"


def battery_level(data: bytes | bytearray) -> int:
    """Battery Level (0x2A19): one byte, 0–100 %."""
    if len(data) != 1 or data[0] > 100:
        raise DecodeError("Battery Service", "battery level is one byte 0–100", data)
    return data[0]


def text(data: bytes | bytearray) -> str:
    """A Device Information string characteristic (UTF-8, trailing NULs dropped)."""
    return bytes(data).rstrip(b"\0").decode("utf-8", errors="replace")
