import math

import numpy as np
import pytest

from sensors import LinkState, Placement, SampleBlock
from sensors.health import HealthTracker


def _packet(first_sequence, host_ns, n=4):
    seq = np.arange(first_sequence, first_sequence + n)
    return SampleBlock(
        Placement.LUMBAR, seq / 100, np.zeros((n, 3)), np.zeros((n, 3)), seq, np.full(n, host_ns)
    )


def test_rate_loss_and_age_from_sequence_numbers():
    tracker = HealthTracker(Placement.LUMBAR, window_s=10.0)
    assert tracker.snapshot(0).state is LinkState.CONNECTING
    assert math.isinf(tracker.snapshot(0).last_packet_age_s)
    # 100 Hz in packets of 4 every 40 ms for 4 s; packets 10–14 (20 samples) lost on the air.
    for k in range(100):
        if 10 <= k < 15:
            continue
        tracker.update(_packet(4 * k, k * 40_000_000))
    health = tracker.snapshot(now_ns=99 * 40_000_000 + 250_000_000)
    assert health.state is LinkState.STREAMING
    assert health.samples_received == 380 and health.samples_lost == 20
    assert health.loss_fraction == pytest.approx(20 / 400)
    assert math.isnan(health.rate_hz)  # no nominal rate, and under half the rate window seen
    assert health.last_packet_age_s == pytest.approx(0.25)


def test_window_forgets_old_losses():
    tracker = HealthTracker(Placement.LUMBAR, window_s=1.0)
    tracker.update(_packet(0, 0))
    tracker.update(_packet(40, 40_000_000))  # 36 samples lost
    for k in range(11, 60):
        tracker.update(_packet(4 * k, k * 40_000_000))
    health = tracker.snapshot(now_ns=59 * 40_000_000)
    assert health.loss_fraction == 0.0 and health.samples_lost == 36


def test_health_warnings_speak_plainly():
    import math

    from sensors.health import health_warnings
    from sensors.source import LinkState, SensorHealth

    ok = SensorHealth(Placement.PELVIS, LinkState.STREAMING, 100.0, 0.0, 0.01, 12.0, 80.0, 0.02, 1000, 0)
    assert health_warnings(ok) == []
    lossy = SensorHealth(
        Placement.PELVIS, LinkState.STREAMING, 88.0, 0.12, math.nan, math.nan, 10.0, 0.02, 880, 120
    )
    assert health_warnings(lossy) == [
        "pelvis sensor: 12 % of packets lost in the last 10 s",
        "pelvis sensor: battery at 10 %",
    ]
    silent = SensorHealth(Placement.LUMBAR, LinkState.STREAMING, last_packet_age_s=3.2)
    assert health_warnings(silent) == ["lumbar sensor: no data for 3 s"]
    assert "reconnecting" in health_warnings(SensorHealth(Placement.LUMBAR, LinkState.RECONNECTING))[0]
    assert "lost" in health_warnings(SensorHealth(Placement.LUMBAR, LinkState.LOST))[0]
    far = SensorHealth(Placement.THORAX, LinkState.STREAMING, 100.0, rssi_dbm=-91.0, last_packet_age_s=0.02)
    assert health_warnings(far) == ["thorax sensor: weak signal (-91 dBm) — bring the computer closer"]


def _sensor(
    rate_hz: float, stall_s: float, nominal_hz: float, seconds: float = 20.0
) -> list[tuple[float, float]]:
    """(host s, reported rate Hz) once a second for 20 s of a sensor sending 4-sample
    notifications at rate_hz from host time 0; for the first `stall_s` nothing arrives, then the
    notifications held back come within 0.3 s (a first recording under load)."""
    tracker = HealthTracker(Placement.LUMBAR, rate_hz=nominal_hz)
    step = 4 / rate_hz
    reported, next_look = [], 1.0
    for k in range(int(20.0 / step)):
        t = max(k * step, stall_s + 0.3 * k * step / stall_s if stall_s else 0.0)
        tracker.update(_packet(4 * k, int(t * 1e9)))
        if t >= next_look:
            reported.append((t, tracker.snapshot(int(t * 1e9)).rate_hz))
            next_look += 1.0
    return reported


def test_the_rate_is_the_nominal_one_through_a_stall_and_its_catch_up():
    """The walk-through's "lumbar 265.9 Hz" for a 100 Hz sensor after a 1.7-s stall (170 samples
    in 0.3 s: a burst of ~570 Hz): the reported rate stays the sensor's 100 Hz throughout."""
    assert {rate for _, rate in _sensor(100.0, stall_s=1.7, nominal_hz=100.0)} == {100.0}


def test_a_sensor_steadily_off_its_nominal_rate_reports_the_measured_one():
    reported = _sensor(120.0, stall_s=0.0, nominal_hz=100.0)
    assert [rate for t, rate in reported if t < 5.0] == [100.0] * 4  # not measured yet
    assert reported[-1][1] == pytest.approx(120.0, abs=0.5)
    assert {rate for _, rate in _sensor(104.0, 0.0, 100.0)} == {100.0}  # within 5 %: the nominal
    assert _sensor(120.0, stall_s=1.7, nominal_hz=100.0)[-1][1] == pytest.approx(120.0, abs=0.5)
    # No nominal rate (a sensor whose rate the link does not know): the measured one, once measured.
    unknown = _sensor(120.0, stall_s=1.7, nominal_hz=math.nan)
    assert all(math.isnan(rate) for t, rate in unknown if t < 5.0)
    assert unknown[-1][1] == pytest.approx(120.0, abs=0.5)


def test_a_sensor_delivering_in_frames_of_varying_size_reports_its_own_rate():
    """A Verity Sense at 52 Hz, ACC and GYRO framed apart and paired: blocks of 48, 83 and 82
    samples in turn (the virtual one's pattern), one every 71 samples' time (1.37 s). Its steps
    are 35, 61 and 60 Hz; the median of them (60 Hz) read as the sensor's rate, 15 % off."""
    tracker = HealthTracker(Placement.LUMBAR, rate_hz=52.0)
    first, host_s = 0, 0.0
    for k in range(14):
        n = (48, 83, 82)[k % 3]
        seq = np.arange(first, first + n)
        host_s += 71 / 52.0
        tracker.update(
            SampleBlock(
                Placement.LUMBAR,
                seq / 52,
                np.zeros((n, 3)),
                np.zeros((n, 3)),
                seq,
                np.full(n, int(host_s * 1e9)),
            )
        )
        first += n
    assert tracker.snapshot(int(host_s * 1e9)).rate_hz == 52.0  # was 60.1: "15 % off", reported


def test_no_rate_before_any_data():
    assert math.isnan(HealthTracker(Placement.LUMBAR, rate_hz=100.0).snapshot(0).rate_hz)


def test_a_sensor_that_goes_silent_says_since_when_and_its_silence_counts_as_lost():
    """100 Hz in packets of 4 every 40 ms for 4 s of session time (origin 1 s of host time), then
    nothing: within SILENCE_WARNING_S it is still well; after it, the snapshot says the data stopped
    at 4.0 s and the silent part of the window is lost, whatever the link state says."""
    from sensors.health import SILENCE_WARNING_S, health_warnings, no_data_text

    origin = 1_000_000_000
    tracker = HealthTracker(Placement.PELVIS, window_s=10.0, rate_hz=100.0)
    for k in range(100):
        tracker.update(_packet(4 * k, origin + (k + 1) * 40_000_000))
    soon = tracker.snapshot(origin + 4_000_000_000 + int(0.5e9 * SILENCE_WARNING_S), origin_ns=origin)
    assert math.isnan(soon.data_until_s) and soon.loss_fraction == 0.0 and no_data_text(soon) == ""
    later = tracker.snapshot(origin + 10_000_000_000, origin_ns=origin)  # 6 s of silence
    assert later.data_until_s == pytest.approx(4.0)
    assert later.loss_fraction == pytest.approx(600 / 1000, abs=0.01)  # 4 s got of the last 10 s
    assert no_data_text(later) == "no data since 4.0 s"
    # One warning that stays the same while it lasts (not a loss share that changes every second).
    assert health_warnings(later) == health_warnings(tracker.snapshot(origin + 12 * 10**9, origin_ns=origin))
    assert health_warnings(later) == ["pelvis sensor: no data since 4.0 s"]
    gone = tracker.snapshot(origin + 30_000_000_000, origin_ns=origin)
    assert gone.loss_fraction == 1.0 and gone.data_until_s == pytest.approx(4.0)
    assert gone.samples_received == 400 and gone.samples_lost == 0  # the counter's own count
    unknown = tracker.snapshot(origin + 10_000_000_000)  # a source that cannot give session time
    assert math.isnan(unknown.data_until_s) and no_data_text(unknown) == "no data for 6 s"


def test_silent_spans_find_where_a_sensor_sent_nothing():
    from sensors.health import silence_text, silent_spans

    t = np.concatenate([np.arange(0, 4, 0.01), np.arange(6, 8, 0.01)])
    assert silent_spans(t, 1.0, 3.5) == []
    spans = silent_spans(t, 0.0, 20.0)
    assert [(round(a, 2), round(b, 2)) for a, b in spans] == [(3.99, 6.0), (7.99, 20.0)]
    assert silent_spans(np.arange(0, 20, 0.01), 0.0, 19.99) == []
    text = silence_text(Placement.PELVIS, spans, 0.0, 20.0)
    assert text.startswith(
        "pelvis sensor: no data from 4.0 to 6.0 s, since 8.0 s (14.0 s, 70 % of the session"
    )


def test_a_short_silence_in_a_long_session_is_not_called_zero_per_cent():
    from sensors.health import silence_text

    text = silence_text(Placement.LUMBAR, [(2431.7, 2432.7)], 0.0, 3600.0)
    assert "(1.0 s, < 1 % of the session" in text and " 0 %" not in text
