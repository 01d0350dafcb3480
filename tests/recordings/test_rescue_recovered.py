"""A write that really fails in a real-time session's writer process (its file-size limit set to
1 KiB with `prlimit`, as a disk another program filled), then lifted: the recording continues in
`<stem>.rescue.h5`. Closed normally, the rescue file takes the recording's name; if the writer
process is SIGKILLed after the rescue file took over, recovery must still leave ONE file holding
every sample the runner delivered, once, in order, as the radio sent it — not the first file with
the engine's tail appended and a hole where the rescue file's rows were. Read back with h5py and
with h5dump (Debian's hdf5-tools), which nobody here wrote."""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import shutil
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from engine.factory import Impairments, record
from engine.recording import Recording
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import RecordingError, read_recording
from recordings.export_csv import export_csv
from recordings.library import SessionLibrary
from recordings.rescue import rescue_path
from recordings.writer_process import WriterProcess
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.processing.session import NullSink, SessionRunner
from sensors.samples import SampleBlock
from tests.recordings.test_writer_process_killed import LSB, PAIR, SentLog, writer_process_of

pytestmark = pytest.mark.skipif(
    os.name != "posix" or not hasattr(resource, "prlimit"),
    reason="the writer process and prlimit are Linux only",
)

#: The writer process's file-size limit while "the disk is full", bytes: every write fails.
TINY = 1024
#: A block received less than this long ago (ns) shows the session is delivering live.
LIVE_NS = 200_000_000


def session_of(path: Path) -> tuple[WriterProcess, SessionRunner]:
    """The engine's handles on the recording of `path`: its writer process (whose state it
    reports) and its runner."""
    found = [o for o in gc.get_objects() if isinstance(o, Recording) and o.path == path]
    assert len(found) == 1, found
    writer = found[0].writer
    assert isinstance(writer, WriterProcess)
    return writer, found[0].runner


class FailThenRescue(NullSink):
    """Keeps every block the runner delivered. Once `fail_at` samples per sensor came and the
    session delivers live, sets the writer process's file-size limit to TINY (its next flush
    fails), lifts it once the writer reports the failure (its next attempt at the rescue file then
    succeeds); once the rescue file has been in use for `then_after` samples, SIGKILLs the writer
    process (`kill`) or stops the session."""

    def __init__(self, path: Path, fail_at: int, then_after: int, kill: bool) -> None:
        self.path, self.fail_at, self.then_after, self.kill = path, fail_at, then_after, kill
        self.writer: WriterProcess | None = None
        self.runner: SessionRunner | None = None
        self.blocks: list[SampleBlock] = []
        self.delivered: dict[Placement, int] = dict.fromkeys(PAIR, 0)
        self.pid: int | None = None
        self.lifted = False
        self.rescue_seen_at: int | None = None
        self.ended = False

    def on_samples(self, block: SampleBlock, session_time_s: np.ndarray) -> None:
        self.blocks.append(block)
        self.delivered[block.placement] += len(block)
        n = min(self.delivered.values())
        if self.pid is None:
            live = time.monotonic_ns() - int(block.host_receive_ns[-1]) < LIVE_NS
            if n >= self.fail_at and live:  # not in the catch-up burst after a slow start
                self.pid = writer_process_of(self.path)
                self.writer, self.runner = session_of(self.path)
                hard = resource.prlimit(self.pid, resource.RLIMIT_FSIZE)[1]
                resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (TINY, hard))
        elif not self.lifted:
            assert self.writer is not None
            if self.writer.rescue_file is not None:  # the writer process reported the failed write
                hard = resource.prlimit(self.pid, resource.RLIMIT_FSIZE)[1]
                resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (hard, hard))
                self.lifted = True
        elif not self.ended:
            if self.rescue_seen_at is None and rescue_path(self.path).exists():
                self.rescue_seen_at = n
            elif self.rescue_seen_at is not None and n >= self.rescue_seen_at + self.then_after:
                if not rescue_path(self.path).exists():  # that was an attempt that failed: wait on
                    self.rescue_seen_at = None
                    return
                assert self.runner is not None
                self.ended = True
                if not self.kill:
                    self.runner.stop()
                    return
                time.sleep(0.1)  # into the next flush interval: ~0.5 s of data only in memory then
                os.kill(self.pid, signal.SIGKILL)


def _record(path: Path, sink: FailThenRescue, subject: str, seconds: float = 20.0) -> None:
    """A real-time session on virtual sensors into `path`, `seconds` long unless `sink` stops or
    kills it first, its writer never consolidating it; what the radio sent is kept in SentLog."""
    SentLog.made.clear()
    spec = SessionSpec(
        SourceSpec(SourceKind.VIRTUAL_BLE, placements=PAIR, seed=13, realtime=True),
        processing=SessionSettings(rate_hz=100.0, duration_s=seconds),
    )
    impairments = Impairments(keep_sent=True, sent_log=SentLog)
    asyncio.run(
        record(
            spec,
            subject,
            path,
            "quiet-stance",
            seconds,
            sinks=[sink],
            impairments=impairments,
            consolidate=False,
        )
    )


def _h5dump_sequence(path: Path, placement: Placement, scratch: Path) -> np.ndarray:
    """A sensor's sequence column as h5dump writes it out (an independent HDF5 reader)."""
    out = scratch / f"{placement.value}-sequence.txt"
    subprocess.run(
        [
            "h5dump",
            "-d",
            f"/acquisition/{placement.value}/sequence",
            "-y",
            "-w",
            "0",
            "-o",
            str(out),
            str(path),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return np.array([int(v) for v in out.read_text().replace(",", " ").split()], dtype=np.int64)


def _assert_whole(path: Path, sink: FailThenRescue) -> None:
    """The file holds every sample the runner delivered, once, in order, as the radio sent it
    (to half a count of the encoding); the arrival log covers every row."""
    recording = read_recording(path)
    assert not recording.left_open and not recording.problems, recording.problems
    tolerance = np.repeat(np.array(LSB) * 0.51 + 1e-9, 3)
    with h5py.File(path, "r") as f:  # a plain open: the file is closed properly
        for placement in PAIR:
            group = f[f"acquisition/{placement.value}"]
            got_values = np.concatenate([group["acc_m_s2"][()], group["gyr_rad_s"][()]], axis=1)
            got_sequence = group["sequence"][()]
            sent = [b for log in SentLog.made for b in log if b.placement is placement]
            sent_values = np.concatenate([np.concatenate([b.acc_m_s2, b.gyr_rad_s], axis=1) for b in sent])
            sent_counter = np.concatenate([b.sequence for b in sent])
            delivered = np.concatenate([b.sequence for b in sink.blocks if b.placement is placement])
            missing = delivered[~np.isin(delivered, got_sequence)]
            assert len(missing) == 0, (placement, len(missing), missing[:5], len(got_sequence))
            assert np.all(np.diff(got_sequence) > 0), placement  # once each, in order
            assert len(recording.samples[placement]) == len(got_sequence), placement
            first = next(
                j
                for j in range(len(sent_values))
                if np.all(np.abs(sent_values[j] - got_values[0]) <= tolerance)
            )
            stretch = slice(first, first + len(got_values))
            assert first + len(got_values) <= len(sent_values), placement
            assert np.all(np.abs(sent_values[stretch] - got_values) <= tolerance), placement
            np.testing.assert_array_equal(np.diff(got_sequence), np.diff(sent_counter[stretch]))
            if shutil.which("h5dump"):
                np.testing.assert_array_equal(
                    _h5dump_sequence(path, placement, path.parent.parent), got_sequence
                )
        assert f["acquisition/arrival/rows"][()].sum() == sum(
            f[f"acquisition/{p.value}/sequence"].shape[0] for p in PAIR
        )
        assert f["acquisition/arrival/host_origin_ns"][0] > 0


def test_a_writer_process_whose_write_fails_goes_on_in_a_rescue_file(tmp_path):
    # Python ignores SIGXFSZ, so the write fails with EFBIG and the writer makes its rescue file.
    path = tmp_path / "sub-RSC1" / "limited.h5"
    sink = FailThenRescue(path, fail_at=100, then_after=100, kill=False)
    _record(path, sink, "RSC1")  # the sink stops it
    assert sink.lifted and sink.ended  # stopped once the rescue file had taken over
    assert path.with_name(path.name + ".damaged").exists()  # the first file, as the failure left it
    assert not rescue_path(path).exists()  # it took the recording's name
    _assert_whole(path, sink)


def test_a_writer_process_killed_after_a_failed_write_leaves_one_whole_recording(tmp_path):
    path = tmp_path / "sub-RSC2" / "rescued.h5"
    sink = FailThenRescue(path, fail_at=100, then_after=120, kill=True)
    with pytest.raises(
        RecordingError, match=r"writer process ended unexpectedly \(killed by signal 9\)"
    ) as raised:
        _record(path, sink, "RSC2")  # the kill ends it
    assert sink.ended
    assert "rescue.h5 (stabmon recover it)" not in str(raised.value)  # nothing left for the user to merge
    _assert_whole(path, sink)
    # Both files the writer left are kept, and neither is listed as a session of its own.
    assert path.with_name(path.name + ".crashed").exists()
    assert rescue_path(path).with_name(rescue_path(path).name + ".crashed").exists()
    assert not rescue_path(path).exists()
    assert [(e.path.name, e.problem) for e in SessionLibrary(tmp_path).sessions()] == [(path.name, "")]
    # What `stabmon export` writes of it: the raw samples, every one of them once.
    exported = export_csv(read_recording(path), tmp_path / "csv")
    with h5py.File(path, "r") as f:
        for placement in PAIR:
            table = next(p for p in exported if p.name.endswith(f"_raw_{placement.value}.csv"))
            lines = table.read_text(encoding="utf-8").splitlines()
            notes = [line for line in lines if line.startswith("#")]  # the kill cut it short: said
            assert any("ended early" in line for line in notes), notes
            sequence = np.loadtxt(lines[len(notes) + 1 :], delimiter=",", usecols=3, dtype=np.int64, ndmin=1)
            np.testing.assert_array_equal(sequence, f[f"acquisition/{placement.value}/sequence"][()])
