"""A recording process killed with SIGKILL, its writer a thread of its own (as in fast runs or with
STABMON_WRITER_PROCESS=0; the same as a power cut for a writer process), leaves a file that opens,
recovers to a clean file, and holds all but the last second."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from recordings import RecordingError, read_recording
from recordings.recovery import needs_recovery, recover
from tests.processes import CpuWaits

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def _wait_for_data(folder: Path, seconds: float, waits: CpuWaits, timeout_s: float = 60.0) -> Path:
    """Poll the live file until it holds `seconds` of session time, sampling `waits` meanwhile."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        waits.sample()
        files = list(folder.glob("*.h5"))
        if files:
            try:
                rec = read_recording(files[0])
                if all(len(t) and t[-1] >= seconds for t in rec.session_time_s.values()):
                    return files[0]
            except RecordingError:
                pass  # header not flushed yet
        time.sleep(0.2)
    raise AssertionError(f"no {seconds} s of data in {folder} within {timeout_s} s")


def test_sigkill_mid_session_loses_at_most_one_second(tmp_path):
    command = [
        sys.executable,
        "-m",
        "stabmon",
        "record",
        "--simulate",
        "--seconds",
        "60",
        "--subject",
        "CRASH1",
        "--out",
        str(tmp_path),
    ]
    # The writer thread in the recording's own process (fast runs, STABMON_WRITER_PROCESS=0), so
    # that the kill leaves the file open; a writer process closes it (test_writer_process.py).
    env = {**os.environ, "STABMON_WRITER_PROCESS": "0"}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    waits = CpuWaits(process.pid)
    try:
        path = _wait_for_data(tmp_path, seconds=4.0, waits=waits)
        for _ in range(7):  # kill between flushes, not right after one
            time.sleep(0.1)
            waits.sample()
        killed_ns = time.monotonic_ns()
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    live_view = read_recording(path)  # opens although the writer never closed it
    assert needs_recovery(path)
    with pytest.raises(OSError, match="open for write"):
        h5py.File(path, "r")  # what other tools see before recovery
    result = recover(path)
    assert result.original_kept_at.exists() and not needs_recovery(path)
    with h5py.File(path, "r") as f:  # a plain open now works
        assert "recovered_utc" in f.attrs
    rec = read_recording(path)
    assert rec.migrated_from is None
    # At most the last second is lost (a 0.5-s chunk and a 0.25-s flush interval), plus what a
    # loaded computer kept the recording from doing: the time its threads waited for a CPU
    # over the last two seconds (none on a quiet computer; 1.01 s and 1.94 s were seen at load 12-20).
    allowed_ns = 1_000_000_000 + int(waits.waited_s(2.0) * 1e9)
    for placement, samples in rec.samples.items():
        assert len(samples) == len(live_view.samples[placement])  # recovery kept everything readable
        # Host stamps use the system-wide monotonic clock this process reads too.
        newest_ns = int(samples.host_receive_ns[-1])
        assert killed_ns - newest_ns < allowed_ns, (placement, killed_ns - newest_ns, allowed_ns)
        assert np.all(np.diff(samples.sequence) >= 1)
        assert len(rec.session_time_s[placement]) == len(samples)
    assert rec.attributes["subject_id"] == "CRASH1"
    # The arrival log (for replay) covers the samples up to the first block cut by the crash: all
    # but less than one compressed chunk (0.5 s) per sensor.
    for k, placement in enumerate(rec.placements):
        covered = int(rec.arrival.rows[rec.arrival.placement_index == k].sum())
        assert 0 <= len(rec.samples[placement]) - covered < 50 + 4, placement
    with pytest.raises(RecordingError, match="nothing to recover"):
        recover(path)
