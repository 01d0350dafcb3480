"""CPU time of a whole process, from Linux's per-thread schedstat."""

from __future__ import annotations

from pathlib import Path


def process_cpu_ns(pid: int | str = "self") -> tuple[int, int] | None:
    """(ns on a CPU, ns runnable but waiting for one) so far, summed over the threads of process
    `pid` ("self": this one); None where the OS does not say (not Linux, the process gone)."""
    total = [0, 0]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            on_cpu, waiting, _ = (task / "schedstat").read_text().split()
            total[0] += int(on_cpu)
            total[1] += int(waiting)
    except (OSError, ValueError):
        return None
    return total[0], total[1]
