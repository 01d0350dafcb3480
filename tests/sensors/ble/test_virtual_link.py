"""The production BLE path (bleak → connection manager → decoders) against virtual sensors of
every family on bumble's in-process link: bytes in, SI samples out, clocks mapped, losses and
disconnections handled."""

import asyncio
import logging

import numpy as np
import pytest

from engine.factory import Impairments, record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from sensors.ble.errors import SensorNotFoundError
from sensors.ble.link import BleSource, LinkSettings
from sensors.ble.scan import scan
from sensors.ble.virtual.base import FaultPlan
from sensors.ble.virtual.fleet import attach_fleet
from sensors.ble.virtual.radio import VirtualRadio
from sensors.constants import GRAVITY_M_S2
from sensors.identity import SensorFamily
from sensors.placements import Placement
from sensors.processing import SessionRunner, SessionSettings
from sensors.processing.clock_sync import ClockSync
from sensors.samples import SampleBlock
from sensors.simulator import DrillOptions, RadioSettings, SimulatedSensorSettings, make_drill
from sensors.simulator.radio import ClockSettings
from sensors.source import LinkState
from tests.conftest import CollectingSink

PAIR = (Placement.LUMBAR, Placement.PELVIS)
SCAN = LinkSettings(rate_hz=100.0, scan_timeout_s=1.5)
# One count of each family's sample encoding, (acc m/s², gyr rad/s): the decode tolerance.
RESOLUTION = {
    SensorFamily.STABMON: (8 * GRAVITY_M_S2 / 32768, np.radians(2000 / 32768)),
    SensorFamily.MOVELLA_DOT: (1e-5, 1e-6),  # float32
    SensorFamily.POLAR_PMD: (GRAVITY_M_S2 / 1000, np.radians(2000 / 32768)),
    SensorFamily.WITMOTION: (16 * GRAVITY_M_S2 / 32768, np.radians(2000 / 32768)),
}


async def _session(
    family, drill_name, seconds, settings=None, faults=None, placements=PAIR, sinks=(), rate=100.0
):
    radio = VirtualRadio(realtime=False)
    drill = make_drill(drill_name, DrillOptions(duration_s=seconds, seed=2))
    fleet = await attach_fleet(
        radio, drill, placements, family, settings, seed=2, faults=faults, keep_sent=True
    )
    source = BleSource(
        {p: s.address for p, s in fleet.items()}, SCAN, backend=radio.backend(), clock=radio.clock
    )
    sink = CollectingSink()
    runner = SessionRunner(source, [sink, *sinks], SessionSettings(rate_hz=rate, duration_s=seconds))
    try:
        report = await asyncio.wait_for(runner.run(), 240)
    finally:
        await radio.close()
    return fleet, source, sink, report


def _received(sink: CollectingSink, placement: Placement) -> SampleBlock:
    blocks = [b for b, _ in sink.blocks if b.placement is placement]
    return SampleBlock(
        placement,
        np.concatenate([b.device_time_s for b in blocks]),
        np.concatenate([b.acc_m_s2 for b in blocks]),
        np.concatenate([b.gyr_rad_s for b in blocks]),
        np.concatenate([b.sequence for b in blocks]),
        np.concatenate([b.host_receive_ns for b in blocks]),
    )


def _sent(fleet, placement) -> SampleBlock:
    blocks = fleet[placement].sent_blocks
    return SampleBlock(
        placement,
        *(
            np.concatenate([getattr(b, name) for b in blocks])
            for name in ("device_time_s", "acc_m_s2", "gyr_rad_s", "sequence", "host_receive_ns")
        ),
    )


#: Mean notification delay beyond the fastest, s: a Verity Sense's ACC and GYRO frames end apart
#: (a pair completes with the later one, up to a third of a 1.4-s frame later).
LATENCY_S = {SensorFamily.POLAR_PMD: 0.5}


@pytest.mark.parametrize("family", list(RESOLUTION))
def test_every_family_delivers_the_sensors_samples_in_si_units(family):
    fleet, source, sink, report = asyncio.run(_session(family, "forward-bend", 12.0))
    assert report.calibrated and report.frames > 1000
    acc_lsb, gyr_lsb = RESOLUTION[family]
    for placement in PAIR:
        got, sent = _received(sink, placement), _sent(fleet, placement)
        n = min(len(got), len(sent))
        assert n > 500 and len(got) <= len(sent)
        # Device time decoded to the sensor's clock (relative for protocols with their own epoch).
        np.testing.assert_allclose(np.diff(got.device_time_s[:n]), np.diff(sent.device_time_s[:n]), atol=2e-6)
        np.testing.assert_allclose(got.acc_m_s2[:n], sent.acc_m_s2[:n], atol=0.51 * acc_lsb + 1e-9)
        np.testing.assert_allclose(got.gyr_rad_s[:n], sent.gyr_rad_s[:n], atol=0.51 * gyr_lsb + 1e-9)
        np.testing.assert_array_equal(np.diff(got.sequence[:n]), np.diff(sent.sequence[:n]))
        identity = source.sensors[placement]
        assert identity.family is family and identity.address == fleet[placement].address
        health = report.health[placement]  # the runner's live health: link figures and clock fit
        if family is not SensorFamily.WITMOTION:  # the only family without a battery characteristic
            assert health.battery_pct == fleet[placement].battery_pct
        # Drift needs minutes to pin down (see the ten-minute test); here it must merely be known.
        assert np.isfinite(health.drift_ppm) and 0 <= health.latency_s < LATENCY_S.get(family, 0.05)
    assert all(v == 0 for v in source.decode_errors().values())


#: 2 % of packets start a burst of about 4 lost: over 10 s, 50–160 samples lost per sensor on
#: these seeds (DOT 50 and 67, the other families 104 and 160), far above the 10 the test needs to
#: see; 20 s only gave 90–224, at twice the cost.
LOSSY_RUN_S = 10.0


#: A Verity Sense's frames hold 71 samples (1.4 s): about as many samples lost needs more of them lost.
LOSSY_RADIO = {SensorFamily.POLAR_PMD: RadioSettings(burst_start_probability=0.3, mean_burst_packets=1.5)}


@pytest.mark.parametrize("family", list(RESOLUTION))
def test_lost_packets_are_flagged_where_they_were_lost(family):
    radio = LOSSY_RADIO.get(family, RadioSettings(burst_start_probability=0.02, mean_burst_packets=4.0))
    lossy = SimulatedSensorSettings(radio=radio)
    fleet, _, sink, report = asyncio.run(_session(family, "quiet-stance", LOSSY_RUN_S, settings=lossy))
    for placement in PAIR:
        got, sent = _received(sink, placement), _sent(fleet, placement)
        never_sent = np.setdiff1d(np.arange(sent.sequence[0], sent.sequence[-1] + 1), sent.sequence)
        assert len(never_sent) > 10, len(never_sent)  # the radio really lost some
        offset = got.sequence[0] - sent.sequence[0]
        gaps = np.setdiff1d(np.arange(got.sequence[0], got.sequence[-1] + 1), got.sequence) - offset
        truth = never_sent[never_sent < got.sequence[-1] - offset]
        if family is SensorFamily.WITMOTION:
            # No counter on the wire: losses are inferred from silences, to within a few samples.
            assert abs(len(gaps) - len(truth)) <= 0.05 * len(truth) + 4
        else:
            np.testing.assert_array_equal(gaps, truth)
        assert report.health[placement].samples_lost == len(gaps)


#: How long each family streams, s: long enough that the 2 ppm bound on the fitted drift is at
#: least ~4 standard errors of the slope. The SE of a least-squares slope through one minimum per
#: 1 s bin over T s is σ·√(12/T)/T, σ the scatter of the minima about the line, measured on these
#: seeds over 10 min: STABMON 1.0 ms (420 s: 0.40 ppm, 5 SE), DOT 0.6 ms (360 s: 0.30 ppm, 6.6 SE;
#: its µs counter wraps at 295 s, inside), Polar 3.0 ms and WitMotion 1.5 ms (600 s: 0.71 ppm,
#: 2.8 SE and 0.36 ppm, 5.6 SE: they need the whole ten minutes). Uncorrected, 50 ppm is
#: 18–30 ms at the end, far outside the 4 ms bound in every case.
DRIFT_RUN_S = {
    SensorFamily.STABMON: 420.0,
    SensorFamily.MOVELLA_DOT: 360.0,
    SensorFamily.POLAR_PMD: 600.0,
    SensorFamily.WITMOTION: 600.0,
}


@pytest.mark.parametrize("family", list(RESOLUTION))
def test_clock_mapping_removes_50_ppm_of_drift_over_six_to_ten_minutes(family):
    """One sensor, 6–10 min (DRIFT_RUN_S) at +50 ppm (10 samples per notification where the
    protocol groups samples; the device clock started 4000 s earlier, so the DOT's µs counter
    wraps): session times (the runner's ClockSync over the link's host stamps) against the true
    sampling instants."""
    rate = 30.0 if family is SensorFamily.MOVELLA_DOT else 50.0  # a DOT sends one sample per notification
    run_s = DRIFT_RUN_S[family]
    settings = SimulatedSensorSettings(
        rate_hz=rate,
        clock=ClockSettings(offset_s=4000.0, drift_ppm=50.0),
        radio=RadioSettings(samples_per_packet=10),
    )

    async def run():
        radio = VirtualRadio(realtime=False)
        drill = make_drill("quiet-stance", DrillOptions(duration_s=run_s + 1.0, seed=4))
        fleet = await attach_fleet(
            radio, drill, (Placement.LUMBAR,), family, settings, seed=4, keep_sent=True
        )
        source = BleSource(
            {Placement.LUMBAR: fleet[Placement.LUMBAR].address},
            LinkSettings(rate_hz=rate, scan_timeout_s=1.5),
            backend=radio.backend(),
            clock=radio.clock,
        )
        await source.start()
        clock = ClockSync(source.host_origin_ns)
        times, sequences = [], []
        async for item in source.stream():
            if isinstance(item, SampleBlock):
                times.append(clock.step(item.device_time_s, item.host_receive_ns))
                sequences.append(item.sequence)
                if times[-1][-1] > run_s - 1.0:
                    break
        await source.stop()
        await radio.close()
        return fleet[Placement.LUMBAR], np.concatenate(times), np.concatenate(sequences), clock

    sensor, session_s, sequence, clock = asyncio.run(run())
    # Decoded counters may start anywhere (DOT, Polar, WitMotion derive them): align on the first.
    first_sent = sensor.sent_blocks[0]
    sequence = sequence - sequence[0] + int(first_sent.sequence[0]) if sensor.sent_blocks else sequence
    true_s = sensor.simulated.truth.sample_true_time(sequence)
    late = session_s > 60.0  # after the first minute of fitting
    error_ms = (session_s - true_s)[late] * 1e3
    assert np.abs(error_ms).max() < 4.0  # uncorrected, 50 ppm is 18 ms after 6 min, 30 after 10
    assert abs(clock.drift_ppm - 50.0) < 2.0


def test_a_dropped_sensor_reconnects_and_the_session_continues_with_the_gap_recorded(tmp_path):
    faults = {Placement.PELVIS: FaultPlan(disconnect_at_s=(6.0,), outage_s=2.0)}
    spec = SessionSpec(
        SourceSpec(
            SourceKind.VIRTUAL_BLE, SensorFamily.STABMON, PAIR, seed=2, realtime=False, scan_timeout_s=1.5
        ),
        processing=SessionSettings(rate_hz=100.0, duration_s=16.0),
    )
    sink = CollectingSink()
    done = record(
        spec,
        "GAP1",
        tmp_path / "gap.h5",
        "quiet-stance",
        16.0,
        sinks=[sink],
        impairments=Impairments(faults=faults),
    )
    report = asyncio.run(asyncio.wait_for(done, 240)).report
    states = [(s.placement, s.state) for s in sink.statuses]
    assert (Placement.PELVIS, LinkState.RECONNECTING) in states
    assert states[-1] == (Placement.PELVIS, LinkState.STREAMING)
    pelvis = _received(sink, Placement.PELVIS)
    assert np.diff(pelvis.sequence).max() == pytest.approx(200, abs=60)  # ~2 s at 100 Hz, never filled in
    assert pelvis.device_time_s[-1] > 14.0 + pelvis.device_time_s[0]  # streaming resumed
    valid = sink.frame.valid[:, sink.frame.index(Placement.PELVIS)]
    assert 1.5 < (~valid).sum() / 100.0 < 3.0 and report.calibrated
    # The recording holds the gap as counted losses and the link's status changes as events.
    rec = read_recording(tmp_path / "gap.h5")
    assert rec.lost_before[Placement.PELVIS].max() == np.diff(pelvis.sequence).max() - 1
    labels = [e.label for e in rec.events if e.source == "link"]
    assert any("pelvis reconnecting" in label for label in labels)
    assert any("reconnected after" in label for label in labels)


def test_malformed_notifications_are_counted_and_the_stream_goes_on(caplog):
    faults = {Placement.LUMBAR: FaultPlan(garbage_every=25)}
    with caplog.at_level(logging.WARNING, logger="sensors.ble.link"):
        fleet, source, _sink, report = asyncio.run(
            _session(SensorFamily.STABMON, "quiet-stance", 8.0, faults=faults)
        )
    errors = source.decode_errors()[Placement.LUMBAR]
    assert errors == pytest.approx(fleet[Placement.LUMBAR].notifications_sent / 25, abs=2)
    assert "malformed notification" in caplog.text and caplog.text.count("malformed") < 5  # rate-limited
    assert report.health[Placement.LUMBAR].samples_received > 600


def test_scan_lists_families_signal_and_battery_and_a_missing_sensor_is_named():
    async def run():
        radio = VirtualRadio(realtime=False)
        drill = make_drill("quiet-stance", DrillOptions(duration_s=5.0))
        await attach_fleet(radio, drill, (Placement.LUMBAR,), SensorFamily.STABMON)
        await attach_fleet(radio, drill, (Placement.PELVIS,), SensorFamily.MOVELLA_DOT)
        await attach_fleet(radio, drill, (Placement.THORAX,), SensorFamily.POLAR_PMD)
        found = await scan(1.5, radio.backend()[0])
        source = BleSource(
            {Placement.LUMBAR: "AA:BB:CC:DD:EE:FF"}, SCAN, backend=radio.backend(), clock=radio.clock
        )
        with pytest.raises(SensorNotFoundError, match=r"lumbar=AA:BB:CC:DD:EE:FF.*seen: .*stabmon-IMU"):
            await source.start()
        await radio.close()
        return found

    found = asyncio.run(run())
    by_family = {f.family: f for f in found}
    assert set(by_family) == {SensorFamily.STABMON, SensorFamily.MOVELLA_DOT, SensorFamily.POLAR_PMD}
    assert by_family[SensorFamily.STABMON].battery_pct == 87.0  # advertised in service data
    assert all(f.rssi_dbm < 0 for f in found)


def test_a_start_stops_scanning_once_every_assigned_sensor_is_seen():
    """The sensors advertise about once a second: a start with a 30 s scan must not wait it out."""

    async def run():
        radio = VirtualRadio(realtime=False)
        drill = make_drill("quiet-stance", DrillOptions(duration_s=5.0))
        fleet = await attach_fleet(radio, drill, PAIR, SensorFamily.STABMON)
        await attach_fleet(radio, drill, (Placement.THORAX,), SensorFamily.MOVELLA_DOT)
        loop = asyncio.get_running_loop()
        began = loop.time()
        found = await scan(30.0, radio.backend()[0], wanted=[s.address for s in fleet.values()])
        took_s = loop.time() - began
        source = BleSource(
            {p: s.address for p, s in fleet.items()},
            LinkSettings(rate_hz=100.0, scan_timeout_s=30.0),
            backend=radio.backend(),
            clock=radio.clock,
        )
        began = loop.time()
        await source.start()
        start_s = loop.time() - began
        await source.stop()
        await radio.close()
        return fleet, found, took_s, start_s

    fleet, found, took_s, start_s = asyncio.run(run())
    addresses = {f.address for f in found}
    assert {s.address for s in fleet.values()} <= addresses
    assert took_s < 15.0 and start_s < 15.0  # far under the 30 s scan: it stopped when all were seen
