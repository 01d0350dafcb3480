"""A recording cut short by a killed `stabmon record` says so in `analyze` and `report`: the
planned and the recorded length, and that the task's end never came. A complete one says nothing."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest

from recordings import RecordingError, read_recording
from tests.cli_args import stabmon_here
from tests.processes import wait_ended

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def _wait_for_frames(folder: Path, seconds: float, timeout_s: float = 60.0) -> Path:
    """The live file once its frames reach `seconds` of session time."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for path in folder.glob("*.h5"):
            try:
                t = read_recording(path, raw=False).frame_time_s
                if len(t) and t[-1] >= seconds:
                    return path
            except RecordingError:
                pass  # header not flushed yet
        time.sleep(0.2)
    raise AssertionError(f"no {seconds} s of frames in {folder} within {timeout_s} s")


@pytest.fixture(scope="module")
def killed(tmp_path_factory) -> Path:
    """`record --seconds 60` killed with SIGKILL after about 14.5 s (a task, from 3 s, as long as
    the stance measures need); its writer process closes the file."""
    folder = tmp_path_factory.mktemp("killed")
    command = [sys.executable, "-m", "stabmon", "record", "--simulate", "--seconds", "60"]
    command += ["--subject", "P-011", "--out", str(folder)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        path = _wait_for_frames(folder, 14.5)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    deadline = time.monotonic() + 20
    while Path(f"{path}.writing").exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # the writer process closes the file and removes its lock
    assert wait_ended(process.pid, 5.0)
    with h5py.File(path, "r") as f:  # closed: readable as a complete file, no recovery
        assert b"task_end" not in [k if isinstance(k, bytes) else k.encode() for k in f["events/kind"][:]]
    return path


def test_analyze_and_report_say_a_killed_recording_ended_early(killed, tmp_path, capsys):
    rec = read_recording(killed)
    assert not rec.left_open and 14.5 <= rec.duration_s < 30.0
    result = stabmon_here(capsys, "analyze", str(killed))
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0]
    assert f"{rec.duration_s:.0f} s of 60 s planned)" in header
    assert "ended early:" in result.stdout and "of the 60 s planned were recorded" in result.stdout
    assert "Sway front–back" in result.stdout  # the measures of what was recorded are still given
    out = tmp_path / "r.html"
    result = stabmon_here(capsys, "report", str(killed), "-o", str(out))
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "of 60 s planned (ended early)" in html and "ended early: " in html


def test_a_recording_that_ran_its_course_says_nothing_of_it(tmp_path, capsys):
    record = ["record", "--simulate", "--fast", "--seconds", "14.5", "--subject", "P-012"]
    result = stabmon_here(capsys, *record, "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (path,) = tmp_path.glob("*.h5")
    assert read_recording(path).ended_early == ""
    result = stabmon_here(capsys, "analyze", str(path))
    assert result.returncode == 0 and "planned" not in result.stdout and "ended early" not in result.stdout
