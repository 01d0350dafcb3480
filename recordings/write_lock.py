"""Whether a recording is being written: its writer holds an exclusive advisory lock on
`<file>.writing` for the file's whole life.

A file being recorded and a file a crash left open both carry HDF5's open-for-writing flags, so
`recover` and `consolidate` cannot tell them apart from the file alone; recovering a live file
would put a truncated copy at the recording's name while the writer goes on writing into the
renamed original. The kernel drops the lock when the writer's process ends, however it ends, so a
lock file left behind by a crash is stale and harmless (`recover` removes it). POSIX only
(`fcntl.flock`); elsewhere no lock is taken and a left-open file counts as crashed, as before.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from pathlib import Path
from typing import IO, Any

from recordings.errors import RecordingError

#: fcntl where it exists (POSIX); None on Windows, where no lock is taken.
fcntl: Any = importlib.import_module("fcntl") if os.name == "posix" else None

#: Suffix of the lock file beside the recording.
LOCK_SUFFIX = ".writing"


def lock_path(path: Path) -> Path:
    """The lock file of the recording at `path`."""
    return path.with_name(path.name + LOCK_SUFFIX)


class WriteLock:
    """Held by a recording's writer from before the file is created until it is closed."""

    def __init__(self, path: Path) -> None:
        self.path = lock_path(Path(path))
        self._handle: IO[str] | None = None
        if fcntl is None:
            return
        handle = open(self.path, "a")  # noqa: SIM115 (held open for the lock's life)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise RecordingError(Path(path), "another process is recording into this file") from None
        self._handle = handle

    def release(self) -> None:
        """Remove the lock file and drop the lock (once)."""
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self._handle.close()
            self._handle = None


def being_recorded(path: Path) -> bool:
    """True when a live writer holds the lock of the recording at `path`."""
    if fcntl is None:
        return False
    try:
        handle = open(lock_path(Path(path)))  # noqa: SIM115
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def remove_stale_lock(path: Path) -> None:
    """Remove the lock file a crashed writer left beside `path` (call only when not
    `being_recorded`)."""
    with contextlib.suppress(OSError):
        lock_path(Path(path)).unlink()
