"""What consolidating leaves on a disk it cannot count on: a `stabmon consolidate` SIGKILLed
mid-copy leaves its `.consolidating` copy, which is never listed as a recording and is swept
where the library is listed and before the file is consolidated again (a copy another process
is still writing never is); and a disk without room for the copy is not touched at all."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from recordings import consolidate as module
from recordings.errors import RecordingError
from recordings.library import SessionLibrary
from recordings.stale_copies import STALE_AFTER_S, sweep
from recordings.write_lock import WriteLock
from tests.recordings.test_consolidate import _digest, recorded  # noqa: F401 (fixture)

ROOT = Path(module.__file__).resolve().parents[1]


def _copies(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*{module.FRESH_SUFFIX}"))


def _killed_mid_copy(path: Path) -> Path:
    """Run `stabmon consolidate path` and SIGKILL it once its copy is on disk; returns the copy."""
    for _ in range(5):  # the copy lives for a fraction of a second: tried again if it was missed
        process = subprocess.Popen(
            [sys.executable, "-m", "stabmon", "consolidate", str(path)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while process.poll() is None:
                copies = [c for c in _copies(path.parent) if c.stat().st_size > 0]
                if copies:
                    os.kill(process.pid, signal.SIGKILL)
                    break
                time.sleep(0.0005)
        finally:
            process.wait(30)
        left = _copies(path.parent)
        if process.returncode == -signal.SIGKILL and left:
            return left[0]
        shutil.copyfile(path.with_suffix(".orig"), path)  # consolidated before the kill: again
    raise AssertionError("never caught stabmon consolidate with its copy on disk")


def test_a_copy_left_by_a_killed_consolidation_is_never_listed_and_is_swept(recorded, tmp_path):  # noqa: F811
    folder = tmp_path / "data" / "sub-R1"
    folder.mkdir(parents=True)
    path = folder / "s.h5"
    shutil.copyfile(recorded.path, path)
    shutil.copyfile(recorded.path, path.with_suffix(".orig"))
    before = _digest(path)
    copy = _killed_mid_copy(path)
    assert _digest(path) == before  # the original is untouched
    assert [e.path for e in SessionLibrary(tmp_path / "data").sessions()] == [path]
    assert copy.exists()  # modified just now: maybe a consolidation that takes no lock
    _age(copy)
    listed = subprocess.run(
        [sys.executable, "-m", "stabmon", "sessions", "--data-dir", str(tmp_path / "data")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert str(path) in listed.stdout and module.FRESH_SUFFIX not in listed.stdout, listed.stdout
    assert not copy.exists(), "the listing did not sweep the stale copy"
    assert not list(folder.glob("*.writing")), list(folder.glob("*"))
    assert [e.path for e in SessionLibrary(tmp_path / "data").sessions()] == [path]


def test_consolidating_sweeps_the_files_stale_copies_and_never_a_live_one(recorded, tmp_path):  # noqa: F811
    path = tmp_path / "s.h5"
    shutil.copyfile(recorded.path, path)
    stale = tmp_path / f"s.h5.dead1234{module.FRESH_SUFFIX}"
    stale.write_bytes(b"half a copy from a consolidation that was killed")
    _age(stale)
    live = tmp_path / f"s.h5.live5678{module.FRESH_SUFFIX}"
    lock = WriteLock(live)  # as a consolidation running in another process holds it
    try:
        live.write_bytes(b"a copy being written")
        other = tmp_path / f"t.h5.dead9999{module.FRESH_SUFFIX}"  # another file's: left to its own
        other.write_bytes(b"x")
        assert module.consolidate(path).rewritten
        assert not stale.exists() and live.read_bytes() == b"a copy being written" and other.exists()
        SessionLibrary(tmp_path).sessions()  # no sub-* folders here: nothing swept, nothing listed
        assert live.exists()
    finally:
        lock.release()
    _age(live, other)
    module.consolidate(path)  # nothing to rewrite now, but its copies are swept first
    assert not live.exists() and other.exists()


def _age(*paths: Path) -> None:
    """Make files look last modified longer ago than the sweep waits."""
    then = time.time() - STALE_AFTER_S - 1.0
    for path in paths:
        os.utime(path, (then, then))


def test_a_copy_an_unlocked_consolidation_is_writing_is_left_until_it_is_stale(tmp_path):
    # Before: the lock alone decided, so the copy of a consolidation that takes no lock (stabmon
    # before the lock, a data folder shared over the network) was removed while being written.
    folder = tmp_path / "sub-R2"
    folder.mkdir()
    tokened = folder / f"s.h5.abcd1234{module.FRESH_SUFFIX}"
    first = folder / f"t.h5{module.FRESH_SUFFIX}"  # the first naming, without a token
    for copy in (tokened, first):
        copy.write_bytes(b"a copy being written, no lock taken")
    assert sweep(folder) == []
    SessionLibrary(tmp_path).sessions()
    assert tokened.exists() and first.exists()
    _age(tokened)
    assert sweep(folder) == [tokened] and first.exists()
    _age(first)
    SessionLibrary(tmp_path).sessions()
    assert not first.exists()


@pytest.fixture
def small_disk(tmp_path):
    """Mounts a tmpfs of the given size (bytes) in tmp_path; unmounted afterwards."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mounted: list[Path] = []

    def mount(size: int) -> Path:
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)  # even if a file is open


def _lowest_free_while(folder: Path, work) -> tuple[int, object]:
    """The least free space (bytes, statvfs) seen in `folder` while `work()` runs, and its result
    (or the exception it raised)."""
    lowest = [shutil.disk_usage(folder).free]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            lowest[0] = min(lowest[0], shutil.disk_usage(folder).free)
            time.sleep(0.0002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result: object = work()
    except RecordingError as error:
        result = error
    finally:
        done.set()
        watcher.join()
    return lowest[0], result


def test_a_disk_without_room_for_the_copy_is_not_touched(recorded, small_disk):  # noqa: F811
    size = recorded.path.stat().st_size
    disk = small_disk(size + size // 3)  # the file and a third of it: not room for the copy
    path = disk / "s.h5"
    shutil.copyfile(recorded.path, path)
    before, free = _digest(path), shutil.disk_usage(disk).free
    lowest, result = _lowest_free_while(disk, lambda: module.consolidate(path))
    assert isinstance(result, RecordingError), result
    assert "free" in result.problem and "left as it is" in result.problem, result.problem
    assert lowest == free, f"the disk went down to {lowest} bytes free from {free}"
    assert _digest(path) == before and sorted(p.name for p in disk.iterdir()) == ["s.h5"]


def test_a_disk_with_room_for_the_copy_and_the_margin_is_consolidated(recorded, small_disk):  # noqa: F811
    size = recorded.path.stat().st_size
    disk = small_disk(2 * size + module.MIN_FREE_AFTER_BYTES + 2**20)
    path = disk / "s.h5"
    shutil.copyfile(recorded.path, path)
    assert module.consolidate(path).rewritten
