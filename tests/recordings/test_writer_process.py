"""The recording writer in a process of its own (real-time sessions): the same file as the writer
thread; an engine killed mid-recording leaves a complete, closed file; a writer process killed
mid-recording stops the recording with one clear error and a file holding everything the engine
had (what the writer wrote and the tail the engine kept); one that stalls is told while it falls
behind and when it caught up; no writer process outlives its file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
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
    Topic,
)
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import RecordingError, RecordingWriter, SessionMetadata, read_recording
from recordings.writer_process import WriterProcess, prestart, writer_process_wanted
from sensors import Event, EventKind, Frame, Placement, SampleBlock, SensorFamily, SensorIdentity
from sensors.processing import SessionSettings
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.pipeline import AngleBlock
from tests.processes import CpuWaits, child_processes, wait_ended, wait_for_report

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the writer process is POSIX only")

PAIR = (Placement.LUMBAR, Placement.PELVIS)
SENSORS = {
    Placement.LUMBAR: SensorIdentity(
        SensorFamily.STABMON, "C0:FF:EE:00:00:01", "SM-1", "1.0.3", "stabmon-imu"
    ),
    Placement.PELVIS: SensorIdentity(
        SensorFamily.STABMON, "C0:FF:EE:00:00:02", "SM-2", "1.0.3", "stabmon-imu"
    ),
}


def _feed(writer, rng: np.random.Generator) -> None:
    """2.3 s of two sensors at 100 Hz in 40 ms blocks (a gap in one), frames, events, calibration."""
    writer.set_host_origin(123_456_789)
    for k in range(58):
        for p in PAIR:
            seq = np.arange(4 * k, 4 * k + 4) + (3 if p is Placement.PELVIS and k >= 20 else 0)
            block = SampleBlock(
                p, seq / 100, rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), seq, np.full(4, 10**9 + k)
            )
            writer.append_samples(block, seq / 100)
        if k % 5 == 4:
            n, t = 20, np.arange(4 * (k - 4), 4 * (k + 1)) / 100
            acc = rng.normal(size=(n, 2, 3))
            frame = Frame(t, PAIR, acc, acc, rng.random((n, 2)) > 0.1, 100.0)
            angles = AngleBlock(
                time_s=t,
                placements=PAIR,
                orientation=rng.normal(size=(n, 2, 4)),
                inclination_rad=rng.normal(size=(n, 2, 2)),
                axial_rad=rng.normal(size=(n, 2)),
                angular_velocity_rad_s=rng.normal(size=(n, 2, 3)),
                lumbar_rad=rng.normal(size=(n, 3)),
            )
            writer.append_frame(frame, angles)
        if k == 30:
            writer.add_event(Event(1.2, EventKind.PAIN_RATING, "lower back", 4.0))
            writer.set_calibration(SegmentCalibration({p: np.array([1.0, 0, 0, 0]) for p in PAIR}, 1.1))


def _contents(path: Path) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:  # a plain open: the file is closed properly

        def take(name: str, item: object) -> None:
            if isinstance(item, h5py.Dataset):
                out[name] = item[()]

        f.visititems(take)
    return out


@pytest.mark.parametrize("store_angles", [False, True])
def test_the_writer_process_writes_the_same_file_as_the_writer_thread(tmp_path, store_angles):
    metadata = SessionMetadata(
        "WP-01", "quiet-stance", SessionSettings(rate_hz=100.0), store_angles=store_angles
    )
    thread = RecordingWriter(tmp_path / "thread.h5", metadata, SENSORS)
    _feed(thread, np.random.default_rng(3))
    thread.close()
    process = WriterProcess(tmp_path / "process.h5", metadata, SENSORS)
    assert process.pid != os.getpid()
    _feed(process, np.random.default_rng(3))
    assert process.close() == tmp_path / "process.h5"
    assert wait_ended(process.pid, 5.0), "the writer process outlived its file"
    expected, got = _contents(tmp_path / "thread.h5"), _contents(tmp_path / "process.h5")
    assert set(got) == set(expected)
    for name, values in expected.items():
        np.testing.assert_array_equal(got[name], values, err_msg=name)
    assert len(got["acquisition/pelvis/sequence"]) == 232 and got["acquisition/pelvis/lost_before"].sum() == 3
    # The counters come back from the writer process: every whole chunk was stored directly.
    assert process.chunks_stored_directly == thread.chunks_stored_directly > 0
    assert (process.h5py_writes, process.out_of_order_samples) == (thread.h5py_writes, 0)
    assert process.flushes and all(started <= ended for started, ended, _ in process.flushes)
    # Nothing waits unwritten once closed: the last flush confirmed everything.
    assert thread.backlog_s == process.backlog_s == 0.0
    assert process.unconfirmed.snapshot().samples == 0


def test_the_engine_keeps_only_what_the_writer_process_has_not_confirmed(tmp_path):
    """What the engine keeps for a writer process that might die goes once its flushes confirm
    it: after 2.3 s of data and a few flushes, at most the partial last chunks (0.5 s)."""
    metadata = SessionMetadata("WP-03", "quiet-stance", SessionSettings(rate_hz=100.0))
    process = WriterProcess(tmp_path / "confirmed.h5", metadata, SENSORS)
    _feed(process, np.random.default_rng(4))
    assert process.unconfirmed.snapshot().samples > 2 * 100  # kept until confirmed
    deadline = time.monotonic() + 20.0
    while process.unconfirmed.snapshot().samples > 2 * 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    tail = process.unconfirmed.snapshot()
    assert 0 < tail.samples <= 2 * 50 and process.unconfirmed.backlog_s <= 0.5
    assert not tail.events  # the event table is written whole at every flush
    process.close()


@pytest.mark.parametrize("store_angles", [False, True])
def test_the_recovered_file_with_its_tail_is_the_file_the_writer_thread_writes(tmp_path, store_angles):
    """The same calls to a writer thread and to a writer process SIGKILLed after its first
    confirmed flush: recovered with the engine's tail, the file holds the same datasets, row for
    row (raw data, arrival log, frames and angles, events, clock origin, calibration)."""
    metadata = SessionMetadata(
        "WPK-04", "quiet-stance", SessionSettings(rate_hz=100.0), store_angles=store_angles
    )
    thread = RecordingWriter(tmp_path / "thread.h5", metadata, SENSORS)
    _feed(thread, np.random.default_rng(5))
    thread.close()
    process = WriterProcess(tmp_path / "process.h5", metadata, SENSORS)
    _feed(process, np.random.default_rng(5))
    sent = process.unconfirmed.snapshot().samples
    deadline = time.monotonic() + 30.0
    while process.unconfirmed.snapshot().samples == sent and time.monotonic() < deadline:
        time.sleep(0.002)
    os.kill(process.pid, signal.SIGKILL)
    with pytest.raises(RecordingError, match=r"killed by signal 9.*everything recorded until then") as caught:
        process.close()
    appended = int(caught.value.problem.split("with the ")[1].split()[0])
    assert 0 < appended < sent  # the writer process had written part, the tail the rest
    expected, got = _contents(tmp_path / "thread.h5"), _contents(tmp_path / "process.h5")
    assert set(got) == set(expected)
    for name, values in expected.items():
        np.testing.assert_array_equal(got[name], values, err_msg=name)


def test_a_recording_that_cannot_be_created_is_refused_and_its_process_ends(tmp_path):
    metadata = SessionMetadata("WP-02", "quiet-stance", SessionSettings(rate_hz=100.0))
    (tmp_path / "taken.h5").write_bytes(b"someone else's file")
    prestart()  # the spare process takes the request
    with pytest.raises(RecordingError, match="cannot create the recording"):
        WriterProcess(tmp_path / "taken.h5", metadata, SENSORS)
    assert (tmp_path / "taken.h5").read_bytes() == b"someone else's file"
    # Where the writer process finds it cannot create the file (a folder that is a file), the
    # next call says so, and close too; the process ends.
    process = WriterProcess(tmp_path / "taken.h5" / "s.h5", metadata, SENSORS)
    assert wait_ended(process.pid, 30.0)
    deadline = time.monotonic() + 10.0
    with pytest.raises(RecordingError, match="cannot create the recording"):
        while time.monotonic() < deadline:  # once its answer is read
            process.add_event(Event(0.0, EventKind.ANNOTATION, "x"))
            time.sleep(0.01)
    with pytest.raises(RecordingError, match="cannot create the recording"):
        process.close()
    assert child_processes(os.getpid(), b"recordings.writer_server", zombies=False) == []


def test_one_switch_keeps_fast_runs_and_the_opt_out_in_process(monkeypatch):
    assert writer_process_wanted(True) and not writer_process_wanted(False)
    monkeypatch.setenv("STABMON_WRITER_PROCESS", "0")
    assert not writer_process_wanted(True)


def _wait_for_data(folder: Path, seconds: float, waits: CpuWaits, timeout_s: float = 60.0) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        waits.sample()
        for path in folder.glob("*.h5"):
            try:
                rec = read_recording(path)
                if all(len(t) and t[-1] >= seconds for t in rec.session_time_s.values()):
                    return path
            except RecordingError:
                pass
        time.sleep(0.2)
    raise AssertionError(f"no {seconds} s of data in {folder} within {timeout_s} s")


def test_an_engine_killed_mid_recording_leaves_a_complete_closed_file(tmp_path):
    """SIGKILL the recording process: its writer process reads end-of-file, writes everything it
    received and closes the file (h5py opens it normally, no recovery), then ends."""
    command = [sys.executable, "-m", "stabmon", "record", "--simulate", "--seconds", "60"]
    command += ["--subject", "CRASH2", "--out", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    waits = CpuWaits(process.pid)
    try:
        path = _wait_for_data(tmp_path, seconds=3.0, waits=waits)
        writers = child_processes(process.pid, b"recordings.writer_server", zombies=False)
        assert len(writers) == 1, writers
        for _ in range(7):  # between flushes
            time.sleep(0.1)
            waits.sample()
        killed_ns = time.monotonic_ns()
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert wait_ended(writers[0], 20.0), "the writer process did not end after closing the file"
    with h5py.File(path, "r") as f:  # closed properly: no "open for write" flags left
        assert f.attrs["subject_id"] == "CRASH2"
    rec = read_recording(path)
    assert not rec.left_open
    # Less than a second lost, plus what a loaded computer kept the recording process from
    # doing over the last two seconds (the time its threads waited for a CPU; none when quiet).
    allowed_ns = 1_000_000_000 + int(waits.waited_s(2.0) * 1e9)
    for placement, samples in rec.samples.items():
        newest_ns = int(samples.host_receive_ns[-1])  # the machine's monotonic clock, as here
        assert killed_ns - newest_ns < allowed_ns, (placement, killed_ns - newest_ns, allowed_ns)
        assert len(rec.session_time_s[placement]) == len(samples) > 250
        assert np.all(np.diff(samples.sequence) >= 1)


PLAN = ProtocolPlan("w", "Writer", "quiet-stance", "Stand still.", 30.0, get_ready_s=0.0, calibration_s=1.0)


def test_a_writer_process_that_stalls_is_told_and_one_that_dies_stops_the_recording_losing_nothing(tmp_path):
    """One real-time session (an engine started once for both): its writer process SIGSTOPped
    until the clinician is told (one WARNING, topic disk, once seconds of data wait unwritten),
    SIGCONTed until it caught up (an INFO, same topic); then SIGKILLed: the recording stops with
    one ERROR and the recovered file holds every sample, the stall's and the tail's too."""
    spec = SessionSpec(
        SourceSpec(SourceKind.VIRTUAL_BLE, placements=PAIR, seed=5, realtime=True),
        processing=SessionSettings(rate_hz=100.0, duration_s=30.0),
    )
    reports: list[object] = []
    client = EngineClient(reports.append)
    try:
        client.send(StartProtocol(spec, PLAN, "WPK1", data_dir=tmp_path))
        status = wait_for_report(
            reports,
            "recording",
            lambda r: (
                isinstance(r, StatusReport) and r.status.recording is not None and r.status.elapsed_s > 2.5
            ),
        )
        path = status.status.recording
        writers = child_processes(client.pid, b"recordings.writer_server", zombies=False)
        assert len(writers) == 1, writers
        os.kill(writers[0], signal.SIGSTOP)
        try:
            behind = wait_for_report(
                reports, "writer behind", lambda r: _saving_notice(r, Severity.WARNING), 20.0
            )
            assert "not on disk yet" in behind.text
            assert not any(_saving_notice(r, Severity.INFO) for r in reports)
        finally:
            os.kill(writers[0], signal.SIGCONT)
        caught_up = wait_for_report(reports, "caught up", lambda r: _saving_notice(r, Severity.INFO), 20.0)
        assert "caught up" in caught_up.text
        # What the session says it had processed before the kill (session time, s): the file
        # must hold it all, the stall's seconds and the unwritten tail included.
        had_s = max(r.status.elapsed_s for r in list(reports) if isinstance(r, StatusReport))
        os.kill(writers[0], signal.SIGKILL)
        wait_for_report(reports, "job done", lambda r: isinstance(r, JobDone), 30.0)
        saving = [r.severity for r in reports if isinstance(r, Notice) and r.topic is Topic.SAVING]
        assert saving == [Severity.WARNING, Severity.INFO]
        errors = [r for r in reports if isinstance(r, Notice) and r.severity is Severity.ERROR]
        assert len(errors) == 1, errors
        assert "writer process ended unexpectedly (killed by signal 9)" in errors[0].text
        assert "holds everything recorded until then" in errors[0].text
        assert not any(isinstance(r, RecordingFinished) for r in reports)
        assert child_processes(client.pid, b"recordings.writer_server", zombies=False) == []
    finally:
        client.close(10.0)
    rec = read_recording(path)  # recovered: a properly closed file
    assert not rec.left_open and path.with_name(path.name + ".crashed").exists()
    for placement in PAIR:  # none of it lost: > 3 s waited unwritten, and all the session had
        sequence = rec.samples[placement].sequence
        assert len(sequence) >= 100 * 3 and np.all(np.diff(sequence) == 1), placement
        assert rec.session_time_s[placement][-1] >= had_s - 0.02, (placement, had_s)


def _saving_notice(report: object, severity: Severity) -> bool:
    return isinstance(report, Notice) and report.topic is Topic.SAVING and report.severity is severity
