"""WitMotion BWT901BLE / WT901BLE notifications and register writes, from the WitMotion
BWT901BLE manual (communication protocol) as summarised in ../shared/SENSORS.md, checked against
WitMotion's own code (fixtures in tests/sensors/ble/vectors/witmotion.py): the BLE 5.0 SDK
WITMOTION/WitBluetooth_BWT901BLE5_0 @ 9efaab0fdd6a06dc807bf80402e58aa91b431c6f (DeviceModel.java
SetRRate, Bwt901ble5UI.cs SetRRate200, BWT901BLE.cs UnlockReg, Bwt901bleProcessor.cs scaling) and
the register map REG.h of WITMOTION/WitStandardProtocol_JY901 @
e8f4e3afc02263e2ef15052dc758f45efaebe12f (RRATE_200HZ = 0x0b; 0x0a is 125 Hz, WT931 only).

Service 0000ffe5-…, notify 0000ffe4-…, write 0000ffe9-…. A data packet is 20 bytes:
`0x55 0x61` then nine int16 LE: acc x, y, z (/32768 × 16 g), angular velocity x, y, z
(/32768 × 2000 °/s), angle roll, pitch, yaw (/32768 × 180 °). A notification may carry several
packets back to back, or a packet may be cut across two (WitMotion's own resolver reads the
characteristic as a byte stream: `PacketStream`), and 0x55 0x71 register replies come on the same
characteristic. No timestamp and no counter: time comes from the host (see the stream
decoder). Register write: `0xFF 0xAA reg value(u16 LE)`; unlock `FF AA 69 88 B5`, rate register
0x03 (0x06 = 10 Hz, 0x07 = 20 Hz, 0x08 = 50 Hz, 0x09 = 100 Hz, 0x0B = 200 Hz), save `FF AA 00 00 00`.
WitMotion's Android SDK writes the rate without unlocking; the driver unlocks first all the same
(harmless, and what the C# SDK's UnlockReg is for).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from sensors.ble.errors import DecodeError
from sensors.constants import GRAVITY_M_S2

PROTOCOL = "WitMotion"
SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"

PACKET_BYTES = 20
_PACKET = struct.Struct("<BB9h")
_HEADER = (0x55, 0x61)
RATE_CODES_HZ = {0x06: 10, 0x07: 20, 0x08: 50, 0x09: 100, 0x0B: 200}  # REG.h RRATE_*


@dataclass(frozen=True)
class ImuPacket:
    """One 0x55 0x61 packet: acc, gyr and angle counts, each (3,) int16."""

    acc_counts: tuple[int, int, int]
    gyr_counts: tuple[int, int, int]
    angle_counts: tuple[int, int, int] = (0, 0, 0)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> ImuPacket:
        if len(data) != PACKET_BYTES:
            raise DecodeError(PROTOCOL, f"packet is {PACKET_BYTES} bytes", data)
        values = _PACKET.unpack(data)
        if values[:2] != _HEADER:
            raise DecodeError(PROTOCOL, "packet does not start 0x55 0x61", data)
        return cls(values[2:5], values[5:8], values[8:11])

    def to_bytes(self) -> bytes:
        return _PACKET.pack(*_HEADER, *self.acc_counts, *self.gyr_counts, *self.angle_counts)

    @property
    def acc_m_s2(self) -> np.ndarray:
        return np.asarray(self.acc_counts, dtype=float) * (16.0 * GRAVITY_M_S2 / 32768.0)

    @property
    def gyr_rad_s(self) -> np.ndarray:
        return np.asarray(self.gyr_counts, dtype=float) * np.radians(2000.0 / 32768.0)


@dataclass(frozen=True)
class StreamPiece:
    """What some bytes of the stream held: data packets, register replies (0x55 0x71, answers to
    `FF AA 27 reg 00` reads; not samples) and skipped bytes (neither: noise, a cut packet)."""

    packets: list[ImuPacket]
    register_replies: int
    skipped: bytes


class PacketStream:
    """The notify characteristic read as a byte stream, as WitMotion's own resolver reads it
    (Bwt901bleResolver.passiveReceiveData: bytes buffered across notifications, 20-byte packets
    taken from a 0x55 header, only 0x55 0x61 decoded). Beyond it: a 0x55 0x71 register reply is
    stepped over whole, bytes before a header are skipped and said so, and a packet cut short (the
    next notification starts with a header where the rest should be) is dropped, not completed
    with the next packet's bytes."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes | bytearray) -> StreamPiece:
        """The packets these bytes complete; a packet's tail stays buffered for the next call."""
        buffer = self._buffer
        skipped = bytearray()
        if buffer and _starts_packet(data):
            need = PACKET_BYTES - len(buffer)
            if not (len(data) > need and data[need] == _HEADER[0]):
                skipped += buffer  # cut short: the new notification starts a packet of its own
                buffer.clear()
        buffer += data
        packets: list[ImuPacket] = []
        replies = 0
        i = 0
        while i < len(buffer):
            start = buffer.find(_HEADER[0], i)
            if start < 0:
                start = len(buffer)
            skipped += buffer[i:start]
            i = start
            if len(buffer) - i < 2:
                break  # a header's first byte: its flag comes with the next notification
            if buffer[i + 1] not in _FLAGS:
                skipped.append(buffer[i])
                i += 1
                continue
            if len(buffer) - i < PACKET_BYTES:
                break
            if buffer[i + 1] == _HEADER[1]:
                packets.append(ImuPacket.from_bytes(bytes(buffer[i : i + PACKET_BYTES])))
            else:
                replies += 1
            i += PACKET_BYTES
        del buffer[:i]
        return StreamPiece(packets, replies, bytes(skipped))


_REPLY_FLAG = 0x71
_FLAGS = (_HEADER[1], _REPLY_FLAG)


def _starts_packet(data: bytes | bytearray) -> bool:
    return len(data) >= 2 and data[0] == _HEADER[0] and data[1] in _FLAGS


_REGISTER = struct.Struct("<BBBH")


@dataclass(frozen=True)
class RegisterWrite:
    """`FF AA reg value`: a configuration register write."""

    register: int
    value: int

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> RegisterWrite:
        if len(data) != _REGISTER.size or data[0] != 0xFF or data[1] != 0xAA:
            raise DecodeError(PROTOCOL, "register write is 5 bytes starting FF AA", data)
        _, _, register, value = _REGISTER.unpack(data)
        return cls(register, value)

    def to_bytes(self) -> bytes:
        return _REGISTER.pack(0xFF, 0xAA, self.register, self.value)


UNLOCK = RegisterWrite(0x69, 0xB588)
SAVE = RegisterWrite(0x00, 0x0000)
RATE_REGISTER = 0x03


def rate_write(rate_hz: int) -> RegisterWrite:
    """The register write that sets the output rate (10, 20, 50, 100 or 200 Hz)."""
    for code, hz in RATE_CODES_HZ.items():
        if hz == rate_hz:
            return RegisterWrite(RATE_REGISTER, code)
    raise ValueError(f"WitMotion rates are {sorted(RATE_CODES_HZ.values())} Hz, not {rate_hz}")
