"""Whether the disk holding a recording has room for its writer's next flush.

HDF5 does not survive a write that fails for lack of space (the chunks written then are lost for
good, even once space is back), so below `MIN_FREE_BYTES` free a recording's writer writes
nothing and keeps its data in memory until there is room (`recordings.writer`); a consolidation
leaves at least as much free (`recordings.consolidate`)."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from sensors.errors import StabmonError

__all__ = ["MIN_FREE_BYTES", "DiskFullError", "DiskRoom", "free_bytes", "os_error_line"]

log = logging.getLogger(__name__)

#: Free disk space (bytes) below which the writer holds data in memory instead of writing.
MIN_FREE_BYTES = 64 * 2**20


def free_bytes(folder: Path) -> int:
    """Free space on the disk holding `folder`, bytes."""
    return shutil.disk_usage(folder).free


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 2**10:.0f} kB"


class DiskFullError(StabmonError, OSError):
    """ENOSPC while writing an output, with what it had written by then (`written_bytes`)."""

    def __init__(self, filename: str, written_bytes: int) -> None:
        super().__init__(errno.ENOSPC, os.strerror(errno.ENOSPC), filename)
        self.written_bytes = written_bytes


def os_error_line(error: OSError) -> str:
    """An OSError as one line, "where: why"; a full disk says so with what is known of the room
    needed and left ("out/x.csv: no space left on the device (needs more than 812 kB; 600 kB
    free)", free space counted now, once the failed output's temporary files are gone)."""
    where = f"{os.fsdecode(error.filename)}: " if error.filename else ""
    if error.errno != errno.ENOSPC:
        return where + (error.strerror or str(error))
    known = []
    if isinstance(error, DiskFullError):
        known.append(f"needs more than {_size(error.written_bytes)}")
    if error.filename:
        folder = Path(os.path.abspath(os.fsdecode(error.filename)))
        folder = next((p for p in folder.parents if p.is_dir()), folder)  # its own may be gone with it
        with contextlib.suppress(OSError):  # the free space cannot be read: not said
            known.append(f"{_size(free_bytes(folder))} free")
    return f"{where}no space left on the device" + (f" ({'; '.join(known)})" if known else "")


class DiskRoom:
    """The free-space gate of one recording at `path`: `check()` before each flush says whether
    to write; `low` whether the disk is too full now, `held_back_episodes` how many times it was."""

    def __init__(
        self, path: Path, min_free_bytes: int = MIN_FREE_BYTES, free_space: Callable[[Path], int] = free_bytes
    ) -> None:
        self.path = Path(path)
        self.min_free_bytes = min_free_bytes
        self._free_space = free_space
        #: True while the disk is too full to write: data is held in memory until there is room.
        self.low = False
        #: How many times the writer had to hold data back for lack of space.
        self.held_back_episodes = 0

    def check(self) -> bool:
        """Whether the disk has room for the next flush (below `min_free_bytes`: no, and the
        episode is logged once); a disk whose free space cannot be read counts as having room."""
        try:
            room = self._free_space(self.path.parent) >= self.min_free_bytes
        except OSError:
            room = True  # cannot tell: write, as before
        if not room and not self.low:
            self.held_back_episodes += 1
            log.warning(
                "%s: less than %d MB free on the disk; holding the recording in memory until there is room",
                self.path.name,
                self.min_free_bytes // 2**20,
            )
        elif room and self.low:
            log.warning("%s: disk space is back; writing what was held in memory", self.path.name)
        self.low = not room
        return room

    def wait(self, timeout_s: float, poll_s: float = 0.5) -> None:
        """Wait (up to timeout_s, s) for the disk to have room; checked every poll_s (s)."""
        deadline = time.monotonic() + timeout_s
        while not self.check() and time.monotonic() < deadline:
            time.sleep(poll_s)
