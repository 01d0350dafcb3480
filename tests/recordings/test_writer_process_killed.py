"""A recording's writer process killed mid-session loses nothing the engine had: the engine keeps
what it sent until the writer process confirms it flushed to disk, and after recovering the file
appends that tail. Checked the real way: a real-time session of virtual sensors in their radio
process, the writer process SIGKILLed between flushes, and the file read back with h5py against
what the radio sent. (`test_writer_process.py` checks the recovered file row for row against the
file a writer thread makes of the same calls.)"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import ClassVar

import h5py
import numpy as np
import pytest

from engine.factory import Impairments, record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import RecordingError, read_recording
from sensors.constants import GRAVITY_M_S2
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.processing.session import NullSink
from sensors.samples import SampleBlock
from tests.processes import child_processes

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the writer process is POSIX only")

PAIR = (Placement.LUMBAR, Placement.PELVIS)
#: One count of the stabmon encoding: acc (m/s²), gyr (rad/s).
LSB = (8 * GRAVITY_M_S2 / 32768, np.radians(2000 / 32768))


class SentLog(list):
    """A virtual sensor's sent blocks; every log made is kept in `made`."""

    made: ClassVar[list[SentLog]] = []

    def __init__(self) -> None:
        super().__init__()
        SentLog.made.append(self)


def writer_process_of(path: Path) -> int:
    """The writer process (a child of this one) that has `path` open."""
    for pid in child_processes(os.getpid(), b"recordings.writer_server", zombies=False):
        fds = Path(f"/proc/{pid}/fd")
        try:
            if any(os.readlink(fd) == str(path) for fd in fds.iterdir()):
                return pid
        except OSError:
            continue
    raise AssertionError(f"no writer process has {path} open")


class KillTheWriter(NullSink):
    """Keeps every block the runner delivered (after the recording's sink); once every sensor
    delivered `samples`, SIGKILLs the recording's writer process a moment after one of its flushes."""

    def __init__(self, path: Path, samples: int) -> None:
        self.path, self.samples = path, samples
        self.blocks: list[SampleBlock] = []
        self.delivered: dict[Placement, int] = dict.fromkeys(PAIR, 0)
        self.killed: int | None = None

    def on_samples(self, block: SampleBlock, session_time_s: np.ndarray) -> None:
        self.blocks.append(block)
        self.delivered[block.placement] += len(block)
        if self.killed is None and min(self.delivered.values()) >= self.samples:
            self.killed = writer_process_of(self.path)
            time.sleep(0.1)  # into the next flush interval: ~0.5 s of data only in memory then
            os.kill(self.killed, signal.SIGKILL)


def _rows(path: Path, placement: Placement) -> tuple[np.ndarray, np.ndarray]:
    """(acc and gyr (n, 6), sequence (n,)) of one sensor, read with h5py alone."""
    with h5py.File(path, "r") as f:  # a plain open: the file is closed properly
        group = f[f"acquisition/{placement.value}"]
        values = np.concatenate([group["acc_m_s2"][()], group["gyr_rad_s"][()]], axis=1)
        return values, group["sequence"][()]


def test_a_killed_writer_process_loses_nothing_the_engine_had(tmp_path):
    spec = SessionSpec(
        SourceSpec(SourceKind.VIRTUAL_BLE, placements=PAIR, seed=11, realtime=True),
        processing=SessionSettings(rate_hz=100.0, duration_s=20.0),  # the kill ends it
    )
    path = tmp_path / "killed.h5"
    killer = KillTheWriter(path, samples=250)
    SentLog.made.clear()
    impairments = Impairments(keep_sent=True, sent_log=SentLog)
    with pytest.raises(RecordingError, match=r"writer process ended unexpectedly \(killed by signal 9\)"):
        asyncio.run(record(spec, "WPK3", path, "quiet-stance", 20.0, sinks=[killer], impairments=impairments))
    assert killer.killed is not None
    assert path.with_name(path.name + ".crashed").exists()  # the original, as the writer left it
    recording = read_recording(path)  # the arrival log covers every row: a replay sees them all
    tolerance = np.repeat(np.array(LSB) * 0.51 + 1e-9, 3)
    for placement in PAIR:
        sent = [b for log in SentLog.made for b in log if b.placement is placement]
        sent_values = np.concatenate([np.concatenate([b.acc_m_s2, b.gyr_rad_s], axis=1) for b in sent])
        sent_counter = np.concatenate([b.sequence for b in sent])
        got_values, got_sequence = _rows(path, placement)
        delivered = [b for b in killer.blocks if b.placement is placement]
        assert sum(len(b) for b in delivered) >= 250, placement  # the kill came 2.5 s in
        # Every sample the runner delivered is in the file: none of the last flush's tail lost.
        assert got_sequence[-1] >= delivered[-1].sequence[-1], (placement, got_sequence[-1], delivered[-1])
        delivered_sequence = np.concatenate([b.sequence for b in delivered])
        missing = delivered_sequence[~np.isin(delivered_sequence, got_sequence)]
        assert len(missing) == 0, (placement, len(missing), missing[:3], got_sequence[-1])
        assert len(recording.samples[placement]) == len(got_sequence), placement
        # Exactly once, in order: one unbroken stretch of what the radio sent, sample for sample.
        first = next(
            j for j in range(len(sent_values)) if np.all(np.abs(sent_values[j] - got_values[0]) <= tolerance)
        )
        stretch = slice(first, first + len(got_values))
        assert first + len(got_values) <= len(sent_values), placement
        assert np.all(np.abs(sent_values[stretch] - got_values) <= tolerance), placement
        np.testing.assert_array_equal(np.diff(got_sequence), np.diff(sent_counter[stretch]))
    with h5py.File(path, "r") as f:  # the clock origin too (it was -1 in a file recovered alone)
        assert f["acquisition/arrival/host_origin_ns"][0] > 0
