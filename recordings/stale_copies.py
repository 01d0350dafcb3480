"""Copies a stopped consolidation left behind (`recordings.consolidate`), found and removed.

`consolidate` writes its copy beside the recording as `<file>.<token>.consolidating` and holds
the copy's write lock (`recordings.write_lock`, `<copy>.writing`) from before the copy exists
until it has taken the recording's place or been removed. A copy whose lock nobody holds belongs
to a consolidation that was killed (the kernel drops the lock with its process): it is half a
file that nothing lists or reads, and `sweep` removes it. A copy another process is writing keeps
its lock and is never touched.

What is safe, and why the sweep also waits `STALE_AFTER_S`: removing a copy can never lose
anything recorded. A consolidation changes its recording only by renaming a copy it has checked
byte for byte over it, in one atomic step; until then the recording is whole and the copy holds
nothing else, and after it the copy's name is gone. So the worst a wrong removal does is make
that consolidation fail with an error, the file left as it was. But not every consolidation
takes the lock: stabmon before the lock (its copies were `<file>.<token>.consolidating` too, or
`<file>.consolidating` at first), and file systems where a lock is not seen by another computer
(a data folder shared over the network). Their copies are written continuously while they live,
so a copy is removed only when, besides having no live lock, it has not been modified for
`STALE_AFTER_S`: a live unlocked consolidation is left to finish, and a killed one's copy (not
listed, only taking disk space) goes at the first sweep after that time. The first naming, with
no token, is swept the same way.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from recordings.write_lock import LOCK_SUFFIX, being_recorded, remove_stale_lock

log = logging.getLogger(__name__)

#: Suffix of a consolidation's copy while it is made.
FRESH_SUFFIX = ".consolidating"
#: A copy modified less than this long ago (s) is never removed, lock or not (see above).
STALE_AFTER_S = 600.0


def sweep(folder: Path, recording: str = "*", stale_after_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove the stale copies in `folder` (of the recording named `recording`; "*": of any) and
    their lock files: those no live consolidation holds the lock of and that were not modified
    for `stale_after_s` (s); returns the copies removed. A copy that cannot be removed is logged
    and left."""
    pattern = f"{recording}.*{FRESH_SUFFIX}"
    removed = []
    now = time.time()
    copies = {*Path(folder).glob(pattern), *Path(folder).glob(f"{recording}{FRESH_SUFFIX}")}
    for copy in sorted(copies):
        if being_recorded(copy):
            continue  # a consolidation is making it now
        try:
            if now - copy.stat().st_mtime < stale_after_s:
                continue  # maybe a consolidation that takes no lock, still writing it
        except FileNotFoundError:
            continue  # it just took its recording's place
        try:
            copy.unlink()
        except FileNotFoundError:
            continue  # it just took its recording's place
        except OSError as error:
            log.warning("cannot remove %s, left by a consolidation that was stopped: %s", copy, error)
            continue
        remove_stale_lock(copy)
        log.warning("removed %s, left by a consolidation that was stopped (the recording is whole)", copy)
        removed.append(copy)
    for lock in Path(folder).glob(pattern + LOCK_SUFFIX):  # killed before its copy was made
        copy = lock.with_name(lock.name.removesuffix(LOCK_SUFFIX))
        if not copy.exists() and not being_recorded(copy):
            remove_stale_lock(copy)
    return removed
