"""A session stopped while decoders hold samples back: what they hold is recorded, once.

WitMotion sensors losing bursts of packets (their decoder holds up to seconds of packets to judge
each delay) and Polar Verity Senses (an ACC frame's samples wait for their GYRO frame), on bumble's
virtual link through the production path, stopped at the set duration; one WitMotion sensor
vanishes (its battery dies) in the middle. The file read back holds every sample the sensors sent
before the stop, each once, in order."""

import asyncio
import itertools
import math

import h5py
import numpy as np
import pytest

from engine.factory import Impairments, record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors.ble.virtual.base import FaultPlan
from sensors.constants import GRAVITY_M_S2
from sensors.health import HealthTracker, no_data_text
from sensors.identity import SensorFamily
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.samples import SampleBlock
from sensors.simulator.radio import RadioSettings

PAIR = (Placement.LUMBAR, Placement.PELVIS)
SECONDS = 6.0
#: One count of WitMotion's encoding (±16 g); a Polar's ACC count (±8 G) is finer.
WIT_ACC_LSB = 16 * GRAVITY_M_S2 / 32768
#: Packets lost in bursts now and then: the WitMotion decoder is holding packets most of the time.
LOSSY = RadioSettings(samples_per_packet=1, burst_start_probability=0.03, mean_burst_packets=15)


def _record(tmp_path, family, radio=None, faults=None):
    spec = SessionSpec(
        SourceSpec(SourceKind.VIRTUAL_BLE, family, PAIR, seed=7, realtime=False, scan_timeout_s=1.5),
        processing=SessionSettings(rate_hz=100.0, duration_s=SECONDS),
    )
    impairments = Impairments(radio=radio, faults=faults or {}, keep_sent=True)
    done = record(spec, "DRN1", tmp_path / "drain.h5", "quiet-stance", SECONDS + 2.0, impairments=impairments)
    return asyncio.run(asyncio.wait_for(done, 120))


def _stored(path, placement):
    with h5py.File(path, "r") as f:
        group = f[f"acquisition/{placement.value}"]
        host_ns, acc = group["host_receive_ns"][()], group["acc_m_s2"][()]
        origin_ns = int(f["acquisition/arrival/host_origin_ns"][0])
        links = [bytes(e).decode() for e in f["events/label"][()]] if "events/label" in f else []
    return host_ns, acc, origin_ns, links


def _sent_before(sensor, until_ns):
    """The acc (n, 3) of every sample the virtual sensor sent that arrived by `until_ns`, and of
    all it sent."""
    blocks = sensor.sent_blocks
    sent = np.concatenate([b.acc_m_s2 for b in blocks])
    arrived = np.concatenate([b.host_receive_ns for b in blocks])
    return sent[arrived <= until_ns], sent


def _assert_every_sample_sent_before_the_stop_once(done, placement, lsb):
    """The file holds, in order and each once, every sample the sensor sent that arrived before
    the session stopped, then what was read after it (a prefix of what the sensor sent)."""
    _, acc, origin_ns, links = _stored(done.path, placement)
    stop_ns = origin_ns + round(done.recording.runner.stopped_at_s * 1e9)
    before, sent = _sent_before(done.opened.fleet[placement], stop_ns)
    assert len(before) > 2 * 52, placement
    assert len(before) <= len(acc) <= len(sent), placement
    np.testing.assert_allclose(acc, sent[: len(acc)], atol=lsb)
    return links


def test_samples_a_witmotion_decoder_holds_at_the_stop_or_when_its_sensor_vanishes_are_recorded(tmp_path):
    done = _record(tmp_path, SensorFamily.WITMOTION, LOSSY, {Placement.PELVIS: FaultPlan(dies_at_s=3.3)})
    for placement in PAIR:
        links = _assert_every_sample_sent_before_the_stop_once(done, placement, WIT_ACC_LSB)
        held = [text for text in links if text.startswith(f"{placement.value} ") and "held back" in text]
        assert len(held) == 1, (placement, links)  # it did hold some at the end: said once
    # The vanished one gave them up as its link was lost, not only at the stop.
    assert any(text.startswith("pelvis reconnecting: ") and "held back" in text for text in links), links


@pytest.fixture(scope="module")
def polar(tmp_path_factory):
    return _record(tmp_path_factory.mktemp("polar"), SensorFamily.POLAR_PMD)


def test_a_polar_frame_waiting_for_its_partner_at_the_stop_is_recorded_whole(polar):
    for placement in PAIR:
        _assert_every_sample_sent_before_the_stop_once(polar, placement, 2.44e-4 * GRAVITY_M_S2)


def test_a_healthy_polar_shows_no_loss_and_no_silence_between_its_frames_nor_once_stopped(polar):
    """The health a Verity Sense's blocks give (as the link delivered them: frames ~1.4 s apart,
    paired), looked at every 50 ms: no loss and no "no data" while it streams and for a frame's
    time after its last block; then its silence counts as lost at its own rate."""
    with h5py.File(polar.path, "r") as f:
        group = f[f"acquisition/{Placement.PELVIS.value}"]
        sequence, host_ns, lost = (
            group["sequence"][()],
            group["host_receive_ns"][()],
            group["lost_before"][()],
        )
        device_s = group["device_time_s"][()]
    assert lost.sum() == 0  # the truth: nothing was lost
    tracker = HealthTracker(Placement.PELVIS, rate_hz=52.0)
    edges = [0, *(np.flatnonzero(np.diff(host_ns)) + 1).tolist(), len(host_ns)]
    looks = []
    for a, b in itertools.pairwise(edges):
        block = SampleBlock(
            Placement.PELVIS,
            device_s[a:b],
            np.zeros((b - a, 3)),
            np.zeros((b - a, 3)),
            sequence[a:b],
            host_ns[a:b],
        )
        if a:
            for now_ns in range(int(host_ns[a - 1]), int(host_ns[a]), 50_000_000):
                looks.append(tracker.snapshot(now_ns, origin_ns=int(host_ns[0])))
        tracker.update(block)
    assert len(looks) > 50
    assert max(h.loss_fraction for h in looks) == 0.0
    assert [no_data_text(h) for h in looks if no_data_text(h)] == []
    assert {h.rate_hz for h in looks if math.isfinite(h.rate_hz)} == {52.0}
    last_ns = int(host_ns[-1])
    frame_later = tracker.snapshot(last_ns + 1_400_000_000, origin_ns=int(host_ns[0]))
    assert frame_later.loss_fraction == 0.0 and no_data_text(frame_later) == ""
    stopped = tracker.snapshot(last_ns + 6_000_000_000, origin_ns=int(host_ns[0]))
    assert no_data_text(stopped).startswith("no data since")
    assert 0.3 < stopped.loss_fraction < 0.6  # ~4.6 s of its 10-s window overdue
