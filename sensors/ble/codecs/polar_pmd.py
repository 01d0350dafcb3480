"""Polar Measurement Data (PMD) protocol of the Polar Verity Sense and H10, as the Polar BLE SDK
implements it (polarofficial/polar-ble-sdk at commit 8fb5311c8f63fd58fdd03df1b46cbb2e8f05209e,
Android sources under sources/Android/android-communications/library/src/main/java/com/polar/
androidcommunications/api/ble/model/gatt/client/pmd/: BlePMDClient.kt, PmdDataFrame.kt,
PmdSetting.kt, PmdControlPointResponse.kt, model/AccData.kt, model/GyrData.kt). The SDK's own
unit-test vectors are fixtures in tests/sensors/ble/vectors/polar_pmd.py.

Service FB005C80-02E7-F387-1CAD-8ACD2D8DF0C8, control point FB005C81-… (write, indicate),
data FB005C82-… (notify). Little-endian.

Reading the control point gives the features `[0x0F, bitmask…]` (PmdMeasurementType.fromByteArray):
bit n % 8 of byte 1 + n // 8 is set when measurement type n can be streamed (the H10: ECG and ACC;
the Verity Sense: PPG, ACC, PPI, GYRO, MAG). Control point requests: get settings `[0x01, type]`
(the response lists every value the sensor offers per setting), start `[0x02, type, settings…]`,
each setting `[id, count = 1, value]`
(value sizes per PmdSetting.typeToFieldSize: rate, resolution, range u16; range in milli-units
i32; channels u8; factor f32; security 16 bytes); stop `[0x03, type]`. Responses `[0xF0, op, type,
status, more, parameters…]`; a started stream reports its sample factor as setting 5 (f32).

Data frame: `[type & 0x3F, u64 timestamp ns since 2000-01-01 of the LAST sample, frame type,
content]`; frame type bit 7 set = delta compressed. Raw content: x, y, z signed little-endian
(ACC frame type 0: 8 bit, 1: 16 bit, 2: 24 bit; mG, the factor is not applied). Compressed
content (BlePMDClient.parseDeltaFramesAll; decoded in polar_delta): one reference sample (each
channel ceil(bits / 8) bytes), then blocks `[delta bit width, sample count, packed deltas]`,
deltas signed, bit-packed least significant bit first, sample by sample and channel by channel,
each added to the previous sample in 32-bit arithmetic. Per type (AccData.kt, GyrData.kt):

| frame byte | stream | reference | value                                   |
| 0x80       | ACC    | int16     | count × factor = G (→ × 1000 mG)        |
| 0x81       | ACC    | int16     | count × factor = mG                      |
| 0x80       | GYRO   | int16     | count × factor = °/s                     |
| 0x81       | GYRO   | float32   | IEEE-754 bit pattern → float × factor °/s |

(For float32 frames the deltas apply to the bit patterns, wrapping at 2^32.) The SDK truncates
ACC values to whole mG; `DataFrame.values` keeps the fraction.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from sensors.ble.codecs.polar_delta import decode_delta, encode_delta, little_endian_signed
from sensors.ble.errors import DecodeError

PROTOCOL = "Polar PMD"
SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_POINT_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
POLAR_EPOCH_UNIX_S = 946_684_800  # 2000-01-01T00:00:00Z

CHANNELS = 3
MEASUREMENT_TYPE_MASK = 0x3F
_COMPRESSED_BIT = 0x80


class MeasurementType(IntEnum):
    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAG = 6
    SKIN_TEMP = 7
    SDK_MODE = 9
    LOCATION = 10
    PRESSURE = 11
    TEMPERATURE = 12
    OFFLINE_RECORDING = 13
    OFFLINE_HR = 14


class Setting(IntEnum):
    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5
    SECURITY = 6


class OpCode(IntEnum):
    GET_SETTINGS = 0x01
    START = 0x02
    STOP = 0x03
    GET_SDK_MODE_SETTINGS = 0x04
    GET_STATUS = 0x05


class Status(IntEnum):
    SUCCESS = 0
    INVALID_OP_CODE = 1
    INVALID_MEASUREMENT_TYPE = 2
    NOT_SUPPORTED = 3
    INVALID_LENGTH = 4
    INVALID_PARAMETER = 5
    ALREADY_IN_STATE = 6
    INVALID_RESOLUTION = 7
    INVALID_SAMPLE_RATE = 8
    INVALID_RANGE = 9
    INVALID_MTU = 10
    INVALID_NUMBER_OF_CHANNELS = 11
    INVALID_STATE = 12
    DEVICE_IN_CHARGER = 13
    DISK_FULL = 14


_VALUE_FORMAT = {
    Setting.RANGE_MILLIUNIT: "<i",
    Setting.CHANNELS: "<B",
    Setting.FACTOR: "<f",
    Setting.SECURITY: "16s",
}
SettingValue = float | bytes


def _pack_settings(settings: dict[Setting, SettingValue]) -> bytes:
    out = b""
    for setting, value in settings.items():
        fmt = _VALUE_FORMAT.get(setting, "<H")
        packed = value if fmt == "16s" else (value if fmt == "<f" else int(value))
        out += bytes([setting, 1]) + struct.pack(fmt, packed)
    return out


def offer_bytes(offer: Mapping[Setting, tuple[SettingValue, ...]]) -> bytes:
    """Settings with every value offered, as a get-settings response carries them (the inverse of
    parse_settings): `[id, count, count values…]…`, each value sized as PmdSetting does."""
    out = b""
    for setting, values in offer.items():
        fmt = _VALUE_FORMAT.get(setting, "<H")
        out += bytes([setting, len(values)])
        out += b"".join(struct.pack(fmt, v if fmt in ("16s", "<f") else int(v)) for v in values)
    return out


def parse_settings(
    data: bytes | bytearray, whole: bytes | bytearray = b""
) -> dict[Setting, tuple[SettingValue, ...]]:
    """Settings `[id, count, count values…]…` (PmdSetting.parsePmdSettingsData): each setting's values."""
    whole = whole or data
    settings: dict[Setting, tuple[SettingValue, ...]] = {}
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise DecodeError(PROTOCOL, f"setting cut short at byte {offset}", whole)
        try:
            setting = Setting(data[offset])
        except ValueError:
            raise DecodeError(
                PROTOCOL, f"unknown setting id {data[offset]} at byte {offset}", whole
            ) from None
        count = data[offset + 1]
        fmt = _VALUE_FORMAT.get(setting, "<H")
        size = struct.calcsize(fmt)
        if offset + 2 + count * size > len(data):
            raise DecodeError(PROTOCOL, f"setting {setting.name} with {count} values cut short", whole)
        settings[setting] = tuple(
            struct.unpack_from(fmt, data, offset + 2 + k * size)[0] for k in range(count)
        )
        offset += 2 + count * size
    return settings


FEATURES_MARKER = 0x0F


@dataclass(frozen=True)
class Features:
    """What the control point reads back: the measurement types the sensor can stream."""

    measurements: frozenset[MeasurementType]

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> Features:
        if len(data) < 2 or data[0] != FEATURES_MARKER:
            raise DecodeError(PROTOCOL, "a feature read must start 0x0F and carry a bitmask", data)
        found = set()
        for kind in MeasurementType:
            byte = 1 + kind // 8
            if byte < len(data) and data[byte] >> (kind % 8) & 1:
                found.add(kind)
        return cls(frozenset(found))

    def to_bytes(self) -> bytes:
        mask = sum(1 << kind for kind in self.measurements)
        return bytes([FEATURES_MARKER]) + mask.to_bytes(2, "little")


@dataclass(frozen=True)
class ControlRequest:
    """A control-point write: START with one value per setting, or GET_SETTINGS / STOP (settings
    empty)."""

    op: OpCode
    measurement: MeasurementType
    settings: dict[Setting, SettingValue] = field(default_factory=dict)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> ControlRequest:
        if len(data) < 2:
            raise DecodeError(PROTOCOL, "control request shorter than 2 bytes", data)
        try:
            op, measurement = OpCode(data[0]), MeasurementType(data[1] & MEASUREMENT_TYPE_MASK)
        except ValueError as error:
            raise DecodeError(PROTOCOL, f"bad control request: {error}", data) from None
        if op in (OpCode.STOP, OpCode.GET_SETTINGS) and len(data) != 2:
            raise DecodeError(PROTOCOL, f"{op.name} takes 2 bytes", data)
        settings = parse_settings(bytes(data[2:]), data)
        if any(len(values) != 1 for values in settings.values()):
            raise DecodeError(PROTOCOL, "a request gives exactly one value per setting", data)
        return cls(op, measurement, {k: v[0] for k, v in settings.items()})

    def to_bytes(self) -> bytes:
        return bytes([self.op, self.measurement]) + _pack_settings(self.settings)


@dataclass(frozen=True)
class ControlResponse:
    """A control-point indication answering a request (PmdControlPointResponse): parameters are
    kept as sent; `settings` parses them."""

    op: OpCode
    measurement: MeasurementType
    status: Status
    parameters: bytes = b""
    more: bool = False

    @classmethod
    def with_settings(
        cls, op: OpCode, measurement: MeasurementType, status: Status, settings: dict[Setting, SettingValue]
    ) -> ControlResponse:
        return cls(op, measurement, status, _pack_settings(settings))

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> ControlResponse:
        if len(data) < 4 or data[0] != 0xF0:
            raise DecodeError(PROTOCOL, "control response must start 0xF0, op, type, status", data)
        try:
            op = OpCode(data[1])
            measurement = MeasurementType(data[2] & MEASUREMENT_TYPE_MASK)
            status = Status(data[3])
        except ValueError as error:
            raise DecodeError(PROTOCOL, f"bad control response: {error}", data) from None
        if status is not Status.SUCCESS:
            return cls(op, measurement, status)
        return cls(op, measurement, status, bytes(data[5:]), len(data) > 4 and data[4] != 0)

    def to_bytes(self) -> bytes:
        return bytes([0xF0, self.op, self.measurement, self.status, int(self.more)]) + self.parameters

    @property
    def settings(self) -> dict[Setting, tuple[SettingValue, ...]]:
        return parse_settings(self.parameters, self.to_bytes())

    @property
    def factor(self) -> float:
        """The sample factor of a started stream (1.0 when the response gives none)."""
        values = self.settings.get(Setting.FACTOR, ())
        factor = float(values[0]) if values else 1.0
        if not math.isfinite(factor) or factor <= 0:
            raise DecodeError(PROTOCOL, f"sample factor {factor} is not a positive number", self.to_bytes())
        return factor


@dataclass(frozen=True)
class _Encoding:
    bits: int
    is_float: bool = False
    acc_in_g: bool = False


_FRAME_HEADER = struct.Struct("<BQB")
_RAW_BITS = {(MeasurementType.ACC, 0): 8, (MeasurementType.ACC, 1): 16, (MeasurementType.ACC, 2): 24}
_COMPRESSED = {
    (MeasurementType.ACC, 0): _Encoding(16, acc_in_g=True),
    (MeasurementType.ACC, 1): _Encoding(16),
    (MeasurementType.GYRO, 0): _Encoding(16),
    (MeasurementType.GYRO, 1): _Encoding(32, is_float=True),
}


@dataclass(frozen=True)
class DataFrame:
    """One ACC or GYRO data notification. samples: (n, 3) int64, counts, or for float32 frames
    the IEEE-754 bit patterns (0 … 2^32 − 1); timestamp_ns: Polar time (ns since 2000-01-01)
    of the last sample."""

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
            measurement = MeasurementType(kind & MEASUREMENT_TYPE_MASK)
        except ValueError:
            raise DecodeError(PROTOCOL, f"unknown measurement type {kind}", data) from None
        compressed, frame_type = bool(frame_byte & _COMPRESSED_BIT), frame_byte & 0x7F
        content = bytes(data[_FRAME_HEADER.size :])
        kind_name = f"{'compressed' if compressed else 'raw'} {measurement.name} frame type {frame_type}"
        if compressed:
            encoding = _COMPRESSED.get((measurement, frame_type))
            if encoding is None:
                raise DecodeError(PROTOCOL, f"no decoder for {kind_name}", data)
            samples = decode_delta(content, CHANNELS, encoding.bits, data)
        else:
            bits = _RAW_BITS.get((measurement, frame_type))
            if bits is None:
                raise DecodeError(PROTOCOL, f"no decoder for {kind_name}", data)
            samples = _decode_raw(content, bits, data)
        return cls(measurement, timestamp, frame_type, compressed, samples)

    def to_bytes(self) -> bytes:
        frame_byte = self.frame_type | (_COMPRESSED_BIT if self.compressed else 0)
        header = _FRAME_HEADER.pack(self.measurement, self.timestamp_ns, frame_byte)
        samples = np.asarray(self.samples, dtype=np.int64)
        if self.compressed:
            return header + encode_delta(samples, _COMPRESSED[(self.measurement, self.frame_type)].bits)
        return header + _encode_raw(samples, _RAW_BITS[(self.measurement, self.frame_type)])

    @property
    def _encoding(self) -> _Encoding:
        if self.compressed:
            return _COMPRESSED[(self.measurement, self.frame_type)]
        return _Encoding(_RAW_BITS[(self.measurement, self.frame_type)])

    def values(self, factor: float) -> np.ndarray:
        """(n, 3) float: ACC in mG, GYRO in °/s, as the SDK computes them from the samples and
        the stream's factor (raw ACC frames ignore the factor, as the SDK does)."""
        encoding = self._encoding
        if encoding.is_float:
            floats = self.samples.astype(np.uint32).view(np.float32).astype(np.float64)
            return floats * factor
        counts = self.samples.astype(np.float64)
        if not self.compressed:
            return counts
        return counts * factor * (1000.0 if encoding.acc_in_g else 1.0)

    @classmethod
    def of_values(
        cls,
        measurement: MeasurementType,
        timestamp_ns: int,
        frame_byte: int,
        values: np.ndarray,
        factor: float,
    ) -> DataFrame:
        """The frame that carries `values` (n, 3; ACC mG, GYRO °/s) at `factor`: the inverse of
        `values`, rounding to whole counts and saturating integer types at their bit width."""
        compressed, frame_type = bool(frame_byte & _COMPRESSED_BIT), frame_byte & 0x7F
        key = (measurement, frame_type)
        encoding = _COMPRESSED[key] if compressed else _Encoding(_RAW_BITS[key])
        values = np.asarray(values, dtype=np.float64)
        if encoding.is_float:
            floats = (values / factor).astype(np.float32)
            samples = floats.view(np.uint32).astype(np.int64)
        else:
            scale = (factor * (1000.0 if encoding.acc_in_g else 1.0)) if compressed else 1.0
            limit = 1 << (encoding.bits - 1)
            samples = np.clip(np.round(values / scale), -limit, limit - 1).astype(np.int64)
        return cls(measurement, timestamp_ns, frame_type, compressed, samples)


def _decode_raw(content: bytes, bits: int, whole: bytes | bytearray) -> np.ndarray:
    size = bits // 8
    if len(content) % (CHANNELS * size):
        raise DecodeError(
            PROTOCOL, f"raw content of {len(content)} bytes is not whole {bits}-bit x,y,z samples", whole
        )
    return little_endian_signed(np.frombuffer(content, dtype=np.uint8), size).reshape(-1, CHANNELS)


def _encode_raw(samples: np.ndarray, bits: int) -> bytes:
    size = bits // 8
    values = samples.reshape(-1) & ((1 << bits) - 1)
    raw = np.stack([(values >> (8 * k)) & 0xFF for k in range(size)], axis=1).astype(np.uint8)
    return raw.tobytes()


def polar_time_ns(unix_time_s: float) -> int:
    """Polar timestamp (ns since 2000-01-01) of a Unix time."""
    return round((unix_time_s - POLAR_EPOCH_UNIX_S) * 1e9)
