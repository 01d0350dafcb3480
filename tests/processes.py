"""Tests' view of child processes (radio, writer, engine) through Linux's /proc."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from sensors.process_cpu import process_cpu_ns


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


class CpuWaits:
    """How long a process's threads were runnable but waiting for a CPU (Linux schedstat, summed
    over its threads), sampled as a test goes: a wall-clock bound on what a process does ("a
    crash loses at most the last second") grants what a loaded computer withheld from it, and
    stays as strict as written on a quiet one. Where the OS does not say, nothing is granted."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._samples: list[tuple[float, float]] = []  # (monotonic s, s waited so far)

    def sample(self) -> None:
        now = process_cpu_ns(self.pid)
        if now is not None:
            self._samples.append((time.monotonic(), now[1] * 1e-9))

    def waited_s(self, window_s: float) -> float:
        """Seconds waited between the newest sample and the oldest one within `window_s` before it."""
        if len(self._samples) < 2:
            return 0.0
        newest_at, newest = self._samples[-1]
        start = next(waited for at, waited in self._samples if at >= newest_at - window_s)
        return max(newest - start, 0.0)  # threads that ended take their counts with them


def under_load_ms(ms: int) -> int:
    """A test's deadline (ms) for work other processes do (an engine process to start, a session
    to reach a phase), stretched by how loaded the computer is: as written up to one runnable
    task per core, longer in proportion beyond (the 1-minute load average over the cores). A hang
    still fails; a busy 2-core CI does not (it took a spawned engine past 30 s to reach the task
    at load 20). Deadlines, not speed checks: speed is measured by the benchmarks."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this system
        return ms
    return int(ms * max(1.0, load / (os.cpu_count() or 1)))


def wait_for_report(
    reports: list[object], what: str, test: Callable[[object], bool], timeout_s: float = 60.0
) -> object:
    """The first of an engine's `reports` (appended to by its client's thread) that passes `test`,
    waiting up to `timeout_s`; fails naming `what` and the last reports' types."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = next((r for r in list(reports) if test(r)), None)
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"no {what}; reports: {[type(r).__name__ for r in reports][-20:]}"
        time.sleep(0.05)
