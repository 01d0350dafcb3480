"""WitMotion and Movella DOT codecs against the vendors' own code (fixtures in vectors/, each cited
by repository, file and commit): the bytes their SDKs write, the layouts their parsers read."""

import asyncio
import struct

import numpy as np
import pytest

from sensors.ble.codecs import movella_dot as dot
from sensors.ble.codecs import witmotion as wit
from sensors.ble.link import BleSource, LinkSettings
from sensors.ble.virtual.fleet import attach_fleet
from sensors.ble.virtual.radio import VirtualRadio
from sensors.constants import GRAVITY_M_S2
from sensors.identity import SensorFamily
from sensors.placements import Placement
from sensors.samples import SampleBlock
from sensors.simulator import DrillOptions, make_drill
from tests.sensors.ble.vectors import movella_dot as dot_vectors
from tests.sensors.ble.vectors import witmotion as wit_vectors


@pytest.mark.parametrize("rate_hz", sorted(wit_vectors.RATE_WRITES))
def test_witmotion_rate_writes_are_witmotions_own_bytes(rate_hz):
    expected, _sources = wit_vectors.RATE_WRITES[rate_hz]
    assert wit.rate_write(rate_hz).to_bytes().hex() == expected
    assert wit.RATE_CODES_HZ[wit.RegisterWrite.from_bytes(bytes.fromhex(expected)).value] == rate_hz


def test_witmotion_0x0a_is_not_200_hz():
    """REG.h: 0x0a is 125 Hz on the WT931 only; 200 Hz is 0x0b (stabmon used to write 0x0a)."""
    assert wit_vectors.NOT_A_BWT901_RATE not in wit.RATE_CODES_HZ
    assert wit.rate_write(200).value == 0x0B


def test_witmotion_unlock_save_uuids_and_scaling_are_witmotions():
    assert wit.UNLOCK.to_bytes().hex() == wit_vectors.UNLOCK[0]
    assert wit.SAVE.to_bytes().hex() == wit_vectors.SAVE[0]
    assert (wit.SERVICE_UUID, wit.NOTIFY_UUID, wit.WRITE_UUID) == wit_vectors.UUIDS
    regs = (1234, -2048, 32767, -32768, 100, 7, 16384, -1, 0)
    packet = wit.ImuPacket.from_bytes(bytes([0x55, 0x61]) + struct.pack("<9h", *regs))
    scale = wit_vectors.FULL_SCALE
    np.testing.assert_allclose(packet.acc_m_s2, np.array(regs[:3]) / 32768 * scale["acc_g"] * GRAVITY_M_S2)
    np.testing.assert_allclose(packet.gyr_rad_s, np.radians(np.array(regs[3:6]) / 32768 * scale["gyr_deg_s"]))
    np.testing.assert_allclose(
        np.array(packet.angle_counts) / 32768 * scale["angle_deg"], [90, -180 / 32768, 0]
    )


def test_a_host_asking_200_hz_of_a_virtual_witmotion_gets_200_hz():
    """The driver writes WitMotion's 200 Hz bytes over the virtual link and the virtual sensor,
    which follows the cited register map, streams at 200 Hz (0x0A would have left it at 100)."""

    async def run():
        radio = VirtualRadio(realtime=False)
        drill = make_drill("quiet-stance", DrillOptions(duration_s=5.0))
        fleet = await attach_fleet(radio, drill, (Placement.LUMBAR,), SensorFamily.WITMOTION)
        sensor = fleet[Placement.LUMBAR]
        sensor.rate_hz = 100
        source = BleSource(
            {Placement.LUMBAR: sensor.address},
            LinkSettings(rate_hz=200.0, scan_timeout_s=1.5),
            backend=radio.backend(),
            clock=radio.clock,
        )
        await source.start()
        times = []
        async for item in source.stream():
            if isinstance(item, SampleBlock):
                times.append(item.device_time_s)
                if sum(map(len, times)) > 400:
                    break
        await source.stop()
        await radio.close()
        return sensor, np.concatenate(times)

    sensor, times = asyncio.run(run())
    assert sensor.rate_hz == 200 and sensor.settings.rate_hz == 200
    np.testing.assert_allclose(np.diff(times), 1 / 200)


def test_movella_dot_control_bytes_are_movellas_own():
    assert dot.ControlCommand(1, 20).to_bytes().hex() == dot_vectors.START_RATE_QUANTITIES_WITH_MAG[0]
    assert dot.ControlCommand(0, 20).to_bytes().hex() == dot_vectors.STOP_RATE_QUANTITIES_WITH_MAG[0]
    assert (dot.CONTROL_UUID, dot.MEDIUM_PAYLOAD_UUID) == (
        dot_vectors.CONTROL_UUID,
        dot_vectors.MEDIUM_PAYLOAD_UUID,
    )


def test_movella_dot_payload_read_at_movellas_offsets():
    """A payload built field by field at the offsets Movella's client reads, padding not zero."""
    data = bytearray(40)
    fields = {
        "timestamp_us": (3_000_000_123,),
        "acc_m_s2": (0.25, -9.5, 1.125),
        "gyr_deg_s": (-250.0, 0.5, 12.75),
        "mag_au": (4096, -2048, 1),
    }
    for name, (offset, fmt, _) in dot_vectors.RATE_QUANTITIES_WITH_MAG_LAYOUT.items():
        struct.pack_into(fmt, data, offset, *fields[name])
    data[34:] = b"\xaa" * 6  # bytes the client never reads
    rq = dot.RateQuantities.from_bytes(bytes(data))
    assert rq.timestamp_us == 3_000_000_123
    assert rq.acc_m_s2 == fields["acc_m_s2"] and rq.gyr_deg_s == fields["gyr_deg_s"]
    np.testing.assert_allclose(rq.mag_au, np.array(fields["mag_au"]) / 4096)
