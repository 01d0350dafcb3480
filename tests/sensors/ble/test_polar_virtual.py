"""The virtual Verity Sense speaks what a real one does: ACC 0x80 frames (G × factor) and GYRO
0x80 or 0x81 (float32) frames, the two streams framed and timed independently; and the
production path (bleak driver → PolarDecoder) gets the sensor's samples back from it, with
lossy radio too."""

import asyncio

import numpy as np

from sensors.ble.codecs import polar_pmd as pmd
from sensors.ble.link import BleSource, LinkSettings
from sensors.ble.virtual.fleet import attach_fleet
from sensors.ble.virtual.polar_sensor import ACC_FACTOR, CLOCK_BASE_NS
from sensors.ble.virtual.radio import VirtualRadio
from sensors.constants import GRAVITY_M_S2
from sensors.identity import SensorFamily
from sensors.placements import Placement
from sensors.samples import SampleBlock
from sensors.simulator import DrillOptions, RadioSettings, SimulatedSensorSettings, make_drill


def _block(first, n):
    k = np.arange(first, first + n)
    return SampleBlock(
        Placement.LUMBAR,
        k / 52.0,
        np.stack([k * 0.01, np.zeros(n), np.full(n, 9.81)], 1),
        np.stack([np.zeros(n), k * 0.001, np.zeros(n)], 1),
        k,
        np.full(n, 1_000_000 * first),
    )


async def _sensor():
    radio = VirtualRadio(realtime=False)
    drill = make_drill("quiet-stance", DrillOptions(duration_s=5.0))
    fleet = await attach_fleet(radio, drill, (Placement.LUMBAR,), SensorFamily.POLAR_PMD)
    await radio.close()
    return fleet[Placement.LUMBAR]


def test_acc_and_gyro_frames_differ_in_size_and_time_and_carry_the_sdks_types():
    sensor = asyncio.run(_sensor())
    frames = [pmd.DataFrame.from_bytes(p) for k in range(6) for _, p in sensor.encode(_block(12 * k, 12))]
    acc = [f for f in frames if f.measurement is pmd.MeasurementType.ACC]
    gyr = [f for f in frames if f.measurement is pmd.MeasurementType.GYRO]
    assert {(f.frame_type, f.compressed) for f in acc} == {(0, True)}  # 0x80: G × factor
    assert {(f.frame_type, f.compressed) for f in gyr} == {(0, True)}
    assert {len(f.samples) for f in acc} == {12} and len({len(f.samples) for f in gyr}) > 1
    shared = {f.timestamp_ns for f in acc} & {f.timestamp_ns for f in gyr}
    assert 0 < len(shared) < len(gyr)  # frame ends wander, and line up now and then
    # ACC counts are G / factor: sample 0 of block 0 is 9.81 m/s² ≈ 1 G on z.
    np.testing.assert_allclose(acc[0].values(ACC_FACTOR)[0, 2], 9.81 / GRAVITY_M_S2 * 1000, atol=0.123)
    assert acc[-1].timestamp_ns == CLOCK_BASE_NS + round(71 / 52 * 1e9)
    # GYRO samples go out in order, each once; only the last block's held-back tail is pending.
    sent = np.concatenate([f.values(sensor._factor(pmd.MeasurementType.GYRO))[:, 1] for f in gyr])
    np.testing.assert_allclose(np.degrees(np.arange(len(sent)) * 0.001), sent, atol=0.031)
    assert 72 - len(sent) in (0, 12 // 3, 12 // 6)


def _stream(gyro_frame_byte, radio_settings=None, seconds=8.0):
    async def run():
        radio = VirtualRadio(realtime=False)
        drill = make_drill("forward-bend", DrillOptions(duration_s=seconds + 6, seed=3))
        settings = SimulatedSensorSettings(radio=radio_settings or RadioSettings())
        fleet = await attach_fleet(
            radio, drill, (Placement.LUMBAR,), SensorFamily.POLAR_PMD, settings, seed=3, keep_sent=True
        )
        sensor = fleet[Placement.LUMBAR]
        sensor.gyro_frame_byte = gyro_frame_byte
        source = BleSource(
            {Placement.LUMBAR: sensor.address},
            LinkSettings(rate_hz=52.0, scan_timeout_s=1.5),
            backend=radio.backend(),
            clock=radio.clock,
        )
        await source.start()
        blocks = []
        async for item in source.stream():
            if isinstance(item, SampleBlock):
                blocks.append(item)
                if item.device_time_s[-1] - blocks[0].device_time_s[0] > seconds:
                    break
        await source.stop()
        await radio.close()
        return sensor, blocks, source

    return asyncio.run(run())


def _compare(sensor, blocks, gyr_atol):
    got_seq = np.concatenate([b.sequence for b in blocks])
    sent = {int(s): k for k, s in enumerate(np.concatenate([b.sequence for b in sensor.sent_blocks]))}
    sent_acc = np.concatenate([b.acc_m_s2 for b in sensor.sent_blocks])
    sent_gyr = np.concatenate([b.gyr_rad_s for b in sensor.sent_blocks])
    offset = int(sensor.sent_blocks[0].sequence[0]) - int(got_seq[0])
    index = np.array([sent[int(s) + offset] for s in got_seq])
    np.testing.assert_allclose(
        np.concatenate([b.acc_m_s2 for b in blocks]), sent_acc[index], atol=ACC_FACTOR * 9.81
    )
    np.testing.assert_allclose(np.concatenate([b.gyr_rad_s for b in blocks]), sent_gyr[index], atol=gyr_atol)
    return got_seq + offset, np.array(sorted(sent))


def test_a_virtual_session_with_float32_gyro_frames_decodes_exactly():
    sensor, blocks, source = _stream(0x81)
    got, _ = _compare(sensor, blocks, gyr_atol=1e-6)  # float32 °/s
    assert len(got) > 52 * 7 and np.all(np.diff(got) == 1)
    assert all(v == 0 for v in source.decode_errors().values())


def test_a_lossy_virtual_session_pairs_across_the_losses():
    # Frames of 71 samples, 1.4 s apart: three in ten start a loss of one or two.
    lossy = RadioSettings(burst_start_probability=0.3, mean_burst_packets=1.5)
    sensor, blocks, _ = _stream(0x80, lossy, seconds=12.0)
    got, sent = _compare(sensor, blocks, gyr_atol=np.radians(2000 / 32768))
    never_sent = np.setdiff1d(np.arange(sent[0], sent[-1] + 1), sent)
    assert len(never_sent) >= 71
    gaps = np.setdiff1d(np.arange(got[0], got[-1] + 1), got)
    np.testing.assert_array_equal(gaps, never_sent[(never_sent > got[0]) & (never_sent < got[-1])])
