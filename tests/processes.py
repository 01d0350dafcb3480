"""Tests' view of child processes (radio, writer, engine) through Linux's /proc."""

from __future__ import annotations

import os
import time
from pathlib import Path


def ended(pid: int) -> bool:
    """True when process `pid` has ended: gone, or a zombie its parent has not reaped yet."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return True


def wait_ended(pid: int, timeout_s: float) -> bool:
    """Whether process `pid` ends within `timeout_s` s."""
    deadline = time.monotonic() + timeout_s
    while not ended(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def child_processes(parent: int, marker: bytes, *, zombies: bool) -> list[int]:
    """Processes whose parent is `parent` and whose command line holds `marker`; zombies (ended,
    not yet reaped) counted only when `zombies`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        state, parent_pid = stat.rsplit(") ", 1)[1].split()[:2]
        if int(parent_pid) == parent and marker in cmdline and (zombies or state != "Z"):
            found.append(int(entry.name))
    return found
