"""WitMotion's stream, which carries no counter and no time: bytes built with `struct` from the
vendor's layout (WITMOTION/WitBluetooth_BWT901BLE5_0 Bwt901bleResolver.java: 20-byte packets from
a 0x55 header, 0x55 0x61 data, 0x55 0x71 register replies), timed by the simulator's radio
model, and end to end through bumble's virtual link with a BlueZ-like radio (45 ms connection
interval, 20 ms jitter) and a host that stalls for 1 s, the file read back with h5py."""

import asyncio
import itertools
import logging
import struct

import h5py
import numpy as np
import pytest

from engine.factory import Impairments, record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors.ble.admission import GateSettings
from sensors.ble.ingest import SensorIngest
from sensors.ble.stream_decoders import WitDecoder
from sensors.ble.virtual.base import FaultPlan
from sensors.constants import GRAVITY_M_S2
from sensors.identity import SensorFamily
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.simulator import RadioSettings
from sensors.simulator.radio import RadioLink

RATE = 100
HOST0 = 10**12


def data_packet(ax: int, ay: int = 0, az: int = 2048, gx: int = 0) -> bytes:
    """0x55 0x61 then nine int16 LE: acc, angular velocity, angle (vendor layout)."""
    return struct.pack("<BB9h", 0x55, 0x61, ax, ay, az, gx, 0, 0, 0, 0, 0)


def register_reply(register: int, *values: int) -> bytes:
    """0x55 0x71, the register read (u16 LE), four int16 values, zero padding to 20 bytes."""
    return struct.pack("<BBH4h8x", 0x55, 0x71, register, *values)


def _ingest() -> SensorIngest:
    return SensorIngest(Placement.PELVIS, WitDecoder(RATE), GateSettings(RATE))


def _feed(ingest: SensorIngest, notifications: list[tuple[bytes, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(sequence (n,), acc x m/s² (n,)) of what the ingest lets through."""
    blocks = [ingest.notification("ffe4", data, host_ns) for data, host_ns in notifications]
    kept = [b for b in blocks if b is not None]
    if not kept:
        return np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate([b.sequence for b in kept]), np.concatenate([b.acc_m_s2[:, 0] for b in kept])


ACC_LSB = 16 * GRAVITY_M_S2 / 32768


# The byte stream ---------------------------------------------------------------------------------


def test_packets_cut_across_notifications_with_register_replies_between_them_all_decode():
    stream = data_packet(11) + register_reply(0x3A, 1, 2, 3, 4) + data_packet(12) + data_packet(13)
    cuts = [0, 7, 13, 20, 33, 47, 60, len(stream)]  # notifications of 7, 6, 7, 13, 14, 13, 20 bytes
    ingest = _ingest()
    pieces = [stream[a:b] for a, b in itertools.pairwise(cuts)]
    notifications = [(piece, HOST0 + k * 10_000_000) for k, piece in enumerate(pieces)]
    sequence, acc_x = _feed(ingest, notifications)
    np.testing.assert_allclose(acc_x, np.array([11, 12, 13]) * ACC_LSB)
    assert np.all(np.diff(sequence) == 1)
    assert ingest.decode_errors == 0  # a register reply is no error
    assert ingest.decoder.register_replies == 1


def test_stray_bytes_are_skipped_and_said_and_a_cut_packet_is_not_completed_by_the_next(caplog):
    ingest = _ingest()
    with caplog.at_level(logging.WARNING, logger="sensors.ble.ingest"):
        _, acc_x = _feed(
            ingest,
            [
                (b"\x00\x13" + data_packet(21), HOST0),
                (data_packet(22)[:12], HOST0 + 10_000_000),  # cut short: the rest never comes
                (data_packet(23), HOST0 + 20_000_000),
            ],
        )
    np.testing.assert_allclose(acc_x, np.array([21, 23]) * ACC_LSB)
    assert ingest.decode_errors == 2
    assert "WitMotion: 2 bytes that are no packet (00 13)" in caplog.text


# Duplicates --------------------------------------------------------------------------------------


def test_a_notification_repeated_byte_for_byte_is_dropped_as_a_duplicate_and_said_so(caplog):
    """A still sensor's accelerometer differs by a few counts from packet to packet (noise in the
    last bits), so a repeat is a delivery repeated: dropped and counted as for a DOT."""
    ingest = _ingest()
    packets = [data_packet(ax) for ax in (5, -3, 2, 7)]
    sent = [packets[0], packets[1], packets[1], packets[2], packets[3]]
    with caplog.at_level(logging.WARNING, logger="sensors.ble.admission"):
        sequence, acc_x = _feed(ingest, [(p, HOST0 + k * 10_000_000) for k, p in enumerate(sent)])
    np.testing.assert_allclose(acc_x, np.array([5, -3, 2, 7]) * ACC_LSB)
    assert sequence.tolist() == [0, 1, 2, 3]
    assert ingest.gate.counts.duplicates == 1
    assert "a notification came twice; the copy was dropped" in caplog.text


def test_a_sensor_sending_the_same_packet_three_times_running_keeps_all_but_the_first_repeat():
    ingest = _ingest()
    sent = [data_packet(4), data_packet(4), data_packet(4), data_packet(4), data_packet(9)]
    sequence, _ = _feed(ingest, [(p, HOST0 + k * 10_000_000) for k, p in enumerate(sent)])
    assert len(sequence) == 4 and ingest.gate.counts.duplicates == 1


# Timing: each packet is the next sample; losses only from a sustained shortfall -------------------

#: BlueZ's usual connection interval (30–50 ms) and host jitter: the auditor's radio.
BLUEZ = {"samples_per_packet": 1, "connection_interval_s": 0.045, "jitter_mean_s": 0.02}


def _through_radio(
    radio: RadioSettings, seconds: float, seed: int
) -> tuple[np.ndarray, np.ndarray, WitDecoder]:
    """One packet per sample at RATE for `seconds`, each notification stamped with the
    simulator radio's arrival time: (true index of each delivered packet (m,), sequence the
    ingest gives them (m,), decoder)."""
    link = RadioLink(radio, np.random.SeedSequence(seed))
    delivered, arrival_s = link.transmit(np.arange(round(seconds * RATE)) / RATE)
    noise = np.random.default_rng(seed).integers(-40, 40, (len(delivered), 3))  # a still sensor's LSBs
    ingest = _ingest()
    sent = np.flatnonzero(delivered)
    notifications = [(data_packet(*map(int, noise[k])), HOST0 + round(arrival_s[k] * 1e9)) for k in sent]
    sequence, _ = _feed(ingest, notifications)
    assert isinstance(ingest.decoder, WitDecoder)
    return sent, sequence, ingest.decoder


def test_a_one_second_host_stall_on_a_bluez_link_adds_no_gap_and_no_delay():
    sent, sequence, decoder = _through_radio(RadioSettings(**BLUEZ, host_stalls=((8.0, 1.0),)), 30.0, seed=1)
    assert len(sent) == 3000  # nothing lost on the way
    np.testing.assert_array_equal(sequence, np.arange(len(sequence)))
    assert len(sequence) >= 2990 and decoder.lost_samples == 0  # the last few may still wait


@pytest.mark.parametrize(
    ("seed", "bursts"),
    [
        (8, 3),  # 41, 21 and 85 lost, the first on the host stall's heels
        (3, 4),  # 15 and 119 lost 1.3 s apart (one hold), then 98 and 105
    ],
)
def test_losses_on_a_bluez_link_are_counted_where_they_happened(seed, bursts):
    """Bursts of packets lost on the radio: each found to within a sample, at the packet where
    it happened, two in one 2-s stretch as well."""
    stalled = {**BLUEZ, "host_stalls": ((8.0, 1.0),)}
    radio = RadioSettings(**stalled, burst_start_probability=0.001, mean_burst_packets=40)
    sent, sequence, decoder = _through_radio(radio, 30.0, seed=seed)
    true_gaps = np.diff(sent) - 1
    assert np.count_nonzero(true_gaps) == bursts  # what the radio lost on this seed
    n = len(sequence)
    found = np.diff(sequence) - 1
    assert np.array_equal(np.flatnonzero(found), np.flatnonzero(true_gaps[: n - 1]))
    np.testing.assert_allclose(found[found > 0], true_gaps[: n - 1][found > 0], atol=1)
    assert decoder.lost_samples == int(found.sum())


def test_packets_held_when_the_stream_ends_are_given_up_with_the_loss_their_delay_shows():
    """20 packets lost after 2 s at 100 Hz; 0.8 s later (before confirm_s) the stream ends: the
    80 packets held since are drained, after a gap of 20, and said to be judged unconfirmed."""
    ingest = _ingest()
    arrivals = [(k, HOST0 + k * 10_000_000 + 5_000_000) for k in [*range(200), *range(220, 300)]]
    sequence, _ = _feed(ingest, [(data_packet(k), ns) for k, ns in arrivals])
    assert sequence.tolist() == list(range(200))  # the late ones are held
    block, unsure = ingest.drain()
    assert block is not None
    assert block.sequence.tolist() == list(range(220, 300))
    np.testing.assert_allclose(block.acc_m_s2[:, 0], np.arange(220, 300) * ACC_LSB)
    assert "80 samples held back" in unsure and "before it was confirmed" in unsure
    assert ingest.tracker.samples_lost == 20 and ingest.decoder.lost_samples == 20
    assert ingest.drain() == (None, "")  # nothing twice


# End to end: the virtual link, the recording, the file read back ---------------------------------

SECONDS = 14.0
STALL = (5.0, 1.0)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A WitMotion session on bumble's link with the BlueZ-like radio and a 1-s host stall at 5 s
    for both sensors; the pelvis also loses bursts of packets and has every 37th notification
    delivered twice. Returns (file, report, blocks each sensor sent, pelvis notifications sent)."""
    bluez = {**BLUEZ, "host_stalls": (STALL,)}
    radio = {
        Placement.LUMBAR: RadioSettings(**bluez),
        Placement.PELVIS: RadioSettings(**bluez, burst_start_probability=0.002, mean_burst_packets=30),
    }
    logs: list[list] = []

    def sent_log() -> list:
        logs.append([])
        return logs[-1]

    spec = SessionSpec(
        SourceSpec(SourceKind.VIRTUAL_BLE, SensorFamily.WITMOTION, seed=3, realtime=False),
        processing=SessionSettings(rate_hz=float(RATE), duration_s=SECONDS),
    )
    impairments = Impairments(
        radio=radio,
        faults={Placement.PELVIS: FaultPlan(duplicate_every=37)},
        keep_sent=True,
        sent_log=sent_log,
    )
    path = tmp_path_factory.mktemp("wit") / "wit.h5"
    done = asyncio.run(record(spec, "W1", path, "quiet-stance", SECONDS + 1.0, impairments=impairments))
    sent = {Placement.LUMBAR: logs[0], Placement.PELVIS: logs[2]}  # (sent, spoiled) per sensor
    return done.path, done.report, sent, done.opened.fleet[Placement.PELVIS].notifications_sent


def _file(path, placement: Placement) -> tuple[np.ndarray, np.ndarray]:
    with h5py.File(path, "r") as f:
        group = f[f"acquisition/{placement.value}"]
        return group["sequence"][:], group["session_time_s"][:]


def _truth(blocks) -> tuple[np.ndarray, np.ndarray]:
    """The sensor's own counter and clock (s) of every sample it sent."""
    return np.concatenate([b.sequence for b in blocks]), np.concatenate([b.device_time_s for b in blocks])


def test_the_stall_invents_no_gap_and_shifts_no_sample(recorded):
    path, report, sent, _ = recorded
    sequence, session_s = _file(path, Placement.LUMBAR)
    true_sequence, true_s = _truth(sent[Placement.LUMBAR])
    n = len(sequence)
    assert n > (SECONDS - 1) * RATE and np.all(np.diff(true_sequence[:n]) == 1)
    assert np.all(np.diff(sequence) == 1)  # no invented gap
    assert report.health[Placement.LUMBAR].samples_lost == 0
    # Each sample where the sensor took it: session time against the sensor's own clock stays
    # put across the stall (it moved by the stall's whole second before), to the clock fit's
    # spread over a 45-ms connection interval.
    offset = session_s - true_s[:n]
    offset -= np.median(offset)
    assert np.abs(offset).max() < 0.02


def test_real_losses_and_duplicated_notifications_are_counted(recorded):
    path, report, sent, notifications = recorded
    sequence, session_s = _file(path, Placement.PELVIS)
    true_sequence, true_s = _truth(sent[Placement.PELVIS])
    n = len(sequence)
    true_lost = int(np.sum(np.diff(true_sequence[:n]) - 1))
    assert true_lost > 50  # the radio did lose some
    health = report.health[Placement.PELVIS]
    # Each loss to within a sample or two (a loss is measured from the packet rate).
    assert abs(health.samples_lost - true_lost) <= 2 * np.count_nonzero(np.diff(true_sequence[:n]) > 1)
    assert health.samples_lost == int(np.sum(np.diff(sequence) - 1))
    # Every 37th notification came twice: each copy dropped and counted, none a sample.
    assert notifications // 37 - 1 <= health.duplicates <= notifications // 37
    assert n <= len(true_sequence)
    offset = session_s - true_s[:n]
    offset -= np.median(offset)
    assert np.abs(offset).max() < 0.03
