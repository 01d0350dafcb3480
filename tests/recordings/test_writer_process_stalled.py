"""Audit 7: a writer process that is alive but stops reading (stopped, or its writer thread stuck in
an HDF5 call holding the interpreter lock on a stalled disk) must not hang `close()` forever:
CLOSE_TIMEOUT_S is the longest wait (the sender thread used to block in send_bytes once the socket
buffer, ~208 KB, was full, and `close()` joined it without a timeout). That the clinician is told
while a stopped writer process falls behind: test_writer_process.py."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from recordings import RecordingError, SessionMetadata
from recordings import writer_process as wp
from recordings.writer_process import WriterProcess
from sensors import Placement, SampleBlock
from sensors.processing import SessionSettings
from tests.recordings.test_writer_process import SENSORS

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
