"""Sessions whose sensors send well-formed but wrong notifications are recorded, read back and
analysed: the file always opens, every sample in it was sent, what was kept out is counted and
said, and a recording whose device clock jumped (as older writers stored it) analyses in bounded
memory."""

import asyncio
import json
import math
import resource
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from engine.factory import Impairments, record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import RecordingWriter, SessionMetadata, read_recording
from recordings.analysis import analyze_recording, replay
from sensors.ble.admission import GateSettings
from sensors.ble.codecs import movella_dot as dot
from sensors.ble.ingest import SensorIngest
from sensors.ble.stream_decoders import StabmonDecoder
from sensors.ble.virtual.base import FaultPlan
from sensors.constants import GRAVITY_M_S2
from sensors.identity import SensorFamily, SensorIdentity
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.samples import SampleBlock
from stabmon.console import format_summary
from tests.sensors.ble.test_notification_faults import _EVENTS, ISSUE_BYTES, _notifications, feed

PAIR = (Placement.LUMBAR, Placement.PELVIS)
SECONDS = 14.0
LSB = {  # one count of each family's encoding (acc m/s², gyr rad/s)
    SensorFamily.STABMON: (8 * GRAVITY_M_S2 / 32768, np.radians(2000 / 32768)),
    SensorFamily.MOVELLA_DOT: (1e-5, 1e-6),
}


async def _faulty_session(tmp_path, family, faults):
    spec = SessionSpec(
        SourceSpec(SourceKind.VIRTUAL_BLE, family, PAIR, seed=4, realtime=False, scan_timeout_s=1.5),
        processing=SessionSettings(rate_hz=100.0, duration_s=SECONDS),
    )
    impairments = Impairments(faults=faults, keep_sent=True)
    done = await asyncio.wait_for(
        record(spec, "FLT1", tmp_path / "faulty.h5", "quiet-stance", SECONDS, impairments=impairments), 240
    )
    return done.opened.fleet, done.report, done.path


def _assert_every_sample_was_sent(recorded, sent_blocks, lsb) -> None:
    """The recorded samples (acc, gyr) are, in order, a subsequence of the samples sent, to within
    half a count of the encoding."""
    sent = np.concatenate([np.concatenate([b.acc_m_s2, b.gyr_rad_s], axis=1) for b in sent_blocks])
    got = np.concatenate([recorded.acc_m_s2, recorded.gyr_rad_s], axis=1)
    tolerance = np.repeat(np.array(lsb) * 0.51 + 1e-9, 3)
    j = 0
    for i, row in enumerate(got):
        while j < len(sent) and not np.all(np.abs(sent[j] - row) <= tolerance):
            j += 1
        assert j < len(sent), f"recorded sample {i} of {len(got)} was never sent"
        j += 1


def test_a_stabmon_session_with_every_kind_of_wrong_notification_reads_back_and_analyses(tmp_path):
    faults = {
        Placement.LUMBAR: FaultPlan(
            duplicate_every=9,
            reorder_every=13,
            jumps=((4.0, 2**31, 0.0),),  # the counter jumps by 2^31 and stays there
            reboots_at_s=(9.0,),  # counter and clock from 0, FLAG_CLOCK_RESTARTED
            inject=((7.0, ISSUE_BYTES),),  # first-sample time 2^63 µs
        ),
        Placement.PELVIS: FaultPlan(duplicate_every=5, jumps=((6.0, 0, 1e6),)),  # clock 11.6 days ahead
    }
    fleet, report, path = asyncio.run(_faulty_session(tmp_path, SensorFamily.STABMON, faults))
    # Before: read_recording refused the file ("sequence numbers must strictly increase").
    rec = read_recording(path)
    lumbar, pelvis = report.health[Placement.LUMBAR], report.health[Placement.PELVIS]
    assert lumbar.duplicates >= 5 and lumbar.out_of_order >= 5
    assert lumbar.restarts == 2 and lumbar.rejected_blocks >= 2  # the jump's first block, the 2^63 packet
    assert pelvis.duplicates >= 10 and pelvis.restarts == 1 and pelvis.rejected_blocks == 1
    for placement in PAIR:
        samples = rec.samples[placement]
        assert len(samples) > 0.8 * SECONDS * 100
        _assert_every_sample_was_sent(samples, fleet[placement].sent_blocks, LSB[SensorFamily.STABMON])
        assert np.all(np.diff(samples.device_time_s) > 0)
        # Losses are bounded by what time allows (not 2^31), and every splice is a flagged gap.
        lost = rec.lost_before[placement]
        assert lost.min() >= 0 and lost.sum() < 0.3 * SECONDS * 100
        session = rec.session_time_s[placement]
        assert np.all(np.abs(np.diff(session)) < 1.0)  # the clock fit never followed a jump
    assert np.count_nonzero(rec.lost_before[Placement.LUMBAR]) >= 2
    # The session says so as it happens (the link's events, kept in the recording) and at the end.
    labels = [e.label for e in rec.events if e.source == "link"]
    assert sum(label.startswith("lumbar streaming: counter restarted") for label in labels) == 2
    assert sum(label.startswith("pelvis streaming: counter restarted") for label in labels) == 1
    summary = format_summary(report, None)
    lumbar_line = next(line for line in summary.splitlines() if line.startswith("  ! lumbar sensor:"))
    assert "duplicated notifications dropped" in lumbar_line
    assert "counter restarted or jumped 2 times" in lumbar_line
    assert all(abs(ppm) < 200 for ppm in report.drift_ppm.values())  # splices did not bend the fit
    # And the recording replays and analyses, within the session's time.
    replayed = replay(rec)
    assert replayed.report.frames <= (SECONDS + 1.0) * 100
    assert replayed.report.calibrated
    assert analyze_recording(rec).measures


def test_a_dot_session_whose_clock_steps_ten_seconds_back_and_notifications_swap_reads_back(tmp_path):
    extreme = dot.RateQuantities(123, (1e6, 0.0, 0.0), (0.0, 0.0, 0.0), (0, 0, 0)).to_bytes()
    faults = {
        Placement.LUMBAR: FaultPlan(jumps=((12.0, 0, -10.0),), duplicate_every=11),
        Placement.PELVIS: FaultPlan(inject=((5.0, extreme),), reorder_every=7),
    }
    fleet, report, path = asyncio.run(_faulty_session(tmp_path, SensorFamily.MOVELLA_DOT, faults))
    rec = read_recording(path)
    assert report.health[Placement.LUMBAR].restarts == 1
    assert report.health[Placement.PELVIS].rejected_blocks == 1
    # Every 7th notification came after its successor: each put back in its place, none lost.
    assert report.health[Placement.PELVIS].out_of_order == 0
    assert rec.lost_before[Placement.PELVIS].sum() == 0
    sent = sum(len(b) for b in fleet[Placement.PELVIS].sent_blocks)
    # (less one: the sensor's last notification may be the one it holds back to send after the next)
    assert sent - 1 <= len(rec.samples[Placement.PELVIS]) <= sent
    for placement in PAIR:
        _assert_every_sample_was_sent(
            rec.samples[placement], fleet[placement].sent_blocks, LSB[SensorFamily.MOVELLA_DOT]
        )
    assert replay(rec).report.frames <= (SECONDS + 1.0) * 100


# Property: any sequence of notifications → a readable file of sent samples ---------------------

_IDENTITY = SensorIdentity(SensorFamily.STABMON, "AA:BB:CC:00:00:01", "S1", "1.0.0", "stabmon-imu")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(_EVENTS)
def test_for_any_notifications_the_file_written_reads_back_with_only_sent_samples(tmp_path_factory, events):
    notifications = _notifications(events)
    ingest = SensorIngest(Placement.LUMBAR, StabmonDecoder(), GateSettings(rate_hz=100.0))
    blocks = feed(ingest, notifications)
    path = tmp_path_factory.mktemp("prop") / "p.h5"
    writer = RecordingWriter(path, SessionMetadata("PROP1", "quiet-stance"), {Placement.LUMBAR: _IDENTITY})
    writer.set_host_origin(0)
    for block in blocks:
        writer.append_samples(block, block.device_time_s - block.device_time_s[0])
    writer.close()
    rec = read_recording(path)
    got = rec.samples[Placement.LUMBAR]
    assert len(got) == sum(len(b) for b in blocks)
    sent = {tuple(r) for b in blocks for r in np.concatenate([b.acc_m_s2, b.gyr_rad_s], axis=1)}
    from tests.sensors.ble.test_notification_faults import _rows

    wire = {tuple(r) for data, _ in notifications for r in _rows(data)}
    assert sent <= wire
    for row in np.concatenate([got.acc_m_s2, got.gyr_rad_s], axis=1):
        assert tuple(row) in wire
    assert np.all(rec.lost_before[Placement.LUMBAR] >= 0)


# A recording an older writer left with a device-clock jump --------------------------------------

_ANALYSE = textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (BYTES, BYTES))
    from recordings import read_recording
    from recordings.analysis import replay
    rec = read_recording(sys.argv[1])
    replayed = replay(rec)
    print(json.dumps({"frames": replayed.report.frames, "session_s": replayed.report.session_s}))
    """
)


_JUMP_RECORDING_S = 12.0


@pytest.fixture(scope="module")
def before_the_jump(tmp_path_factory) -> Path:
    """12 s of quiet stance as the writer stores it, recorded once; each test jumps a copy's clock."""
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=5, realtime=False),
        processing=SessionSettings(rate_hz=100.0, duration_s=_JUMP_RECORDING_S - 1.0),
    )
    path = tmp_path_factory.mktemp("jump") / "original.h5"
    asyncio.run(record(spec, "JMP1", path, "quiet-stance", _JUMP_RECORDING_S))
    return path


@pytest.mark.parametrize("jump_s", [2.0**40, -50.0, math.inf])
def test_replaying_a_recording_whose_device_clock_jumped_stays_within_its_time_and_memory(
    before_the_jump, tmp_path, jump_s
):
    seconds = _JUMP_RECORDING_S
    path = tmp_path / "jump.h5"
    shutil.copyfile(before_the_jump, path)
    with h5py.File(path, "r+") as f:  # as a writer without the link's gate would have stored it
        device = f["acquisition/lumbar/device_time_s"]
        half = len(device) // 2
        device[half:] = device[half:] + jump_s
    limit = 3 * 2**30  # 3 GiB of address space; the unbounded grid wanted PiB
    code = _ANALYSE.replace("BYTES", str(limit))
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    replayed = json.loads(result.stdout.strip().splitlines()[-1])
    assert 0 < replayed["frames"] <= (seconds + 6.0) * 100
    assert resource.getrlimit(resource.RLIMIT_AS)[0] != limit  # the limit stayed in the child


def test_the_writer_never_writes_a_sequence_that_steps_back_whatever_the_source(tmp_path):
    # The link's gate keeps order; any other source that does not is cut here, not in the reader.
    def block(first: int, n: int = 4) -> SampleBlock:
        return SampleBlock(
            Placement.LUMBAR,
            (first + np.arange(n)) / 100.0,
            np.full((n, 3), float(first)),
            np.zeros((n, 3)),
            first + np.arange(n),
            np.full(n, first * 10_000_000, dtype=np.int64),
        )

    path = tmp_path / "order.h5"
    writer = RecordingWriter(path, SessionMetadata("ORD1", "quiet-stance"), {Placement.LUMBAR: _IDENTITY})
    for first in (0, 4, 4, 2, 6, 2**31 + 12):  # a duplicate, a step back, an overlap, a 2^31 jump
        b = block(first)
        writer.append_samples(b, b.device_time_s)
    writer.close()
    with h5py.File(path, "r") as f:  # what the writer stored, before the reader's own checks
        lumbar = f["acquisition/lumbar"]
        assert lumbar["sequence"][:].tolist() == [*range(10), *range(2**31 + 12, 2**31 + 16)]
        assert lumbar["lost_before"][:].max() == 2**31 - 1  # saturated, not wrapped
        assert f["acquisition/arrival/rows"][:].tolist() == [4, 4, 2, 4]  # the log matches the rows
    assert writer.out_of_order_samples == 10
    rec = read_recording(path)  # before: "sequence numbers must strictly increase"
    # The last block's device clock jumped by 2^31 samples' time: the reader leaves it out, and says so.
    assert rec.samples[Placement.LUMBAR].sequence.tolist() == list(range(10))
    assert rec.problems
