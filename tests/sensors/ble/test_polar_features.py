"""The Polar driver asks the sensor what it streams (the PMD feature read) and what it offers
(get settings) before starting: a Polar H10 (no gyroscope) is refused with a clear reason, and the
rate is one the sensor offers. Feature bits as the Polar SDK reads them
(PmdMeasurementType.fromByteArray: bit n % 8 of byte 1 + n // 8 is measurement type n)."""

import asyncio

import numpy as np
import pytest

from sensors.ble.codecs import polar_pmd as pmd
from sensors.ble.drivers import _start_settings
from sensors.ble.errors import ConnectionFailedError, DecodeError
from sensors.ble.link import BleSource, LinkSettings
from sensors.ble.scan import scan
from sensors.ble.virtual.fleet import attach_fleet
from sensors.ble.virtual.polar_sensor import (
    H10_OFFERS,
    H10_STREAMS,
    VERITY_OFFERS,
    PolarH10VirtualSensor,
    _refusal,
)
from sensors.ble.virtual.radio import VirtualRadio
from sensors.identity import SensorFamily
from sensors.placements import Placement
from sensors.samples import SampleBlock
from sensors.simulator import DrillOptions, make_drill
from stabmon.scan import format_sensors

T = pmd.MeasurementType


@pytest.mark.parametrize(
    ("hex_bytes", "kinds"),
    [
        ("0f0500", {T.ECG, T.ACC}),  # H10
        ("0f6e00", {T.PPG, T.ACC, T.PPI, T.GYRO, T.MAG}),  # Verity Sense
        ("0f8002", {T.SKIN_TEMP, T.SDK_MODE}),  # byte 1 bit 7, byte 2 bit 1
        ("0f0040", {T.OFFLINE_HR}),  # type 14: byte 2 bit 6
        ("0f20", {T.GYRO}),  # a sensor that sends only one bitmask byte
    ],
)
def test_feature_bits_name_the_measurement_types_as_the_sdk_reads_them(hex_bytes, kinds):
    features = pmd.Features.from_bytes(bytes.fromhex(hex_bytes))
    assert features.measurements == kinds
    assert pmd.Features.from_bytes(features.to_bytes()) == features


@pytest.mark.parametrize("hex_bytes", ["", "0f", "f00102", "000500"])
def test_a_read_that_is_not_a_feature_read_is_a_decode_error(hex_bytes):
    with pytest.raises(DecodeError, match="feature read"):
        pmd.Features.from_bytes(bytes.fromhex(hex_bytes))


def test_get_settings_request_is_two_bytes():
    request = pmd.ControlRequest(pmd.OpCode.GET_SETTINGS, T.ACC)
    assert request.to_bytes() == bytes([0x01, 0x02])
    assert pmd.ControlRequest.from_bytes(b"\x01\x02") == request
    with pytest.raises(DecodeError, match="GET_SETTINGS takes 2 bytes"):
        pmd.ControlRequest.from_bytes(b"\x01\x02\x00\x01\x34\x00")


def _connect(streams, offers, rate_hz, seconds=0.0):
    """Connect one virtual Polar sensor that reads back `streams` and offers `offers`; stream for
    `seconds` of device time and return the sample blocks."""

    async def run():
        radio = VirtualRadio(realtime=False)
        drill = make_drill("quiet-stance", DrillOptions(duration_s=seconds + 5, seed=5))
        fleet = await attach_fleet(radio, drill, (Placement.LUMBAR,), SensorFamily.POLAR_PMD, seed=5)
        sensor = fleet[Placement.LUMBAR]
        sensor.streams, sensor.offers = streams, offers
        source = BleSource(
            {Placement.LUMBAR: sensor.address},
            LinkSettings(rate_hz=rate_hz, scan_timeout_s=1.5),
            backend=radio.backend(),
            clock=radio.clock,
        )
        blocks = []
        try:
            await source.start()
            async for item in source.stream():
                if isinstance(item, SampleBlock):
                    blocks.append(item)
                    if item.device_time_s[-1] >= seconds:
                        break
        finally:
            await source.stop()
            await radio.close()
        return blocks

    return asyncio.run(run())


def test_a_polar_h10_is_refused_because_it_has_no_gyroscope():
    with pytest.raises(ConnectionFailedError, match=r"streams ACC, ECG but no GYRO.*H10 has no gyroscope"):
        _connect(H10_STREAMS, H10_OFFERS, 100.0)


def test_the_rate_is_one_both_streams_offer():
    # A sensor that offers ACC and GYRO at 25/50/100/200 Hz (not the Verity's 26/52/104/…):
    # asked for 100 Hz it streams at 100 Hz, where the Verity's rate list would have given 104.
    rates = {pmd.Setting.SAMPLE_RATE: (25, 50, 100, 200)}
    offers = {kind: {**VERITY_OFFERS[kind], **rates} for kind in VERITY_OFFERS}
    blocks = _connect(VERITY_OFFERS.keys() | {T.PPG}, offers, 100.0, seconds=2.0)
    times = np.concatenate([b.device_time_s for b in blocks])
    assert np.median(np.diff(times)) == pytest.approx(1 / 100, rel=1e-3)


def test_acc_and_gyro_with_no_rate_in_common_are_refused():
    offers = {
        T.ACC: {**VERITY_OFFERS[T.ACC], pmd.Setting.SAMPLE_RATE: (25, 50)},
        T.GYRO: {**VERITY_OFFERS[T.GYRO], pmd.Setting.SAMPLE_RATE: (52, 104)},
    }
    with pytest.raises(ConnectionFailedError, match="no sample rate in common"):
        _connect(frozenset(offers), offers, 50.0)


def test_a_scan_lists_a_polar_h10_as_unusable_and_a_verity_sense_as_usable():
    async def run():
        radio = VirtualRadio(realtime=False)
        drill = make_drill("quiet-stance", DrillOptions(duration_s=5.0))
        await attach_fleet(radio, drill, (Placement.LUMBAR,), SensorFamily.POLAR_PMD)
        strap = PolarH10VirtualSensor(radio, "A0:9E:1A:00:77:01", drill, Placement.PELVIS)
        await strap.attach()
        try:
            return await scan(1.5, radio.backend()[0])
        finally:
            await radio.close()

    found = {f.name.split()[1]: f for f in asyncio.run(run())}
    assert set(found) == {"H10", "Sense"}
    assert found["H10"].unusable == "no gyroscope: cannot be used (use a Polar Verity Sense)"
    assert found["Sense"].unusable == ""
    table = format_sensors(list(found.values())).splitlines()
    h10 = next(line for line in table if "Polar H10" in line)
    sense = next(line for line in table if "Polar Sense" in line)
    assert h10.endswith("no gyroscope: cannot be used (use a Polar Verity Sense)")
    assert "cannot be used" not in sense and table[-1].startswith("Assign them with")
    only_h10 = format_sensors([found["H10"]]).splitlines()
    assert only_h10[-1].startswith("None of them can be used")


def test_the_start_writes_every_setting_a_verity_sense_offers_as_the_pmd_layout_has_it():
    """A Verity Sense outside SDK mode offers ACC 52 Hz, 16 bit, ±8 G, 3 channels (its settings
    read: fsmeraldi/bleakheart PR #11; PolarVeritySense.md): the start names every one, each
    `[id, 1, value]` with rate, resolution and range as u16 and channels as u8 (PmdSetting)."""
    settings = _start_settings(VERITY_OFFERS[T.ACC], 52, 8)
    request = pmd.ControlRequest(pmd.OpCode.START, T.ACC, settings).to_bytes()
    assert request == bytes.fromhex("02 02  00 01 3400  01 01 1000  02 01 0800  04 01 03")
    gyro = pmd.ControlRequest(pmd.OpCode.START, T.GYRO, _start_settings(VERITY_OFFERS[T.GYRO], 52, 2000))
    assert gyro.to_bytes() == bytes.fromhex("02 05  00 01 3400  01 01 1000  02 01 d007  04 01 03")


@pytest.mark.parametrize(
    ("left_out", "status"),
    [
        ({pmd.Setting.CHANNELS}, pmd.Status.INVALID_PARAMETER),
        ({pmd.Setting.RESOLUTION}, pmd.Status.INVALID_PARAMETER),
        (set(), None),
    ],
)
def test_a_virtual_verity_sense_refuses_a_start_that_leaves_out_an_offered_setting(left_out, status):
    asked = {k: v for k, v in _start_settings(VERITY_OFFERS[T.ACC], 52, 8).items() if k not in left_out}
    assert _refusal(VERITY_OFFERS[T.ACC], asked) is status
    assert _refusal(VERITY_OFFERS[T.ACC], {**asked, pmd.Setting.SAMPLE_RATE: 104}) is (
        status or pmd.Status.INVALID_SAMPLE_RATE  # 104 Hz only in SDK mode
    )
