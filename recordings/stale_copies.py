"""Copies a stopped consolidation left behind (`recordings.consolidate`), found and removed.

`consolidate` writes its copy beside the recording as `<file>.<token>.consolidating` and holds
the copy's write lock (`recordings.write_lock`, `<copy>.writing`) from before the copy exists
until it has taken the recording's place or been removed. A copy whose lock nobody holds belongs
to a consolidation that was killed (the kernel drops the lock with its process): it is half a
file that nothing lists or reads, and `sweep` removes it. A copy another process is writing keeps
its lock and is never touched. The recording itself is never changed by a consolidation that did
not finish, so nothing recorded is lost either way.
"""

from __future__ import annotations

import logging
from pathlib import Path

from recordings.write_lock import LOCK_SUFFIX, being_recorded, remove_stale_lock

log = logging.getLogger(__name__)

#: Suffix of a consolidation's copy while it is made.
FRESH_SUFFIX = ".consolidating"


def sweep(folder: Path, recording: str = "*") -> list[Path]:
    """Remove the stale copies in `folder` (of the recording named `recording`; "*": of any) and
    their lock files; returns the copies removed. A copy that cannot be removed is logged and left."""
    pattern = f"{recording}.*{FRESH_SUFFIX}"
    removed = []
    for copy in sorted(Path(folder).glob(pattern)):
        if being_recorded(copy):
            continue  # a consolidation is making it now
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
