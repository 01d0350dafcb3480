"""Well-formed but wrong notifications through the link's path after the queue (real stream
decoders, the admission gate, health), and random bytes: whatever arrives, what reaches the
session is in order, plausible, counted when kept out, and every sample in it was sent."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensors.ble.admission import GateSettings
from sensors.ble.codecs import movella_dot as dot
from sensors.ble.codecs import stabmon as profile
from sensors.ble.ingest import SensorIngest
from sensors.ble.polar_decoder import PolarDecoder
from sensors.ble.stream_decoders import DotDecoder, StabmonDecoder, WitDecoder
from sensors.constants import GRAVITY_M_S2
from sensors.health import health_warnings
from sensors.placements import Placement
from sensors.source import LinkState

RATE = 100.0
PERIOD_US = 10_000
N = 4  # samples per packet
ISSUE_BYTES = bytes.fromhex("010001231027000000000000000000000080") + bytes(12)


def packet(sequence: int, time_us: int | None = None, n: int = N, flags: int = 0, value: int = 0) -> bytes:
    """A stabmon packet of n samples, first counter `sequence` (wrapped to u32), first time
    (default: the counter's), every count `value` + its index (so samples are recognisable)."""
    time_us = sequence * PERIOD_US if time_us is None else time_us
    counts = (np.arange(n * 3).reshape(n, 3) + value).astype(np.int16)
    return profile.ImuPacket(
        sequence & 0xFFFFFFFF, time_us, PERIOD_US, 2, 3, counts, -counts, flags
    ).to_bytes()


def stabmon_ingest() -> SensorIngest:
    return SensorIngest(Placement.LUMBAR, StabmonDecoder(), GateSettings(rate_hz=RATE))


def feed(ingest: SensorIngest, notifications: list[tuple[bytes, float]]):
    """(bytes, host time s) in order → the blocks delivered."""
    blocks = []
    for data, host_s in notifications:
        block = ingest.notification(profile.IMU_DATA_UUID, data, round(host_s * 1e9))
        if block is not None:
            blocks.append(block)
    return blocks


def stream(first: int, count: int, start_host_s: float = 0.05) -> list[tuple[bytes, float]]:
    """count consecutive packets from counter `first`, each received 50 ms after its first sample."""
    return [(packet(first + N * k), (first + N * k) / RATE + start_host_s) for k in range(count)]


def check_in_order(blocks) -> np.ndarray:
    """The delivered sequence, checked strictly increasing with strictly increasing device time."""
    sequence = np.concatenate([b.sequence for b in blocks])
    device = np.concatenate([b.device_time_s for b in blocks])
    assert np.all(np.diff(sequence) > 0) and np.all(np.diff(device) > 0)
    return sequence


def test_the_issues_packet_with_a_first_time_past_int64_decodes_to_its_time():
    # Before: OverflowError from ImuPacket.device_time_s, which ended the session.
    times = profile.ImuPacket.from_bytes(ISSUE_BYTES).device_time_s
    assert times.tolist() == [2**63 * 1e-6]
    last = profile.ImuPacket.from_bytes(
        profile.HEADER.pack(1, 0, 2, 0x23, 10_000, 0, 2**64 - 1) + bytes(24)
    ).device_time_s
    assert last[0] == (2**64 - 1) * 1e-6


def test_the_issues_packet_mid_stream_is_rejected_and_counted_not_fatal():
    ingest = stabmon_ingest()
    notifications = stream(0, 5)
    notifications.insert(3, (ISSUE_BYTES, notifications[2][1] + 0.001))
    blocks = feed(ingest, notifications)
    assert len(blocks) == 5
    check_in_order(blocks)
    assert ingest.gate.counts.rejected == 1 and "device time" in ingest.gate.counts.last_problem


def test_an_exception_other_than_decode_error_is_counted_as_malformed(monkeypatch):
    # The declared-error rule enforced at the link for every family: put the old overflowing
    # device_time_s back, and the notification is a counted decode error, not a traceback.
    old = property(lambda p: (p.first_time_us + p.period_us * np.arange(len(p.acc_counts))) * 1e-6)
    monkeypatch.setattr(profile.ImuPacket, "device_time_s", old)
    ingest = stabmon_ingest()
    notifications = stream(0, 4)
    notifications.insert(2, (ISSUE_BYTES, 0.08))
    blocks = feed(ingest, notifications)
    assert len(blocks) == 4 and ingest.decode_errors == 1


def test_a_duplicated_notification_is_dropped_and_counted():
    ingest = stabmon_ingest()
    notifications = stream(0, 6)
    notifications.insert(3, notifications[2])
    blocks = feed(ingest, notifications)
    sequence = check_in_order(blocks)
    np.testing.assert_array_equal(sequence, np.arange(24))
    assert ingest.gate.counts.duplicates == 1
    health = ingest.health(ingest.tracker.snapshot(0))
    assert health.duplicates == 1 and health.samples_lost == 0
    assert any("1 duplicated notifications dropped" in w for w in health_warnings(health))


def test_a_late_notification_is_dropped_and_its_samples_stay_a_flagged_gap():
    ingest = stabmon_ingest()
    notifications = stream(0, 6)
    notifications[2], notifications[3] = notifications[3], notifications[2]  # reordered on the way
    blocks = feed(ingest, notifications)
    sequence = check_in_order(blocks)
    np.testing.assert_array_equal(sequence, np.r_[0:8, 12:24])
    assert ingest.gate.counts.out_of_order == 1 and ingest.tracker.samples_lost == 4


@pytest.mark.parametrize("glitch", [2**31, -(2**31), -1000])
def test_a_single_counter_glitch_is_rejected_and_the_stream_goes_on(glitch):
    ingest = stabmon_ingest()
    notifications = stream(0, 6)
    good = notifications[3]
    notifications[3] = (packet(12 + glitch, time_us=12 * PERIOD_US), good[1])
    blocks = feed(ingest, notifications)
    sequence = check_in_order(blocks)
    np.testing.assert_array_equal(sequence, np.r_[0:12, 16:24])  # its samples are a flagged gap
    assert ingest.gate.counts.rejected == 1 and ingest.gate.counts.restarts == 0


def test_a_lasting_counter_jump_becomes_a_new_epoch_after_one_rejected_block():
    ingest = stabmon_ingest()
    jump = 2**31
    notifications = stream(0, 4) + [
        (packet(s + jump, time_us=s * PERIOD_US), h)
        for s, h in ((16 + N * k, 0.21 + 0.04 * k) for k in range(4))
    ]
    blocks = feed(ingest, notifications)
    sequence = check_in_order(blocks)
    assert len(sequence) == 16 + 12 and ingest.gate.counts.rejected == 1
    assert ingest.gate.counts.restarts == 1
    lost = int(np.sum(np.diff(sequence) - 1))
    # Bounded by the host time between the blocks (0.21 + 0.04 s − 0.17 s of data), not 2^31.
    assert 1 <= lost <= 12
    assert ingest.tracker.samples_lost == lost


def test_a_reboot_with_the_restart_flag_is_spliced_in_as_a_new_epoch_at_once():
    ingest = stabmon_ingest()
    before = stream(1000, 5, start_host_s=-9.95)  # counter 1000 at host 0.05 s: up 10 s
    after = [
        (packet(N * k, flags=profile.FLAG_CLOCK_RESTARTED if k == 0 else 0), 1.0 + 0.04 * k) for k in range(5)
    ]
    blocks = feed(ingest, before + after)
    sequence = check_in_order(blocks)
    assert len(sequence) == 40 and ingest.gate.counts.rejected == 0 and ingest.gate.counts.restarts == 1
    # The reboot took about 0.8 s of host time: that many samples are a flagged gap, not 0 or 2^32.
    assert 60 <= sequence[20] - sequence[19] - 1 <= 90
    device = np.concatenate([b.device_time_s for b in blocks])
    assert 0.6 < device[20] - device[19] < 0.9  # device time carries on across the reboot


def test_a_reboot_without_the_flag_costs_one_rejected_block_then_splices():
    ingest = stabmon_ingest()
    before = stream(1000, 5, start_host_s=-9.95)
    after = [(packet(N * k), 1.0 + 0.04 * k) for k in range(5)]
    blocks = feed(ingest, before + after)
    check_in_order(blocks)
    assert ingest.gate.counts.rejected == 1 and ingest.gate.counts.restarts == 1
    assert sum(len(b) for b in blocks) == 36


def test_a_counter_jump_that_host_time_does_not_allow_is_rejected():
    ingest = stabmon_ingest()
    # Device time agrees with the counter (both jump 100 s), but only 40 ms passed on the host.
    notifications = [*stream(0, 3), (packet(10012), 0.21), (packet(16), 0.25)]
    blocks = feed(ingest, notifications)
    assert check_in_order(blocks).tolist() == list(range(12)) + list(range(16, 20))
    assert "host time" in ingest.gate.counts.last_problem


def test_values_beyond_the_configured_range_are_rejected():
    ingest = SensorIngest(Placement.PELVIS, DotDecoder(60), GateSettings(rate_hz=60.0))

    def dot_packet(k: int, acc: tuple[float, float, float]) -> bytes:
        return dot.RateQuantities(k * 16_667, acc, (0.0, 0.0, 0.0), (0, 0, 0)).to_bytes()

    good = (0.0, 0.0, GRAVITY_M_S2)
    accs = [good, good, (0.0, 0.0, 1e6), good, (math.nan, 0.0, 0.0), good, (0.0, math.inf, 0.0), good]
    blocks = [
        ingest.notification(dot.MEDIUM_PAYLOAD_UUID, dot_packet(k, a), k * 16_667_000)
        for k, a in enumerate(accs)
    ]
    blocks.append(ingest.drain()[0])  # samples after a malformed one wait for it: given up at the end
    got = np.concatenate([b.sequence for b in blocks if b is not None])
    assert got.tolist() == [k for k, a in enumerate(accs) if a == good]
    # The DOT codec refuses non-finite numbers itself; the gate refuses 1e6 m/s².
    assert ingest.gate.counts.rejected == 1 and ingest.decode_errors == 2


def test_a_dot_timestamp_ten_seconds_back_is_rejected_then_the_stream_goes_on():
    ingest = SensorIngest(Placement.PELVIS, DotDecoder(60), GateSettings(rate_hz=60.0))
    period_us = 1e6 / 60
    times_us = [round(20e6 + k * period_us) for k in range(10)]
    times_us[5] -= 10_000_000
    got = []
    for k, t in enumerate(times_us):
        payload = dot.RateQuantities(t, (0.0, 0.0, 9.8), (0.0, 0.0, 0.0), (0, 0, 0)).to_bytes()
        block = ingest.notification(dot.MEDIUM_PAYLOAD_UUID, payload, round(20e9 + k * period_us * 1e3))
        got.extend(block.sequence.tolist() if block is not None else [])
    assert got == [0, 1, 2, 3, 4, 6, 7, 8, 9] and ingest.gate.counts.rejected == 1


def _dot_notifications(order: list[int]) -> list[tuple[bytes, int]]:
    """(bytes, host ns) of 60-Hz DOT samples k in `order`, each arriving 20 ms after its turn's
    sample time (a sample's acc x is k, so it is recognisable)."""
    period_us = 1e6 / 60
    return [
        (
            dot.RateQuantities(
                round(5e6 + k * period_us), (float(k), 0.0, 9.8), (0.0, 0.0, 0.0), (0, 0, 0)
            ).to_bytes(),
            round((5e6 + turn * period_us) * 1e3) + 20_000_000,
        )
        for turn, k in enumerate(order)
    ]


def test_a_dot_notification_after_its_successor_is_put_back_in_its_place():
    """BLE keeps order within a connection, but a host queue may swap two: sample 3 after 4, and
    9 two notifications late. Every sample is stored, in order, nothing lost or dropped."""
    ingest = SensorIngest(Placement.PELVIS, DotDecoder(60), GateSettings(rate_hz=60.0))
    order = [0, 1, 2, 4, 3, 5, 6, 7, 8, 10, 11, 9, 12, 13]
    blocks = [ingest.notification(dot.MEDIUM_PAYLOAD_UUID, d, ns) for d, ns in _dot_notifications(order)]
    got = [b for b in blocks if b is not None]
    assert check_in_order(got).tolist() == list(range(14))
    np.testing.assert_array_equal(np.concatenate([b.acc_m_s2[:, 0] for b in got]), np.arange(14))
    assert ingest.gate.counts.out_of_order == 0 and ingest.tracker.samples_lost == 0
    # Samples in order are never held: each came out with its own notification.
    assert [b is not None for b in blocks] == [k not in (4, 10, 11) for k in order]


def test_a_dot_loss_holds_the_next_samples_a_few_notifications_then_is_a_flagged_gap():
    ingest = SensorIngest(Placement.PELVIS, DotDecoder(60), GateSettings(rate_hz=60.0))
    order = [*range(5), *range(7, 14)]  # 5 and 6 never come
    blocks = [ingest.notification(dot.MEDIUM_PAYLOAD_UUID, d, ns) for d, ns in _dot_notifications(order)]
    got = [b for b in blocks if b is not None]
    assert check_in_order(got).tolist() == order
    assert [b is not None for b in blocks] == [k < 5 or k >= 10 for k in order]  # 7–9 waited
    assert ingest.tracker.samples_lost == 2
    late = ingest.notification(dot.MEDIUM_PAYLOAD_UUID, *_dot_notifications([5])[0])
    assert late is None and ingest.gate.counts.out_of_order == 1  # too late: part of the gap
    # Held at the end of the stream: given up by the drain.
    ingest = SensorIngest(Placement.PELVIS, DotDecoder(60), GateSettings(rate_hz=60.0))
    feed_dot = [
        ingest.notification(dot.MEDIUM_PAYLOAD_UUID, d, ns) for d, ns in _dot_notifications([0, 1, 3, 4])
    ]
    assert [b is not None for b in feed_dot] == [True, True, False, False]
    block, unsure = ingest.drain()
    assert block is not None and block.sequence.tolist() == [3, 4] and unsure == ""


# Property: any sequence of notifications ------------------------------------------------------

_EVENTS = st.lists(
    st.one_of(
        st.tuples(st.just("next"), st.integers(1, 19)),
        st.tuples(st.just("duplicate"), st.just(0)),
        st.tuples(st.just("back"), st.integers(1, 5000)),
        st.tuples(st.just("jump"), st.sampled_from([1, 5, 100, 10_000, 2**31, 2**32 - 3, -(2**31)])),
        st.tuples(
            st.just("time"), st.sampled_from([-10_000_000, -1, 1, 10_000_000, 2**40, 2**63, 2**64 - 1])
        ),
        st.tuples(st.just("reboot"), st.integers(0, 3)),
        st.tuples(st.just("pause"), st.integers(1, 5000)),
        st.tuples(st.just("garbage"), st.binary(max_size=60)),
    ),
    max_size=40,
)


def _notifications(events) -> list[tuple[bytes, float]]:
    """Turn fault events into (bytes, host time s): a sensor that mostly counts on normally."""
    out: list[tuple[bytes, float]] = []
    sequence, time_us, host_s, value = 0, 0, 0.05, 0
    last = packet(0)
    for kind, arg in events:
        flags, n = 0, N
        if kind == "next":
            n = arg
        elif kind == "duplicate":
            out.append((last, host_s))
            continue
        elif kind == "back":
            sequence -= arg
        elif kind == "jump":
            sequence += arg
        elif kind == "time":
            time_us = min(max(time_us + arg, 0), 2**64 - 1 - 19 * PERIOD_US)
        elif kind == "reboot":
            sequence, time_us, flags = arg, arg * PERIOD_US, profile.FLAG_CLOCK_RESTARTED
        elif kind == "pause":
            host_s += arg * 1e-3
        elif kind == "garbage":
            out.append((bytes(arg), host_s))
            continue
        value = (value + 97) % 20_000
        last = packet(sequence, time_us, n=n, flags=flags, value=value)
        out.append((last, host_s))
        sequence, host_s = sequence + n, host_s + n / RATE
        time_us = min(time_us + n * PERIOD_US, 2**64 - 1 - 19 * PERIOD_US)  # a u64 on the wire
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_EVENTS)
def test_whatever_arrives_the_session_gets_sent_samples_in_order(events):
    notifications = _notifications(events)
    ingest = stabmon_ingest()
    blocks = feed(ingest, notifications)
    if not blocks:
        return
    check_in_order(blocks)
    sent = {tuple(row) for data, _ in notifications for row in _rows(data)}
    for block in blocks:
        for row in np.concatenate([block.acc_m_s2, block.gyr_rad_s], axis=1):
            assert tuple(row) in sent  # every sample delivered was sent
    snapshot = ingest.health(ingest.tracker.snapshot(0))
    span_s = notifications[-1][1] - notifications[0][1]
    assert snapshot.samples_lost <= (span_s + 2.0 * len(blocks) + 2.0) * RATE * 1.1 + 2 * len(blocks)
    assert snapshot.state is LinkState.STREAMING


def _rows(data: bytes) -> list[np.ndarray]:
    try:
        p = profile.ImuPacket.from_bytes(data)
    except ValueError:
        return []
    return list(np.concatenate([p.acc_m_s2, p.gyr_rad_s], axis=1))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=260), max_size=30), st.sampled_from(["stabmon", "dot", "polar", "wit"]))
def test_random_bytes_never_leave_a_stream_decoder_as_anything_but_a_counted_error(payloads, family):
    decoder = {
        "stabmon": StabmonDecoder(),
        "dot": DotDecoder(60),
        "polar": PolarDecoder(52, 0.244, 0.0609),
        "wit": WitDecoder(100),
    }[family]
    ingest = SensorIngest(Placement.LUMBAR, decoder, GateSettings(rate_hz=100.0))
    for k, payload in enumerate(payloads):
        block = ingest.notification("x", payload, k * 10_000_000)  # raises nothing
        if block is not None:
            assert np.all(np.isfinite(block.acc_m_s2)) and np.all(np.diff(block.sequence) > 0)
