"""The session engine runs in a process of its own: killing the window's process mid-recording
leaves a complete, closed file; killing the engine shows in the window model, and what it wrote
stays readable: its writer process closes the file."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import h5py
import pytest

from engine.client import EngineClient
from engine.messages import Severity, StartProtocol, Topic
from engine.spec import SensorListing
from gui.model.clinic import ClinicConfig, ClinicSession, Phase
from gui.model.clinic_setup import protocol_plan
from recordings import read_recording
from recordings.errors import NotARecordingError
from recordings.recovery import needs_recovery
from sensors.events import EventKind
from tests.gui.conftest import short_protocol
from tests.processes import ended

ROOT = Path(__file__).resolve().parents[2]

WINDOW = """
import sys, time
from pathlib import Path
from gui.model.clinic import ClinicConfig, ClinicSession
from gui.model.protocols import DrillProtocol
session = ClinicSession(ClinicConfig(subject_id="KILL1", data_dir=Path(sys.argv[1]), virtual_link=False))
print("engine", session.engine_pid, flush=True)
session.run_protocol(DrillProtocol("k", "Kill", "quiet-stance", "Stand still.", 60.0, get_ready_s=0.0))
while session.status.recording is None or session.status.elapsed_s < 4.0:
    time.sleep(0.05)
print("recording", session.status.elapsed_s, session.status.recording, flush=True)
if sys.argv[2] == "exit":  # the window's Python ends without closing the session
    sys.exit(0)
time.sleep(600)
"""


def _line(process: subprocess.Popen[str], timeout_s: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout_s)
    assert ready, "the window process said nothing in time"
    return process.stdout.readline().strip()


def _closed(path: Path) -> bool:
    try:
        return not read_recording(path).left_open
    except NotARecordingError:  # being written: locked until SWMR mode is on
        return False


# SIGKILL of the window's process: the real dashboard, in the next test.
@pytest.mark.parametrize("ending", ["exit"])
def test_a_window_process_that_dies_leaves_a_complete_closed_recording(tmp_path: Path, ending: str):
    """Killed (SIGKILL), or its Python ending without closing the session (which terminates its
    daemonic children): the engine closes the recording like a stopped one. (The window's model
    alone; the real dashboard window is killed in the next test.)"""
    window = subprocess.Popen(
        [sys.executable, "-c", WINDOW, str(tmp_path), ending], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    engine_pid = None
    try:
        engine_pid = int(_line(window, 60).split()[1])
        _, elapsed, path_text = _line(window, 60).split(maxsplit=2)
        path = Path(path_text)
        if ending == "kill":
            window.send_signal(signal.SIGKILL)
        window.wait(40)
        deadline = time.monotonic() + 40
        while not ended(engine_pid):  # the engine notices, closes the file and ends
            assert time.monotonic() < deadline, "the engine did not end after the window died"
            time.sleep(0.1)
    finally:
        window.kill()
        if engine_pid is not None and not ended(engine_pid):
            os.kill(engine_pid, signal.SIGKILL)
    recording = read_recording(path)
    assert not recording.left_open and recording.problems == ()
    assert recording.duration_s >= float(elapsed)  # every block up to the kill
    labels = [(e.kind, e.label) for e in recording.events]
    assert (EventKind.TASK_START, "quiet-stance") in labels
    assert (EventKind.ANNOTATION, "stopped because the window went away") in labels
    with h5py.File(path, "r") as f:  # an independent reader
        assert f.attrs["subject_id"] == "KILL1"
        assert len(f["acquisition/lumbar/acc_m_s2"]) >= 100 * float(elapsed) * 0.9
        assert len(f["processing/time_s"]) > 0


def test_killing_the_dashboard_window_mid_recording_leaves_a_complete_closed_file(tmp_path: Path):
    """The real window: `stabmon dashboard` (offscreen Qt) runs a protocol on virtual sensors and
    is killed with SIGKILL mid-recording; its engine process closes the file and ends."""
    command = [sys.executable, "-m", "stabmon", "dashboard", "--simulate", "--subject", "KILL3"]
    command += ["--data-dir", str(tmp_path), "--run", "01-quiet-stance"]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    quiet = subprocess.DEVNULL
    window = subprocess.Popen(command, cwd=ROOT, env=env, stdout=quiet, stderr=quiet)
    children: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while not (files := list(tmp_path.glob("sub-KILL3/*.h5"))):
            assert window.poll() is None, "the dashboard ended before recording"
            assert time.monotonic() < deadline, "the dashboard started no recording"
            time.sleep(0.1)
        path = files[0]
        time.sleep(4.0)  # the task is under way
        listed = Path(f"/proc/{window.pid}/task/{window.pid}/children").read_text()
        children = [int(pid) for pid in listed.split()]
        assert children, "the dashboard has no engine process"
        window.send_signal(signal.SIGKILL)
        window.wait(40)
        deadline = time.monotonic() + 40
        while not all(ended(pid) for pid in children):  # the engine notices, closes the file, ends
            assert time.monotonic() < deadline, "the engine did not end after the window was killed"
            time.sleep(0.1)
    finally:
        window.kill()
        for pid in children:
            if not ended(pid):
                os.kill(pid, signal.SIGKILL)
    recording = read_recording(path)
    assert not recording.left_open and recording.problems == ()
    assert recording.duration_s >= 3.0  # every block up to the kill
    labels = [(e.kind, e.label) for e in recording.events]
    assert (EventKind.ANNOTATION, "stopped because the window went away") in labels
    with h5py.File(path, "r") as f:  # an independent reader
        assert f.attrs["subject_id"] == "KILL3"
        assert len(f["processing/time_s"]) > 0


def test_an_engine_that_dies_is_reported_and_its_file_stays_readable(data_dir: Path):
    session = ClinicSession(ClinicConfig(subject_id="KILL2", data_dir=data_dir, virtual_link=False))
    try:
        session.run_protocol(short_protocol(task_s=60.0))
        deadline = time.monotonic() + 60
        while session.status.recording is None or session.status.elapsed_s < 3.0:
            assert time.monotonic() < deadline, f"no recording; status {session.status}"
            time.sleep(0.05)
        path = session.status.recording
        assert session.engine_pid is not None
        os.kill(session.engine_pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while session.status.phase is not Phase.FAILED:
            assert time.monotonic() < deadline, f"engine death not reported; status {session.status}"
            time.sleep(0.05)
        assert not session.busy
        notices = session.take_notices()  # the engine's death is an error
        assert any(n.severity is Severity.ERROR and "stopped unexpectedly" in n.text for n in notices)
        with pytest.raises(RuntimeError):
            session.run_protocol(short_protocol())
    finally:
        session.close()
    assert path is not None
    # The recording's writer process outlives the engine: it reads end-of-file, writes what it
    # received and closes the file properly (the engine's writer thread left it open).
    deadline = time.monotonic() + 30
    while needs_recovery(path):
        assert time.monotonic() < deadline, "the writer process did not close the file"
        time.sleep(0.1)
    recording = read_recording(path)
    assert not recording.left_open
    assert recording.duration_s > 2.0
    with h5py.File(path, "r") as f:  # a plain open
        assert len(f["acquisition/pelvis/acc_m_s2"]) > 100


def test_a_scan_lists_plain_values_and_says_so_in_a_typed_notice():
    session = ClinicSession(ClinicConfig(subject_id="SCAN1"))
    try:
        session.scan()
        session.wait(60)
    finally:
        session.close()
    assert not session.busy
    assert sorted(s.address for s in session.discovered) == ["C0:5A:B1:00:00:01", "C0:5A:B1:00:00:02"]
    assert all(isinstance(s, SensorListing) for s in session.discovered)
    (notice,) = session.take_notices()
    assert (notice.severity, notice.topic, notice.text) == (Severity.INFO, Topic.SCAN, "found 2 sensor(s)")


def test_a_frozen_window_does_not_hold_up_the_recording(tmp_path: Path):
    """The window stops reading the engine's reports (a frozen GUI thread): the recording still
    runs to its end and is closed on time."""
    thawed = threading.Event()
    client = EngineClient(lambda report: thawed.wait(120))
    config = ClinicConfig(subject_id="FRZ1", data_dir=tmp_path, virtual_link=False)
    try:
        client.send(StartProtocol(config.spec(), protocol_plan(short_protocol()), "FRZ1", data_dir=tmp_path))
        deadline = time.monotonic() + 60
        while True:
            files = list(tmp_path.rglob("*.h5"))
            if files and _closed(files[0]):
                break
            assert time.monotonic() < deadline, "the recording did not end while the window was frozen"
            time.sleep(0.2)
    finally:
        thawed.set()
        client.close()
    recording = read_recording(files[0])
    assert recording.duration_s == pytest.approx(7.0, abs=0.5)
    assert [e.time_s for e in recording.events if e.kind is EventKind.TASK_END] == [7.0]
