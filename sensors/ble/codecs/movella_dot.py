"""Movella DOT (formerly Xsens DOT) measurement protocol, from "Movella DOT BLE Services
Specifications" (Movella, rev. C, July 2023): base UUID 1517xxxx-4947-11E9-8646-D663BD873D93,
little-endian throughout.

Used here: Device info (0x1001, 34 B), Device control (0x1002, 32 B; output rate), measurement
Control (0x2001, 3 B: type 1, action 0 stop / 1 start, payload mode), Medium payload (0x2003,
40 B notifications) in payload mode 20 "Rate quantities (with mag)" = u32 timestamp µs, acc
3×f32 m/s², angular velocity 3×f32 °/s, magnetic field 3×int16 fixed point (÷2^12, a.u.),
trailing bytes unused, and Battery (0x3001: level %, charging).

Checked against Movella's (then Xsens') own reference client, xsens/xsens_dot_server @
364d521ab3f40690649bf281c054c6d798889a12, bleHandler.js: start/stop `[0x01, 0x01 | 0x00, payload
mode]` on 0x2001 (enableSensor, disableSensor), mode 20 read from the medium payload 0x2003 as
readUInt32LE(0), readFloatLE(4…12), readFloatLE(16…24), readInt16LE(28…32) / 2^12
(convertSensorData); it reads nothing past byte 34, so neither does this codec. Neither that
client nor the specification publishes notification bytes with their values: the fixtures
(tests/sensors/ble/vectors/movella_dot.py) hold the layout, not a capture.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from sensors.ble.errors import DecodeError

PROTOCOL = "Movella DOT"
_BASE = "1517{:04x}-4947-11e9-8646-d663bd873d93"
CONFIGURATION_SERVICE_UUID = _BASE.format(0x1000)
DEVICE_INFO_UUID = _BASE.format(0x1001)
DEVICE_CONTROL_UUID = _BASE.format(0x1002)
MEASUREMENT_SERVICE_UUID = _BASE.format(0x2000)
CONTROL_UUID = _BASE.format(0x2001)
MEDIUM_PAYLOAD_UUID = _BASE.format(0x2003)
BATTERY_SERVICE_UUID = _BASE.format(0x3000)
BATTERY_UUID = _BASE.format(0x3001)
COMPANY_ID = 2182  # Movella Technologies B.V.

PAYLOAD_RATE_QUANTITIES_WITH_MAG = 20
MEDIUM_PAYLOAD_BYTES = 40
LIVE_RATES_HZ = (1, 4, 10, 12, 15, 20, 30, 60)
TIMESTAMP_WRAP_US = 2**32

_RATE_QUANTITIES = struct.Struct("<I3f3f3h")


@dataclass(frozen=True)
class ControlCommand:
    """Measurement control (0x2001): action 1 start / 0 stop, payload mode."""

    action: int
    payload_mode: int = PAYLOAD_RATE_QUANTITIES_WITH_MAG

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> ControlCommand:
        if len(data) != 3:
            raise DecodeError(PROTOCOL, "control is 3 bytes: type, action, payload mode", data)
        if data[0] != 1:
            raise DecodeError(PROTOCOL, f"control type {data[0]} (only 1, measurement, is valid)", data)
        if data[1] not in (0, 1):
            raise DecodeError(PROTOCOL, f"control action {data[1]} (0 stop, 1 start)", data)
        return cls(data[1], data[2])

    def to_bytes(self) -> bytes:
        return bytes([1, self.action, self.payload_mode])


@dataclass(frozen=True)
class RateQuantities:
    """One mode-20 medium-payload notification: timestamp µs (u32, wraps after 71.6 min), acc
    (3,) m/s², angular velocity (3,) °/s, magnetic field (3,) int16 counts (÷2^12, a.u.); bytes
    34…39 are padding, ignored as Movella's client ignores them (sent as zeros)."""

    timestamp_us: int
    acc_m_s2: tuple[float, float, float]
    gyr_deg_s: tuple[float, float, float]
    mag_counts: tuple[int, int, int] = (0, 0, 0)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> RateQuantities:
        size = _RATE_QUANTITIES.size
        if not size <= len(data) <= MEDIUM_PAYLOAD_BYTES:
            raise DecodeError(PROTOCOL, f"rate-quantities payload is {size} bytes (padded to 40)", data)
        values = _RATE_QUANTITIES.unpack_from(data)
        acc, gyr = values[1:4], values[4:7]
        if not (np.isfinite(acc).all() and np.isfinite(gyr).all()):
            raise DecodeError(PROTOCOL, "acceleration or angular velocity is not a finite number", data)
        return cls(values[0], acc, gyr, values[7:10])

    def to_bytes(self) -> bytes:
        payload = _RATE_QUANTITIES.pack(self.timestamp_us, *self.acc_m_s2, *self.gyr_deg_s, *self.mag_counts)
        return payload.ljust(MEDIUM_PAYLOAD_BYTES, b"\0")

    @property
    def mag_au(self) -> np.ndarray:
        return np.asarray(self.mag_counts, dtype=float) / 2**12


_DEVICE_INFO = struct.Struct("<6s3BH5BIQ6s")


@dataclass(frozen=True)
class DeviceInfo:
    """Device info (0x1001, 34 bytes): MAC, firmware version and build time, SoftDevice version,
    serial number, short product code ("XS-T01" v1, "XS-T02" v2)."""

    mac: bytes
    firmware: tuple[int, int, int]
    build: tuple[int, int, int, int, int, int]
    softdevice: int
    serial: int
    product_code: str

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> DeviceInfo:
        if len(data) != _DEVICE_INFO.size:
            raise DecodeError(PROTOCOL, f"device info is {_DEVICE_INFO.size} bytes", data)
        v = _DEVICE_INFO.unpack(data)
        try:
            code = v[12].decode("ascii")
        except UnicodeDecodeError:
            raise DecodeError(PROTOCOL, "product code is not ASCII", data) from None
        return cls(v[0], (v[1], v[2], v[3]), (v[4], v[5], v[6], v[7], v[8], v[9]), v[10], v[11], code)

    def to_bytes(self) -> bytes:
        return _DEVICE_INFO.pack(
            self.mac,
            *self.firmware,
            *self.build,
            self.softdevice,
            self.serial,
            self.product_code.encode("ascii"),
        )

    @property
    def firmware_version(self) -> str:
        return ".".join(map(str, self.firmware))

    @property
    def address(self) -> str:
        """MAC as printed (most significant byte first; it is sent least significant first)."""
        return ":".join(f"{b:02X}" for b in reversed(self.mac))


_DEVICE_CONTROL = struct.Struct("<8B16sHB5s")
VISIT_OUTPUT_RATE = 0x10


@dataclass(frozen=True)
class DeviceControl:
    """Device control (0x1002, 32 bytes). Only the output-rate field is used here: write it with
    visit index bit 4 set."""

    visit_index: int = VISIT_OUTPUT_RATE
    output_rate_hz: int = 60
    tag: str = "Movella DOT"
    filter_profile: int = 0

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> DeviceControl:
        if len(data) != _DEVICE_CONTROL.size:
            raise DecodeError(PROTOCOL, f"device control is {_DEVICE_CONTROL.size} bytes", data)
        v = _DEVICE_CONTROL.unpack(data)
        tag_length = min(v[7], 16)
        return cls(v[0], v[9], v[8][:tag_length].decode("utf-8", errors="replace"), v[10])

    def to_bytes(self) -> bytes:
        tag = self.tag.encode("utf-8")[:16]
        return _DEVICE_CONTROL.pack(
            self.visit_index, 0, 0, 10, 0, 30, 0, len(tag), tag, self.output_rate_hz, self.filter_profile, b""
        )


@dataclass(frozen=True)
class Battery:
    """Battery (0x3001): level %, charging."""

    level_pct: int
    charging: bool

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> Battery:
        if len(data) != 2 or data[0] > 100 or data[1] > 1:
            raise DecodeError(PROTOCOL, "battery is 2 bytes: level 0–100, charging 0/1", data)
        return cls(data[0], bool(data[1]))

    def to_bytes(self) -> bytes:
        return bytes([self.level_pct, int(self.charging)])
