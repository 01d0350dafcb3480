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
    assert health.rate_hz == pytest.approx(380 / 400 * 100, rel=0.02)
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
