"""Polar Measurement Data (PMD) protocol of the Polar Verity Sense and H10, from the polar-ble-sdk
technical documentation and sources (BlePMDClient, PmdDataFrame, PmdControlPointResponse).

Service FB005C80-02E7-F387-1CAD-8ACD2D8DF0C8, control point FB005C81-… (write, indicate),
data FB005C82-… (notify). Little-endian.

Control point requests: start `[0x02, type, settings…]`, each setting `[id, count = 1, value]`
with a u16 value (channels: u8); stop `[0x03, type]`. Responses `[0xF0, op, type, status, more,
settings…]`; a started ACC/GYRO stream reports its sample factor as setting 5 (f32).

Data frame: `[type, u64 timestamp ns since 2000-01-01 of the LAST sample, frame type, content]`;
frame type bit 7 set = delta compressed. Raw content: samples of x, y, z as signed little-endian
integers (ACC frame type 0: 8 bit, 1: 16 bit, 2: 24 bit; GYRO frame type 0: 16 bit).
Compressed content: one reference sample (x, y, z, 16 bit each), then blocks
`[delta bit width, sample count, packed deltas]`, deltas signed, bit-packed least significant bit
first, sample by sample and channel by channel, each added to the previous sample. Units: ACC
in mG × factor, GYRO in °/s × factor.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from sensors.ble.errors import DecodeError

PROTOCOL = "Polar PMD"
SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_POINT_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
POLAR_EPOCH_UNIX_S = 946_684_800  # 2000-01-01T00:00:00Z

CHANNELS = 3
_COMPRESSED_BIT = 0x80


class MeasurementType(IntEnum):
    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAG = 6
    SDK_MODE = 9


class Setting(IntEnum):
    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5


class OpCode(IntEnum):
    GET_SETTINGS = 0x01
    START = 0x02
    STOP = 0x03


class Status(IntEnum):
    SUCCESS = 0
    INVALID_OP_CODE = 1
    INVALID_MEASUREMENT_TYPE = 2
    NOT_SUPPORTED = 3
    INVALID_LENGTH = 4
    INVALID_PARAMETER = 5
    ALREADY_IN_STATE = 6


_VALUE_FORMAT = {Setting.CHANNELS: "<B", Setting.FACTOR: "<f"}


def _pack_settings(settings: dict[Setting, float]) -> bytes:
    out = b""
    for setting, value in settings.items():
        fmt = _VALUE_FORMAT.get(setting, "<H")
        out += bytes([setting, 1]) + struct.pack(fmt, value if fmt == "<f" else int(value))
    return out


def _unpack_settings(data: bytes, whole: bytes | bytearray) -> dict[Setting, float]:
    settings: dict[Setting, float] = {}
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise DecodeError(PROTOCOL, "setting cut short", whole)
        try:
            setting = Setting(data[offset])
        except ValueError:
            raise DecodeError(PROTOCOL, f"unknown setting id {data[offset]}", whole) from None
        count = data[offset + 1]
        fmt = _VALUE_FORMAT.get(setting, "<H")
        size = struct.calcsize(fmt)
        if count != 1 or offset + 2 + size > len(data):
            raise DecodeError(PROTOCOL, f"setting {setting.name} with {count} values or cut short", whole)
        (settings[setting],) = struct.unpack_from(fmt, data, offset + 2)
        offset += 2 + size
    return settings


@dataclass(frozen=True)
class ControlRequest:
    """A control-point write: START with settings, or STOP (settings empty)."""

    op: OpCode
    measurement: MeasurementType
    settings: dict[Setting, float] = field(default_factory=dict)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> ControlRequest:
        if len(data) < 2:
            raise DecodeError(PROTOCOL, "control request shorter than 2 bytes", data)
        try:
            op, measurement = OpCode(data[0]), MeasurementType(data[1])
        except ValueError as error:
            raise DecodeError(PROTOCOL, f"bad control request: {error}", data) from None
        if op is OpCode.STOP and len(data) != 2:
            raise DecodeError(PROTOCOL, "STOP takes 2 bytes", data)
        return cls(op, measurement, _unpack_settings(bytes(data[2:]), data))

    def to_bytes(self) -> bytes:
        return bytes([self.op, self.measurement]) + _pack_settings(self.settings)


@dataclass(frozen=True)
class ControlResponse:
    """A control-point indication answering a request."""

    op: OpCode
    measurement: MeasurementType
    status: Status
    settings: dict[Setting, float] = field(default_factory=dict)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> ControlResponse:
        if len(data) < 4 or data[0] != 0xF0:
            raise DecodeError(PROTOCOL, "control response must start 0xF0, op, type, status", data)
        try:
            op, measurement, status = OpCode(data[1]), MeasurementType(data[2]), Status(data[3])
        except ValueError as error:
            raise DecodeError(PROTOCOL, f"bad control response: {error}", data) from None
        settings = _unpack_settings(bytes(data[5:]), data) if len(data) > 5 else {}
        return cls(op, measurement, status, settings)

    def to_bytes(self) -> bytes:
        return bytes([0xF0, self.op, self.measurement, self.status, 0]) + _pack_settings(self.settings)

    @property
    def factor(self) -> float:
        return float(self.settings.get(Setting.FACTOR, 1.0))


_FRAME_HEADER = struct.Struct("<BQB")
_RAW_BITS = {
    (MeasurementType.ACC, 0): 8,
    (MeasurementType.ACC, 1): 16,
    (MeasurementType.ACC, 2): 24,
    (MeasurementType.GYRO, 0): 16,
}
_COMPRESSED_TYPES = {
    (MeasurementType.ACC, 0),
    (MeasurementType.ACC, 1),
    (MeasurementType.GYRO, 0),
    (MeasurementType.GYRO, 1),
}
_REFERENCE_BITS = 16


@dataclass(frozen=True)
class DataFrame:
    """One PMD data notification. samples: (n, 3) int counts (× factor → mG or °/s);
    timestamp_ns: Polar time (ns since 2000-01-01) of the last sample."""

    measurement: MeasurementType
    timestamp_ns: int
    frame_type: int
    compressed: bool
    samples: np.ndarray

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> DataFrame:
        if len(data) < _FRAME_HEADER.size + 1:
            raise DecodeError(PROTOCOL, "data frame shorter than its 10-byte header plus data", data)
        kind, timestamp, frame_byte = _FRAME_HEADER.unpack_from(data)
        try:
            measurement = MeasurementType(kind)
        except ValueError:
            raise DecodeError(PROTOCOL, f"unknown measurement type {kind}", data) from None
        compressed, frame_type = bool(frame_byte & _COMPRESSED_BIT), frame_byte & 0x7F
        content = bytes(data[_FRAME_HEADER.size :])
        if compressed:
            if (measurement, frame_type) not in _COMPRESSED_TYPES:
                raise DecodeError(
                    PROTOCOL, f"no decoder for compressed {measurement.name} type {frame_type}", data
                )
            samples = _decode_delta(content, data)
        else:
            bits = _RAW_BITS.get((measurement, frame_type))
            if bits is None:
                raise DecodeError(
                    PROTOCOL, f"no decoder for raw {measurement.name} frame type {frame_type}", data
                )
            samples = _decode_raw(content, bits, data)
        return cls(measurement, timestamp, frame_type, compressed, samples)

    def to_bytes(self) -> bytes:
        frame_byte = self.frame_type | (_COMPRESSED_BIT if self.compressed else 0)
        header = _FRAME_HEADER.pack(self.measurement, self.timestamp_ns, frame_byte)
        if self.compressed:
            return header + _encode_delta(np.asarray(self.samples, dtype=np.int64))
        bits = _RAW_BITS[(self.measurement, self.frame_type)]
        return header + _encode_raw(np.asarray(self.samples, dtype=np.int64), bits)


def _decode_raw(content: bytes, bits: int, whole: bytes | bytearray) -> np.ndarray:
    size = bits // 8
    if len(content) % (CHANNELS * size):
        raise DecodeError(
            PROTOCOL, f"raw content of {len(content)} bytes is not whole {bits}-bit x,y,z samples", whole
        )
    raw = np.frombuffer(content, dtype=np.uint8).reshape(-1, size).astype(np.int64)
    values = np.zeros(len(raw), dtype=np.int64)
    for k in range(size):
        values |= raw[:, k] << (8 * k)
    values = np.where(values >= 1 << (bits - 1), values - (1 << bits), values)
    return values.reshape(-1, CHANNELS)


def _encode_raw(samples: np.ndarray, bits: int) -> bytes:
    size = bits // 8
    values = samples.reshape(-1) & ((1 << bits) - 1)
    raw = np.stack([(values >> (8 * k)) & 0xFF for k in range(size)], axis=1).astype(np.uint8)
    return raw.tobytes()


def _decode_delta(content: bytes, whole: bytes | bytearray) -> np.ndarray:
    reference_size = CHANNELS * _REFERENCE_BITS // 8
    if len(content) < reference_size:
        raise DecodeError(PROTOCOL, "compressed frame without a whole reference sample", whole)
    rows = [np.frombuffer(content[:reference_size], dtype="<i2").astype(np.int64)]
    offset = reference_size
    while offset < len(content):
        if offset + 2 > len(content):
            raise DecodeError(PROTOCOL, "delta block header cut short", whole)
        width, count = content[offset], content[offset + 1]
        offset += 2
        if not 1 <= width <= 32 or count == 0:
            raise DecodeError(PROTOCOL, f"delta block with bit width {width} and {count} samples", whole)
        length = math.ceil(width * count * CHANNELS / 8)
        if offset + length > len(content):
            raise DecodeError(PROTOCOL, "delta block cut short", whole)
        bits = np.unpackbits(
            np.frombuffer(content[offset : offset + length], dtype=np.uint8), bitorder="little"
        )
        bits = bits[: width * count * CHANNELS].reshape(-1, width).astype(np.int64)
        deltas = bits @ (1 << np.arange(width, dtype=np.int64))
        deltas = np.where(bits[:, -1] == 1, deltas - (1 << width), deltas).reshape(count, CHANNELS)
        rows.extend(rows[-1] + np.cumsum(deltas, axis=0))
        offset += length
    return np.array(rows, dtype=np.int64)


def _encode_delta(samples: np.ndarray, block: int = 255) -> bytes:
    out = samples[0].astype("<i2").tobytes()
    deltas = np.diff(samples, axis=0)
    for start in range(0, len(deltas), block):
        part = deltas[start : start + block]
        biggest = int(np.max(np.abs(part))) if part.size else 0
        width = max(2, (biggest.bit_length() + 1))
        values = part.reshape(-1) & ((1 << width) - 1)
        bits = ((values[:, None] >> np.arange(width)) & 1).astype(np.uint8).reshape(-1)
        out += bytes([width, len(part)]) + np.packbits(bits, bitorder="little").tobytes()
    return out


def polar_time_ns(unix_time_s: float) -> int:
    """Polar timestamp (ns since 2000-01-01) of a Unix time."""
    return round((unix_time_s - POLAR_EPOCH_UNIX_S) * 1e9)
