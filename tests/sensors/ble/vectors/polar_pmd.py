"""The Polar BLE SDK's own unit-test vectors for PMD frames, control-point responses, settings and
sample timestamps, with the values the SDK's tests expect.

Source: github.com/polarofficial/polar-ble-sdk at commit SDK_COMMIT. Each vector names the test
file (ANDROID = sources/Android/android-communications/library/src/test/java/com/polar/
androidcommunications/api/ble/model/gatt/client/pmd/, IOS = sources/iOS/ios-communications/Tests/
iOSCommunicationsTests/) and the test. Bytes are copied from the tests' byte arrays; expected
values are the tests' assertions, evaluated where the test writes them as a formula (ACC
compressed type 0: Kotlin `(factor * count * 1000f).toInt()` in float32; float32 bit patterns:
Int additions wrapping at 2^32).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SDK_REPO = "polarofficial/polar-ble-sdk"
SDK_COMMIT = "8fb5311c8f63fd58fdd03df1b46cbb2e8f05209e"
ANDROID = (
    "sources/Android/android-communications/library/src/test/java/"
    "com/polar/androidcommunications/api/ble/model/gatt/client/pmd/"
)
IOS = "sources/iOS/ios-communications/Tests/iOSCommunicationsTests/"

ACC_RAW_1 = (
    "02009435770000000001f7ffffffe703f8fffeffe503f9ffffffe503faffffffe603fafffeffe603f9ffffffe503f8ff"
    "ffffe603f8fffeffe603faffffffe503faffffffe703faffffffe503f8ffffffe603f7ffffffe603f8fffeffe603f9ff"
    "feffe703f9ff0000e603f9ffffffe603f7fffeffe503f9ffffffe503f9ffffffe503faff0000e603f9fffeffe603f8ff"
    "ffffe603f8ffffffe503f9ffffffe603f9ffffffe503faffffffe603f9ffffffe503f9ffffffe503f8fffeffe603f9ff"
    "ffffe603f9ffffffe603f9ff0000e503f9fffeffe603f8fffeffe603f7fffeffe603"
)
ACC_C0 = (
    "020094357700000000807107f06a9e8d0a38be5cbeba2f96b3ee4be5adfb42b9ebbe4cfeba2f92bfee4be4b1fb12b9ec"
    "bd3c3ebb2f8fd3de4be3b5f7d2b8edbd307e7b2f8be3ce8be2baf7a2b8eebc20be7b2f88f3cecbe1bdef52f8efbc18fe"
    "3b2f8403bfcbe0c2ef32b8f0bb044ebc2e8113af0be0c6eff2f7f1b9fc7dbc2e7d279f4bdfcaebc2f7f2b8eccd7c2e7b"
    "378f4bdecee392f7f3b8e00dfd2d774b7fcbddd2df6237f5b7d44dbd2d745b6fcbdcd7d73237f6b5c88d7d2d716b4f4b"
    "dcdcd3f236f7b4bcddfd2c6f7b3f4bdbe0cfd236f8b2b02dbe2c6c8f1fcbdae3c7a276f9"
)
ACC_C1_ANDROID = "02650000000000000081f1ff1400f00306017b0f08"
ACC_C0_SHORT = (
    "5dff9800fd0f062af2b013eca11b3ec3d0407fcd4071d8f34d00463f087b9fd73aaf3852a613ed3e130991dcfaeeef3e"
    "5410e28f7785eef24c7e04879cfcd22f10fd4feffe21ffc28104035f1345d1084adfbfb551447b50f739a1102e6f18f7"
    "9f1c364d1b0d030c1406d0fef7affffcbffff43f0117f000011000f8dfff00"
)
ACC_C1_IOS = "02660000000000000081f1ff1400f00306017b0f08"
GYR_C0 = "05ffffffffffffff7f80eaff08000d000301df00"
GYR_C1 = "050094357700000000810000803f000020410000a0411c010000a001000008cdccec0d"
MAG_C0 = "e2e6fa15490a06017f20fc"
MAG_C1 = "37ff51fd6cf600000301f802"
REF16 = "ffff0000ff7f0080"
REF32 = "00000000ffffffff00000080"
DELTA32_REAL = (
    "0000803f000020410000a0411c060000a001000008cdccec0d000008cdccec3d33331acdccec3d33331a0000c0303333"
    "1a0000c0a09999da0000c0a09999da6666a6a19999da6666a60100000e20036666a6010000e000426c450e0000e00042"
    "6c450e2bf8ed21000060fdbe93baf0939b4ccf1c060000a001000008cdccec0d000008cdccec3d33331acdccec3d3333"
    "1a0000c03033331a0000c0a09999da0000c0a09999da6666a6a19999da6666a60100000e20036666a6010000e000426c"
    "450e0000e000426c450e2bf8ed21000060fdbe93baf0939b4ccf"
)
DELTA32 = (
    "02000000193299e900dafeff2011173299e9e7a7651638db0646e7a7651638db064673413bb87a260401c90aff597707"
    "d13287bf019f213e0d91e50176ad213e0d91e50176ad920138cde50176ad920138cd00548487920138cd0054848778cb"
    "ee400054848778cbee40f1decc8b78cbee40f1decc8b173299e9f1decc8b173299e9e7a76516173299e9e7a7651638db"
    "0646e7a7651638db064673413bb87a260401c90aff597707d13287bf019f213e0d91e50176ad213e0d91e50176ad9201"
    "38cde50176ad920138cd00548487920138cd0054848778cbee40"
)
DELTA16_MULTI = (
    "c9ff12001100030941fe2b0f9c0bbf15004f00041ef1ef00f0c123e4edf4d1f1f1f5ff22de3100f1fe21021f0e2b1f00"
    "e220000e02e11e20fff1f102c5d002e0e102030a312efbba902baa0e23409e030414e3eff30f021f01e00f049e13e2d0"
    "04e222e2c20e200f2002fe000f1c32ee030a890007087c00ce2fe83a9e03041e010011194f002f12fd13ff0e100000f1"
    "c012e4ef21000001f1ffff0210102b510b4e31fc2ebf3114ec0e2f52ef030a069e040e02a888eee0079a00040a1f211e"
    "4e2efec6c002ef030102ee11030af8130000f040bfa5e7007600"
)


@dataclass(frozen=True)
class FrameVector:
    """A whole ACC/GYRO data frame and what the SDK's parser gives for it: `expected` maps a
    sample index to (x, y, z) (ACC: whole mG after the SDK's truncation; GYRO: °/s as float32);
    times in ns (Polar epoch) from the SDK's previous-timestamp rule."""

    name: str
    sources: tuple[str, ...]
    frame_hex: str
    factor: float
    previous_timestamp_ns: int
    sample_rate_hz: int
    count: int
    expected: dict[int, tuple[float, float, float]]
    last_time_ns: int
    first_time_ns: int | None = None
    abs_max: float | None = None  # every sample's |value| at most this (the test's range check)


@dataclass(frozen=True)
class DeltaVector:
    """Delta-compressed content (no frame header) decoded with `channels` and `bits`
    (BlePMDClient.parseDeltaFramesAll): `expected` maps a sample index to its first channels'
    values (for 32 bits: the unsigned bit patterns); count None: not stated by the source."""

    name: str
    sources: tuple[str, ...]
    content_hex: str
    channels: int
    bits: int
    count: int | None
    expected: dict[int, tuple[int, ...]] = field(default_factory=dict)
    cut_short: bool = False  # its last block is longer than the bytes left: the SDK throws too


FRAMES = (
    FrameVector(
        "ACC raw type 1 (0x01), 16-bit mG",
        (
            ANDROID + "model/AccDataTest.kt: process acc raw data frame type 1",
            IOS + "AccDataTest.swift: testProcessAccRawDataFrameType1",
        ),
        ACC_RAW_1,
        factor=1.0,
        previous_timestamp_ns=0,
        sample_rate_hz=52,
        count=36,
        expected={0: (-9, -1, 999), 1: (-8, -2, 997)},
        last_time_ns=2_000_000_000,
    ),
    FrameVector(
        "ACC compressed type 0 (0x80), G × factor 2.44e-4",
        (
            ANDROID + "model/AccDataTest.kt: process acc compressed data type 0",
            IOS + "AccDataTest.swift: testProcessAccCompressedFrameType0",
        ),
        ACC_C0,
        factor=2.44e-4,
        previous_timestamp_ns=100,
        sample_rate_hz=0,
        count=57,
        # counts (1905, 27376, -29282) and (2095, 27271, -29367), × 2.44e-4 × 1000, truncated
        expected={0: (464, 6679, -7144), 1: (511, 6654, -7165)},
        last_time_ns=2_000_000_000,
        first_time_ns=round(100 + (2_000_000_000 - 100) / 57),
        abs_max=8 * 1000,
    ),
    FrameVector(
        "ACC compressed type 1 (0x81), mG, Android",
        (ANDROID + "model/AccDataTest.kt: process acc compressed data type 1",),
        ACC_C1_ANDROID,
        factor=1.0,
        previous_timestamp_ns=100,
        sample_rate_hz=0,
        count=2,
        expected={0: (-15, 20, 1008), 1: (-20, 17, 1008)},
        last_time_ns=101,
        first_time_ns=100,
    ),
    FrameVector(
        "ACC compressed type 1 (0x81), mG, iOS",
        (IOS + "AccDataTest.swift: testProcessAccCompressedFrameType1",),
        ACC_C1_IOS,
        factor=1.0,
        previous_timestamp_ns=100,
        sample_rate_hz=0,
        count=2,
        expected={0: (-15, 20, 1008), 1: (-20, 17, 1008)},
        last_time_ns=102,
        first_time_ns=101,
    ),
    FrameVector(
        "GYRO compressed type 0 (0x80), int16 × factor",
        (
            ANDROID + "model/GyrDataTest.kt: process gyro compressed data type 0",
            IOS + "GyrDataTest.swift: testProcessCompressedDataType0",
        ),
        GYR_C0,
        factor=1.0,
        previous_timestamp_ns=100,
        sample_rate_hz=0,
        count=2,
        expected={0: (-22.0, 8.0, 13.0), 1: (-23.0, 11.0, 16.0)},
        last_time_ns=9_223_372_036_854_775_807,
    ),
    FrameVector(
        "GYRO compressed type 1 (0x81), float32 reference, deltas on the bit patterns",
        (ANDROID + "model/GyrDataTest.kt: process gyro compressed data type 1",),
        GYR_C1,
        factor=1.0,
        previous_timestamp_ns=100,
        sample_rate_hz=0,
        count=2,
        # bit patterns 3F800000 41200000 41A00000, then + 01A00000, + 00800000, + FDECCCCD
        expected={0: (1.0, 10.0, 20.0), 1: (10.0, 20.0, 1.100000023841858)},
        last_time_ns=2_000_000_000,
    ),
    FrameVector(
        "GYRO compressed type 1 (0x81) with factor 0.5",
        (ANDROID + "model/GyrDataTest.kt: process gyro compressed data type 1 with factor",),
        GYR_C1,
        factor=0.5,
        previous_timestamp_ns=100,
        sample_rate_hz=0,
        count=2,
        expected={0: (0.5, 5.0, 10.0), 1: (5.0, 10.0, 0.550000011920929)},
        last_time_ns=2_000_000_000,
    ),
)

DELTAS = (
    DeltaVector(
        "reference sample, 16 bit, 4 channels",
        (
            ANDROID
            + "BlePmdClientParsersTest.kt: parse reference sample when resolution16 and type is unsigned int",
        ),
        REF16,
        channels=4,
        bits=16,
        count=1,
        expected={0: (-1, 0, 32767, -32768)},
    ),
    DeltaVector(
        "reference sample, 32 bit IEEE-754 patterns",
        (
            ANDROID + "BlePmdClientParsersTest.kt: "
            "parse reference sample when resolution32 and type is decimal IEEE 754",
        ),
        REF32,
        channels=3,
        bits=32,
        count=1,
        expected={0: (0x00000000, 0xFFFFFFFF, 0x80000000)},
    ),
    DeltaVector(
        "32 bit, blocks of 28 and 32 bits (real vector 1)",
        (
            ANDROID
            + "BlePmdClientParsersTest.kt: test_parseDeltaFrameAllSamples_withResolution32_realVector1",
        ),
        DELTA32_REAL,
        channels=3,
        bits=32,
        count=1 + 6 + 3 + 6 + 3,
        expected={0: (0x3F800000, 0x41200000, 0x41A00000), 1: (0x41200000, 0x41A00000, 0x3F8CCCCD)},
    ),
    DeltaVector(
        "32 bit, one 32-bit block of 17 samples",
        (ANDROID + "BlePmdClientParsersTest.kt: test_parseDeltaFrameAllSamples_withResolution32",),
        DELTA32,
        channels=3,
        bits=32,
        count=18,
        # 2 + E9993217, E9993219 + 1665A7E7, FFFEDA00 + 4606DB38, modulo 2^32
        expected={0: (0x00000002, 0xE9993219, 0xFFFEDA00), 1: (0xE9993219, 0xFFFEDA00, 0x4605B538)},
    ),
    DeltaVector(
        "16 bit, nine blocks of 3- and 4-bit deltas",
        (ANDROID + "BlePmdClientParsersTest.kt: test_parseDeltaFrameAllSamples_multipleDeltas",),
        DELTA16_MULTI,
        channels=3,
        bits=16,
        count=1 + 9 + 30 + 10 + 20 + 10 + 30 + 10 + 10 + 10,
        expected={0: (-55, 18, 17), 1: (-54, 18, 18)},
    ),
    DeltaVector(
        "MAG compressed type 0 content: 16 bit, 3 channels",
        (
            ANDROID + "model/MagDataTest.kt: process magnetometer compressed data type 0",
            IOS + "MagDataTest.swift: testProcessMagnetometerCompressedDataType0",
        ),
        MAG_C0,
        channels=3,
        bits=16,
        count=2,
        expected={0: (-6430, 5626, 2633), 1: (-6431, 5627, 2635)},
    ),
    DeltaVector(
        "MAG compressed type 1 content: 16 bit, x, y, z, calibration status",
        (
            ANDROID + "model/MagDataTest.kt: process magnetometer compressed data type 1",
            IOS + "MagDataTest.swift: testProcessMagnetometerCompressedDataType1",
        ),
        MAG_C1,
        channels=4,
        bits=16,
        count=2,
        expected={0: (-201, -687, -2452, 0), 1: (-201, -688, -2449, 1)},
    ),
    DeltaVector(
        "ACC compressed type 0 content, short (declared in the SDK's test file, value from its comment)",
        (ANDROID + "model/AccDataTest.kt: measurementFrameAccType0Short",),
        ACC_C0_SHORT,
        channels=3,
        bits=16,
        count=None,
        expected={0: (-163,)},  # the comment names channel 0 only
        cut_short=True,
    ),
)

# Control-point responses (PmdControlPointResponse): hex, (op, measurement type, status, more,
# parameters hex), source.
RESPONSES = (
    (
        "f001020000ffffff",
        (1, 2, 0, False, "ffffff"),
        ANDROID
        + "BlePmdClientControlPointResponseTest.kt: success control point response for acc stream settings",
    ),
    (
        "f001060700",
        (1, 6, 7, False, ""),
        ANDROID
        + "BlePmdClientControlPointResponseTest.kt: failing control point response for mag stream settings",
    ),
)

# A start response carrying FACTOR = 2.5f (floatToIntBits 0x40200000) for PPG, and the factor.
FACTOR_RESPONSE = (
    "f0020100000501" + "00002040",
    2.5,
    ANDROID + "BlePmdClientTest.kt: startMeasurement - success response updates factor in currentSettings",
)

# Settings (PmdSetting(bytes)): hex, {setting id: values}, source.
SETTINGS = (
    (
        "00013400010110000204f500f401e803d007040103",
        {0: (52,), 1: (16,), 2: (245, 500, 1000, 2000), 4: (3,)},
        ANDROID + "PmdSettingTest.kt: testPmdSettingsWithRange",
    ),
    (
        "0302ffffffffff00000001010e00",
        {3: (-1, 255), 1: (14,)},
        ANDROID + "PmdSettingTest.kt: testPmdSettingWithRangeMilliUnit",
    ),
)

# Sample timestamps (PmdTimeStampUtils.getTimeStamps): (previous frame ns, frame ns, samples,
# rate Hz) -> every sample's ns, source.
TIMESTAMPS = (
    (
        (0, 10_000_000_000, 10, 1),
        tuple(k * 1_000_000_000 for k in range(1, 11)),
        ANDROID + "model/PmdTimeStampUtilsTest.kt: samples time stamps based on frequency",
    ),
    (
        (0, 1_000_000_000, 1, 1),
        (1_000_000_000,),
        ANDROID + "model/PmdTimeStampUtilsTest.kt: samples time based on frequency only one sample",
    ),
    (
        (1_000_000_000, 11_000_000_000, 10, 1),
        tuple(k * 1_000_000_000 for k in range(2, 12)),
        ANDROID + "model/PmdTimeStampUtilsTest.kt: samples time stamps based on previous time stamp test 1",
    ),
    (
        (100, 2_000_000_000, 3, 1),
        (666_666_733, 1_333_333_367, 2_000_000_000),
        ANDROID + "model/PmdTimeStampUtilsTest.kt: samples time stamps based on previous time stamp test 2",
    ),
    (
        (1_000_000_000, 2_000_000_000, 1, 1),
        (2_000_000_000,),
        ANDROID
        + "model/PmdTimeStampUtilsTest.kt: samples time stamps based on previous time stamp only one sample",
    ),
)
