"""A recording left open by a crash (`stabmon record` killed with SIGKILL mid-session, its writer a
thread of the killed process) that also has a damaged chunk (one byte flipped inside a stored
chunk, as a bad disk leaves it): `stabmon recover` writes a clean file with every sample but the
damaged chunk's, names the damaged rows, flags them as a gap, and keeps the original untouched.

The expected values come from h5py reading the undamaged crash-left file (SWMR, each chunk's
Fletcher-32 checked), not from stabmon's reader. Nothing here depends on timing: the recording
runs faster than real time for an hour of session and is killed once the file holds 7 s."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from recordings import schema
from recordings.reader import read_recording
from recordings.recovery import needs_recovery
from recordings.rescue import rescue_path
from tests.cli_args import RECORD_NO_RADIO
from tests.recordings.command_harness import run_command
from tests.recordings.corrupt_helpers import copy_of, flip_in_chunk

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

RAW = tuple(schema.RAW_DATASETS)
#: The damaged chunk's first row (chunks of 50 rows, 0.5 s at 100 Hz, in a file not consolidated).
ROW = 600
#: Rows each sensor must have on disk before the kill.
ENOUGH = 700


def _rows_on_disk(folder: Path) -> tuple[Path | None, int]:
    """The live file in `folder` and the fewest rows either sensor has on disk (SWMR view)."""
    files = list(folder.glob("*.h5"))
    if not files:
        return None, 0
    try:
        with h5py.File(files[0], "r", swmr=True) as f:
            return files[0], min(f[f"acquisition/{p}/sequence"].shape[0] for p in ("lumbar", "pelvis"))
    except (OSError, KeyError, RuntimeError, ValueError):  # not created or not flushed yet
        return files[0], 0


def _killed_mid_session(folder: Path) -> Path:
    command = [sys.executable, "-m", "stabmon", *RECORD_NO_RADIO, "--seconds", "3600", "--subject", "CRASH7"]
    env = {**os.environ, "STABMON_WRITER_PROCESS": "0"}  # the writer dies with the process
    process = subprocess.Popen(
        [*command, "--out", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    try:
        deadline = time.monotonic() + 300  # a bound for a stalled run, not a timing condition
        path, rows = _rows_on_disk(folder)
        while rows < ENOUGH:
            assert process.poll() is None and time.monotonic() < deadline, "the recording ended early"
            time.sleep(0.1)
            path, rows = _rows_on_disk(folder)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL and path is not None
    return path


def _swmr_columns(path: Path, placement: str) -> dict[str, np.ndarray]:
    """Each raw column of `placement`, cut to the group's common length (what a crash left whole)."""
    with h5py.File(path, "r", swmr=True) as f:
        group = f[f"acquisition/{placement}"]
        n = min(group[name].shape[0] for name in RAW)
        return {name: group[name][:n] for name in RAW}


def _columns(path: Path, placement: str) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:  # a plain open: refused while the file is flagged open
        return {name: f[f"acquisition/{placement}/{name}"][:] for name in RAW}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def crashed(tmp_path_factory) -> Path:
    """A recording left open by SIGKILL (never changed: tests damage copies of it)."""
    path = _killed_mid_session(tmp_path_factory.mktemp("crashed"))
    assert needs_recovery(path)
    return path


def test_recover_mends_a_crash_left_file_with_a_damaged_chunk(crashed, tmp_path):
    path = flip_in_chunk(crashed, tmp_path / "sub-CRASH7" / crashed.name, "acc_m_s2", ROW)
    with h5py.File(path, "r", swmr=True) as f, pytest.raises(OSError):
        f["acquisition/lumbar/acc_m_s2"][:]  # HDF5 refuses the whole dataset
    digest = _digest(path)

    result = run_command(["recover", str(path)], [str(path)])

    assert result["outcome"] == "ok", result
    kept = path.with_name(path.name + ".crashed")
    assert _digest(kept) == digest and needs_recovery(kept)  # the original, untouched
    leftovers = sorted(p.name for p in path.parent.iterdir())
    assert leftovers == sorted([path.name, kept.name]), leftovers  # no copy, no lock left
    assert not needs_recovery(path)
    before, after = _swmr_columns(crashed, "lumbar"), _columns(path, "lumbar")
    gone = np.arange(ROW, ROW + 50)
    for name in RAW:  # every readable sample up to the crash, the damaged chunk's left out
        expected = np.delete(before[name], gone, axis=0)
        if name == "lost_before":  # the first sample after the gap counts the samples left out
            expected[ROW] = before["sequence"][ROW + 50] - before["sequence"][ROW - 1] - 1
        np.testing.assert_array_equal(after[name], expected, err_msg=name)
    for name, column in _swmr_columns(crashed, "pelvis").items():
        np.testing.assert_array_equal(_columns(path, "pelvis")[name], column, err_msg=name)
    times = before["session_time_s"]
    span = f"{times[ROW]:.2f}–{times[ROW + 49]:.2f} s of the session"
    recovered = read_recording(path)
    assert not recovered.damaged
    notes = [p for p in recovered.problems if "by stabmon recover" in p]
    assert len(notes) == 1 and "lumbar: 50 samples" in notes[0] and span in notes[0], notes
    assert f"rows {ROW}–{ROW + 49} of /acquisition/lumbar/acc_m_s2" in notes[0] and kept.name in notes[0]


def test_rows_damaged_in_the_first_file_are_taken_whole_from_its_rescue_file(crashed, tmp_path):
    """A write failed and the recording went on in its rescue file, which holds every row of the
    first file (here: all of them, both killed); a damaged chunk of the first file does not stop
    the rescue file from being recognised, and nothing is lost."""
    path = flip_in_chunk(crashed, tmp_path / "sub-CRASH7" / crashed.name, "acc_m_s2", ROW)
    rescue = copy_of(crashed, path.parent, rescue_path(path).name)
    digests = _digest(path), _digest(rescue)

    result = run_command(["recover", str(path)], [str(path)])

    assert result["outcome"] == "ok", result
    kept = path.with_name(path.name + ".crashed"), rescue.with_name(rescue.name + ".crashed")
    assert (_digest(kept[0]), _digest(kept[1])) == digests  # both originals, untouched
    assert not rescue.exists()
    for placement in ("lumbar", "pelvis"):
        for name, column in _swmr_columns(crashed, placement).items():
            np.testing.assert_array_equal(_columns(path, placement)[name], column, err_msg=name)
    recovered = read_recording(path)
    assert not recovered.damaged
    assert not [p for p in recovered.problems if "gap" in p or "damaged" in p], recovered.problems
