"""The soak's faults on the recording side, and its memory gauge: a disk that is full for a
while (`Disk`, the writer's free-space probe), a write that really fails (`FailingWrite`), and
the process's resident memory (`rss_bytes`). POSIX only (`resource`, SIGXFSZ): a harness, not
part of the product. Sensor faults go in through `engine.factory.Impairments` (`soak_plan`)."""

from __future__ import annotations

import resource
import signal
import threading
from pathlib import Path

from recordings import RecordingWriter
from recordings.writer import MIN_FREE_BYTES


class Disk:
    """Free space as the writer sees it: none while `full` is set (the soak's sink sets it while
    session time is inside the plan's full window)."""

    def __init__(self) -> None:
        self.full = threading.Event()

    def free(self, folder: Path) -> int:
        """Free bytes in `folder`, as the writer's free-space probe."""
        return MIN_FREE_BYTES - 1 if self.full.is_set() else 100 * MIN_FREE_BYTES


def rss_bytes() -> int:
    """Resident memory of this process now, bytes (Linux /proc; peak RSS elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class FailingWrite:
    """Makes the recording's next write that grows it fail for real: the process's file-size
    limit is set just above the file's size, and lifted again as soon as the writer has switched
    to its rescue file (or at the end). SIGXFSZ is ignored meanwhile, so the write fails with
    EFBIG instead of killing the process; only the main thread may change that."""

    def __init__(self, writer: RecordingWriter) -> None:
        self.writer = writer
        self.armed = self.done = False
        self._limits = resource.getrlimit(resource.RLIMIT_FSIZE)
        self._signal = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def arm(self) -> None:
        size = self.writer.path.stat().st_size
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 1, self._limits[1]))
        self.armed = True

    def lift_once_rescued(self) -> None:
        if self.armed and not self.done and self.writer.rescue_file is not None:
            self.lift()

    def lift(self) -> None:
        if not self.done:
            resource.setrlimit(resource.RLIMIT_FSIZE, self._limits)
            signal.signal(signal.SIGXFSZ, self._signal)
            self.done = True
