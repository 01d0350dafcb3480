"""Codecs against byte vectors built from the vendors' documents, round trips, and fuzzing:
random or truncated bytes give DecodeError and nothing else."""

import contextlib
import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.ble.codecs import movella_dot as dot
from sensors.ble.codecs import polar_delta as delta
from sensors.ble.codecs import polar_pmd as pmd
from sensors.ble.codecs import stabmon as sm
from sensors.ble.codecs import witmotion as wit
from sensors.ble.errors import DecodeError
from sensors.constants import GRAVITY_M_S2

DECODERS = [
    sm.ImuPacket.from_bytes,
    sm.Command.from_bytes,
    sm.Status.from_bytes,
    dot.ControlCommand.from_bytes,
    dot.RateQuantities.from_bytes,
    dot.DeviceInfo.from_bytes,
    dot.DeviceControl.from_bytes,
    dot.Battery.from_bytes,
    pmd.ControlRequest.from_bytes,
    pmd.ControlResponse.from_bytes,
    pmd.DataFrame.from_bytes,
    pmd.parse_settings,
    lambda data: pmd.ControlResponse.from_bytes(data).factor,
    lambda data: pmd.DataFrame.from_bytes(data).values(0.5),
    lambda data: delta.decode_delta(data, 3, 32),
    lambda data: delta.decode_delta(data, 4, 16),
    wit.ImuPacket.from_bytes,
    lambda data: wit.PacketStream().feed(data),
    wit.RegisterWrite.from_bytes,
]


def test_stabmon_packet_bytes_as_the_profile_specifies():
    # version 1, flags 0, 2 samples, ranges acc ±4 g (1) / gyr ±1000 °/s (2), period 10 000 µs,
    # first sequence 7, first time 1 000 µs, then acc/gyr int16 counts.
    data = bytes.fromhex("01 00 02 12 1027 07000000 e803000000000000") + struct.pack(
        "<12h", 8192, 0, -8192, 0, 0, 32767, 1, 2, 3, -4, -5, -6
    )
    packet = sm.ImuPacket.from_bytes(data)
    assert packet.first_sequence == 7 and packet.period_us == 10_000
    np.testing.assert_allclose(packet.acc_m_s2[0], [GRAVITY_M_S2, 0, -GRAVITY_M_S2])  # 8192/32768·4 g
    assert packet.gyr_rad_s[0, 2] == pytest.approx(np.radians(1000 * 32767 / 32768))
    np.testing.assert_allclose(packet.device_time_s, [0.001, 0.011])
    assert packet.to_bytes() == data
    assert sm.Command.from_bytes(bytes.fromhex("03 c800 01 02 04")) == sm.Command(
        sm.Opcode.CONFIGURE, 200, 1, 2, 4
    )
    with pytest.raises(DecodeError, match="unknown packet version 2"):
        sm.ImuPacket.from_bytes(b"\x02" + data[1:])
    with pytest.raises(DecodeError, match="2 samples need 42 bytes"):
        sm.ImuPacket.from_bytes(data[:-1])


def test_movella_dot_rate_quantities_and_control_bytes_from_the_specification():
    # Table 13: start measurement in payload mode 20 = 01 01 14.
    assert dot.ControlCommand(1, 20).to_bytes() == bytes.fromhex("010114")
    # Table 15/17: u32 timestamp µs, acc 3×f32 m/s², gyro 3×f32 °/s, mag 3×int16, zero-padded to 40.
    payload = struct.pack("<I3f3f3h", 4_000_000_000, 0.5, -9.75, 0.25, 10.0, -20.0, 0.5, 4096, -4096, 0)
    data = payload + bytes(6)
    rq = dot.RateQuantities.from_bytes(data)
    assert rq.timestamp_us == 4_000_000_000 and rq.acc_m_s2 == (0.5, -9.75, 0.25)
    assert rq.gyr_deg_s == (10.0, -20.0, 0.5)
    np.testing.assert_allclose(rq.mag_au, [1.0, -1.0, 0.0])
    assert rq.to_bytes() == data
    # Bytes past 34 are not read (as Movella's xsens_dot_server reads none of them).
    assert dot.RateQuantities.from_bytes(payload + b"\x01" + bytes(5)) == rq
    info = dot.DeviceInfo(
        bytes([0x34, 0x12, 0x00, 0xCD, 0x22, 0xD4]), (2, 6, 0), (2024, 3, 1, 12, 0, 0), 7, 123456, "XS-T02"
    )
    assert len(info.to_bytes()) == 34 and dot.DeviceInfo.from_bytes(info.to_bytes()) == info
    assert info.address == "D4:22:CD:00:12:34" and info.firmware_version == "2.6.0"
    control = dot.DeviceControl(output_rate_hz=30).to_bytes()
    assert len(control) == 32 and control[0] == 0x10 and struct.unpack_from("<H", control, 24) == (30,)


def test_polar_pmd_frames_and_control_bytes_from_the_sdk_documentation():
    # Start ACC at 52 Hz, 16 bit, ±8 g: 02 02 | 00 01 34 00 | 01 01 10 00 | 02 01 08 00
    start = pmd.ControlRequest(
        pmd.OpCode.START,
        pmd.MeasurementType.ACC,
        {pmd.Setting.SAMPLE_RATE: 52, pmd.Setting.RESOLUTION: 16, pmd.Setting.RANGE: 8},
    )
    assert start.to_bytes() == bytes.fromhex("0202 00013400 01011000 02010800")
    assert pmd.ControlRequest(pmd.OpCode.STOP, pmd.MeasurementType.GYRO).to_bytes() == bytes.fromhex("0305")
    response = pmd.ControlResponse.from_bytes(
        bytes.fromhex("f0 02 02 00 00 05 01") + struct.pack("<f", 0.24399)
    )
    assert response.status is pmd.Status.SUCCESS and response.factor == pytest.approx(0.24399)
    # Statuses past ALREADY_IN_STATE are answers too (PmdControlPointResponseCode 7…14).
    assert pmd.ControlResponse.from_bytes(bytes.fromhex("f0 02 05 0b 00")).status.name == (
        "INVALID_NUMBER_OF_CHANNELS"
    )
    # H10 raw ACC, frame type 1: int16 x, y, z in mG; timestamp of the last sample.
    raw = bytes.fromhex("02 0010a5d4e8000000 01") + struct.pack("<6h", -12, 980, 33, -10, 1000, 30)
    frame = pmd.DataFrame.from_bytes(raw)
    assert frame.timestamp_ns == 1_000_000_000_000 and not frame.compressed
    assert frame.samples.tolist() == [[-12, 980, 33], [-10, 1000, 30]]
    assert frame.to_bytes() == raw
    # GYRO delta compressed: reference (1, 2, 3) then one 4-bit block of one sample (+2, −1, +3),
    # packed LSB first: 0b1111_0010 = F2, 0b0000_0011 = 03.
    compressed = bytes.fromhex("05 0000000000000000 80 010002000300 04 01 f2 03")
    assert pmd.DataFrame.from_bytes(compressed).samples.tolist() == [[1, 2, 3], [3, 1, 6]]
    with pytest.raises(DecodeError, match="delta block at byte 6 cut short"):
        pmd.DataFrame.from_bytes(compressed[:-1])


def test_witmotion_packet_scaling_from_the_manual():
    data = bytes.fromhex("5561") + struct.pack("<9h", 2048, 0, -2048, 16384, 0, 0, 0, 0, 16384)
    packet = wit.ImuPacket.from_bytes(data)
    np.testing.assert_allclose(packet.acc_m_s2, [GRAVITY_M_S2, 0, -GRAVITY_M_S2])  # 2048/32768·16 g
    assert packet.gyr_rad_s[0] == pytest.approx(np.radians(1000.0))
    assert len(wit.PacketStream().feed(data * 3).packets) == 3
    assert wit.UNLOCK.to_bytes() == bytes.fromhex("ffaa6988b5")
    assert wit.rate_write(100).to_bytes() == bytes.fromhex("ffaa030900")
    assert wit.SAVE.to_bytes() == bytes.fromhex("ffaa000000")


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), which=st.sampled_from(DECODERS))
def test_random_bytes_give_only_decode_errors(data, which):
    with contextlib.suppress(DecodeError):
        which(data)


_INT16 = st.integers(-32768, 32767)


@settings(max_examples=200, deadline=None)
@given(
    samples=st.lists(st.tuples(*[_INT16] * 6), min_size=1, max_size=sm.MAX_SAMPLES),
    sequence=st.integers(0, 2**32 - 1),
    time_us=st.integers(0, 2**64 - 1),
    cut=st.integers(1, 40),
)
def test_stabmon_round_trip_and_every_truncation_is_rejected(samples, sequence, time_us, cut):
    values = np.array(samples)
    packet = sm.ImuPacket(sequence, time_us, 5000, 3, 3, values[:, :3], values[:, 3:])
    data = packet.to_bytes()
    again = sm.ImuPacket.from_bytes(data)
    assert again.first_sequence == sequence and again.first_time_us == time_us
    np.testing.assert_array_equal(again.acc_counts, values[:, :3])
    with pytest.raises(DecodeError):
        sm.ImuPacket.from_bytes(data[: max(len(data) - cut, 0)])


@settings(max_examples=200, deadline=None)
@given(
    samples=st.lists(st.tuples(_INT16, _INT16, _INT16), min_size=1, max_size=80),
    compressed=st.booleans(),
    cut=st.integers(1, 12),
)
def test_polar_round_trip_and_truncations(samples, compressed, cut):
    values = np.array(samples)
    kind = pmd.MeasurementType.GYRO if compressed else pmd.MeasurementType.ACC
    frame = pmd.DataFrame(kind, 42, 0 if compressed else 1, compressed, values)
    data = frame.to_bytes()
    np.testing.assert_array_equal(pmd.DataFrame.from_bytes(data).samples, values)
    try:
        shorter = pmd.DataFrame.from_bytes(data[:-cut])
    except DecodeError:
        return
    assert len(shorter.samples) < len(values)  # a cut that still parses never invents samples


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=6, max_size=6),
    timestamp=st.integers(0, 2**32 - 1),
)
def test_dot_round_trip(values, timestamp):
    rq = dot.RateQuantities(timestamp, tuple(values[:3]), tuple(values[3:]), (1, -1, 7))
    again = dot.RateQuantities.from_bytes(rq.to_bytes())
    assert again == rq and all(math.isfinite(v) for v in again.acc_m_s2)


@settings(max_examples=300, deadline=None)
@given(
    case=st.sampled_from(
        [
            (sm.ImuPacket.from_bytes, 18 + 12 * 4),
            (sm.Status.from_bytes, 6),
            (dot.RateQuantities.from_bytes, 40),
            (dot.DeviceInfo.from_bytes, 34),
            (dot.DeviceControl.from_bytes, 32),
            (wit.ImuPacket.from_bytes, 20),
            (pmd.DataFrame.from_bytes, 10 + 6 * 5),
        ]
    ),
    seed=st.binary(min_size=64, max_size=64),
)
def test_random_bytes_of_the_right_length_give_only_decode_errors(case, seed):
    """Length checks alone are not the defence: right-sized garbage parses or is refused cleanly."""
    decoder, size = case
    data = (seed * 4)[:size]
    with contextlib.suppress(DecodeError):
        decoder(data)
