"""stabmon open IMU profile, version 1 (specified in firmware_notes/stabmon-gatt-profile.md).

All multi-byte fields little-endian. One IMU data notification:

    offset size  field
    0      1     version (1)
    1      1     flags: bit 0 clock restarted (device rebooted since the previous packet)
    2      1     count n of samples in this packet (1–19)
    3      1     ranges: high nibble accelerometer range code, low nibble gyroscope range code
    4      2     sample period, µs (u16)
    6      4     sequence number of the first sample (u32, counts samples, wraps)
    10     8     device time of the first sample, µs since the sensor started (u64)
    18     12·n  samples: acc x, y, z then gyr x, y, z, int16 counts (sensor frame)

Sample k is at device time first_time_us + k·period_us and has sequence first_sequence + k.
Full scale: accelerometer ±2/4/8/16 g (codes 0–3), gyroscope ±250/500/1000/2000 °/s (codes 0–3);
one count is full scale / 32768.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from sensors.ble.errors import DecodeError
from sensors.constants import GRAVITY_M_S2

PROTOCOL = "stabmon profile"
VERSION = 1
MAX_SAMPLES = 19  # fits a 244-byte notification (ATT MTU 247)
HEADER = struct.Struct("<BBBBHIQ")
SAMPLE = np.dtype("<i2")
ACC_RANGE_G = {0: 2.0, 1: 4.0, 2: 8.0, 3: 16.0}
GYR_RANGE_DPS = {0: 250.0, 1: 500.0, 2: 1000.0, 3: 2000.0}
FLAG_CLOCK_RESTARTED = 0x01

# UUIDs: one vendor base, 16-bit short ids in bytes 2–3 (as Movella's base does).
_BASE = "5ab1{:04x}-7c3e-4d8a-9f21-3b0d5e6a7c10"
SERVICE_UUID = _BASE.format(0x1000)
IMU_DATA_UUID = _BASE.format(0x1001)
CONTROL_POINT_UUID = _BASE.format(0x1002)
STATUS_UUID = _BASE.format(0x1003)


@dataclass(frozen=True)
class ImuPacket:
    """One IMU data notification. acc_counts, gyr_counts: (n, 3) int16."""

    first_sequence: int
    first_time_us: int
    period_us: int
    acc_range_code: int
    gyr_range_code: int
    acc_counts: np.ndarray
    gyr_counts: np.ndarray
    flags: int = 0

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> ImuPacket:
        if len(data) < HEADER.size:
            raise DecodeError(PROTOCOL, f"packet shorter than its {HEADER.size}-byte header", data)
        version, flags, count, ranges, period, sequence, time_us = HEADER.unpack_from(data)
        if version != VERSION:
            raise DecodeError(
                PROTOCOL, f"unknown packet version {version} (this decoder reads {VERSION})", data
            )
        if not 1 <= count <= MAX_SAMPLES:
            raise DecodeError(PROTOCOL, f"sample count {count} outside 1–{MAX_SAMPLES}", data)
        if len(data) != HEADER.size + 12 * count:
            raise DecodeError(PROTOCOL, f"{count} samples need {HEADER.size + 12 * count} bytes", data)
        acc_code, gyr_code = ranges >> 4, ranges & 0x0F
        if acc_code not in ACC_RANGE_G or gyr_code not in GYR_RANGE_DPS:
            raise DecodeError(PROTOCOL, f"unknown range codes acc {acc_code}, gyr {gyr_code}", data)
        if period == 0:
            raise DecodeError(PROTOCOL, "sample period of 0 µs", data)
        values = np.frombuffer(bytes(data), dtype=SAMPLE, offset=HEADER.size).reshape(count, 6)
        return cls(
            sequence, time_us, period, acc_code, gyr_code, values[:, :3].copy(), values[:, 3:].copy(), flags
        )

    def to_bytes(self) -> bytes:
        n = len(self.acc_counts)
        header = HEADER.pack(
            VERSION,
            self.flags,
            n,
            (self.acc_range_code << 4) | self.gyr_range_code,
            self.period_us,
            self.first_sequence & 0xFFFFFFFF,
            self.first_time_us,
        )
        body = np.concatenate([self.acc_counts, self.gyr_counts], axis=1).astype(SAMPLE)
        return header + body.tobytes()

    @property
    def acc_m_s2(self) -> np.ndarray:
        """Specific force (n, 3), m/s²."""
        return self.acc_counts * (ACC_RANGE_G[self.acc_range_code] * GRAVITY_M_S2 / 32768.0)

    @property
    def gyr_rad_s(self) -> np.ndarray:
        """Angular velocity (n, 3), rad/s."""
        return self.gyr_counts * np.radians(GYR_RANGE_DPS[self.gyr_range_code] / 32768.0)

    @property
    def device_time_s(self) -> np.ndarray:
        """Device time of each sample (n,), s. Summed as Python ints (a u64 first time plus n
        periods can pass int64), then converted: exact to the µs for 285 years of device time."""
        times_us = [self.first_time_us + self.period_us * k for k in range(len(self.acc_counts))]
        return np.array(times_us, dtype=np.float64) * 1e-6


class Opcode(IntEnum):
    START = 0x01
    STOP = 0x02
    CONFIGURE = 0x03


_CONFIGURE = struct.Struct("<BHBBB")


@dataclass(frozen=True)
class Command:
    """A control-point write: START, STOP, or CONFIGURE(rate_hz, acc/gyr range codes, samples per
    packet)."""

    opcode: Opcode
    rate_hz: int = 0
    acc_range_code: int = 0
    gyr_range_code: int = 0
    samples_per_packet: int = 0

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> Command:
        if not data:
            raise DecodeError(PROTOCOL, "empty control-point write", data)
        try:
            opcode = Opcode(data[0])
        except ValueError:
            raise DecodeError(PROTOCOL, f"unknown opcode 0x{data[0]:02x}", data) from None
        if opcode is Opcode.CONFIGURE:
            if len(data) != _CONFIGURE.size:
                raise DecodeError(PROTOCOL, f"CONFIGURE takes {_CONFIGURE.size} bytes", data)
            _, rate, acc, gyr, spp = _CONFIGURE.unpack(data)
            return cls(opcode, rate, acc, gyr, spp)
        if len(data) != 1:
            raise DecodeError(PROTOCOL, f"{opcode.name} takes 1 byte", data)
        return cls(opcode)

    def to_bytes(self) -> bytes:
        if self.opcode is Opcode.CONFIGURE:
            return _CONFIGURE.pack(
                self.opcode, self.rate_hz, self.acc_range_code, self.gyr_range_code, self.samples_per_packet
            )
        return bytes([self.opcode])


class State(IntEnum):
    IDLE = 0
    STREAMING = 1


class Result(IntEnum):
    OK = 0
    UNKNOWN_OPCODE = 1
    INVALID_PARAMETER = 2
    BUSY = 3


_STATUS = struct.Struct("<BBHBB")


@dataclass(frozen=True)
class Status:
    """Status characteristic (read, notify after every control-point write): state, result of the
    last command, current rate (Hz), range codes, samples per packet."""

    state: State
    result: Result
    rate_hz: int
    acc_range_code: int
    gyr_range_code: int
    samples_per_packet: int

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> Status:
        if len(data) != _STATUS.size:
            raise DecodeError(PROTOCOL, f"status is {_STATUS.size} bytes", data)
        state, result, rate, ranges, spp = _STATUS.unpack(data)
        try:
            return cls(State(state), Result(result), rate, ranges >> 4, ranges & 0x0F, spp)
        except ValueError as error:
            raise DecodeError(PROTOCOL, f"bad status field: {error}", data) from None

    def to_bytes(self) -> bytes:
        ranges = (self.acc_range_code << 4) | self.gyr_range_code
        return _STATUS.pack(self.state, self.result, self.rate_hz, ranges, self.samples_per_packet)
