"""A writer process that stops (SIGSTOP): the clinician is told while it falls behind and when
it caught up; and (audit 7) `close()` never hangs on one that stopped reading: CLOSE_TIMEOUT_S is
the longest wait (the sender thread used to block in send_bytes once the socket buffer, ~208 KB,
was full, and `close()` joined it without a timeout)."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from engine.client import EngineClient
from engine.messages import (
    JobDone,
    Notice,
    ProtocolPlan,
    RecordingFinished,
    Severity,
    StartProtocol,
    StatusReport,
    Stop,
    Topic,
)
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import RecordingError, SessionMetadata, read_recording
from recordings import writer_process as wp
from recordings.writer_process import WriterProcess
from sensors import Placement, SampleBlock
from sensors.processing import SessionSettings
from tests.processes import child_processes
from tests.recordings.test_writer_process import PAIR, SENSORS, _wait_for

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the writer process is POSIX only")


def test_close_gives_up_on_a_writer_process_that_stopped_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(wp, "CLOSE_TIMEOUT_S", 3.0)
    metadata = SessionMetadata("WP-09", "quiet-stance", SessionSettings(rate_hz=100.0))
    writer = WriterProcess(tmp_path / "stalled.h5", metadata, SENSORS)
    rng = np.random.default_rng(9)
    time.sleep(1.0)  # the file is created
    os.kill(writer.pid, signal.SIGSTOP)  # alive, not reading
    try:
        for k in range(3000):  # ~1.5 MB of raw columns: far more than the socket holds
            for p in (Placement.LUMBAR, Placement.PELVIS):
                seq = np.arange(4 * k, 4 * k + 4)
                block = SampleBlock(
                    p, seq / 100, rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), seq, np.full(4, 10**9 + k)
                )
                writer.append_samples(block, seq / 100)
            if k % 50 == 0:
                time.sleep(wp.SEND_INTERVAL_S)  # let the sender fill the socket
        outcome: list[object] = []
        closer = threading.Thread(target=lambda: outcome.append(_close(writer)), daemon=True)
        closer.start()
        closer.join(3.0 + 20.0)
        assert not closer.is_alive(), "close() hung on a writer process that stopped reading"
        assert isinstance(outcome[0], RecordingError)
    finally:
        try:
            os.kill(writer.pid, signal.SIGCONT)
            os.kill(writer.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _close(writer: WriterProcess) -> object:
    try:
        return writer.close()
    except RecordingError as error:
        return error


PLAN = ProtocolPlan("s", "Stalled", "quiet-stance", "Stand still.", 30.0, get_ready_s=0.0, calibration_s=1.0)


def test_a_writer_process_falling_behind_is_told_and_its_catching_up_too(tmp_path):
    """SIGSTOP the writer process of a real-time session: once seconds of data wait unwritten the
    clinician gets one WARNING (topic disk); after SIGCONT it catches up, which an INFO on the
    same topic says; the recording goes on and is complete."""
    spec = SessionSpec(
        SourceSpec(SourceKind.VIRTUAL_BLE, placements=PAIR, seed=6, realtime=True),
        processing=SessionSettings(rate_hz=100.0, duration_s=30.0),
    )
    reports: list[object] = []
    client = EngineClient(reports.append)
    stopped = None
    try:
        client.send(StartProtocol(spec, PLAN, "WPS1", data_dir=tmp_path))
        status = _wait_for(reports, "recording", lambda r: _recording(r, 2.0))
        path = status.status.recording
        writers = child_processes(client.pid, b"recordings.writer_server", zombies=False)
        assert len(writers) == 1, writers
        stopped = writers[0]
        os.kill(stopped, signal.SIGSTOP)
        behind = _wait_for(reports, "writer behind", lambda r: _disk_notice(r, Severity.WARNING), 20.0)
        assert "not on disk yet" in behind.text
        stalled_at = time.monotonic()
        assert not any(_disk_notice(r, Severity.INFO) for r in reports)
        os.kill(stopped, signal.SIGCONT)
        stopped = None
        caught_up = _wait_for(reports, "caught up", lambda r: _disk_notice(r, Severity.INFO), 20.0)
        assert "caught up" in caught_up.text
        assert time.monotonic() - stalled_at < 20.0
        client.send(Stop())
        _wait_for(reports, "job done", lambda r: isinstance(r, JobDone), 30.0)
    finally:
        if stopped is not None:
            os.kill(stopped, signal.SIGCONT)
        client.close(10.0)
    notices = [r for r in reports if isinstance(r, Notice)]
    assert [n.severity for n in notices if n.topic is Topic.DISK] == [Severity.WARNING, Severity.INFO]
    assert not any(n.severity is Severity.ERROR for n in notices), notices
    assert any(isinstance(r, RecordingFinished) for r in reports)
    recording = read_recording(path)
    assert not recording.left_open
    for placement in PAIR:
        sequence = recording.samples[placement].sequence
        # > 3 s waited unwritten 2 s in; nothing of the stall lost
        assert len(sequence) > 100 * 4 and np.all(np.diff(sequence) == 1), placement


def _recording(report: object, elapsed_s: float) -> bool:
    return (
        isinstance(report, StatusReport)
        and report.status.recording is not None
        and report.status.elapsed_s > elapsed_s
    )


def _disk_notice(report: object, severity: Severity) -> bool:
    return isinstance(report, Notice) and report.topic is Topic.DISK and report.severity is severity
