"""Audit 7: consolidating a file on a read-only file system (an archive share, a write-locked card,
ext4's errors=remount-ro after an I/O error). `consolidate`'s cleanup `fresh.unlink(missing_ok=True)`
raises EROFS (missing_ok only hides ENOENT), so a bare OSError naming `<file>.consolidating` escapes
instead of a RecordingError: `stabmon consolidate A B` stops at A and never reports B, and
`engine.recording._consolidate_closed` (catches RecordingError only) lets it out of
`Recording.close`. Needs root (mounts a small tmpfs); copy into tests/recordings/ to adopt."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recordings import consolidate as module
from recordings.errors import RecordingError
from tests.recordings.test_consolidate import recorded  # noqa: F401 (fixture)

ROOT = Path(module.__file__).resolve().parents[1]


@pytest.fixture
def read_only_folder(tmp_path, recorded):  # noqa: F811
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a read-only tmpfs needs root")
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        for name in ("a.h5", "b.h5"):
            shutil.copyfile(recorded.path, folder / name)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_read_only_folder_is_a_recording_error_naming_the_file(read_only_folder):
    with pytest.raises(RecordingError) as caught:
        module.consolidate(read_only_folder / "a.h5")
    assert caught.value.path == read_only_folder / "a.h5"


def test_the_command_reports_every_file_it_cannot_consolidate(read_only_folder):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stabmon",
            "consolidate",
            str(read_only_folder / "a.h5"),
            str(read_only_folder / "b.h5"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "a.h5" in done.stderr and "b.h5" in done.stderr, done.stderr
