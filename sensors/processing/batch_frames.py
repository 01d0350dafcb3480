"""The batched synchroniser's frames made in a second process while this one steps the pipeline.

Reading and sampling the raw data onto the frame grid (`BatchSynchronizer.frames`) and stepping
the pipeline over the frames (vqf, angles) cost about the same, and vqf holds the GIL, so threads
cannot run them at once. `frames_beside` forks a child that makes the frames and writes their
arrays down a pipe, in order, while the caller works on the ones before; the frames are the same
objects bit for bit (the same code makes them; only their bytes cross the pipe).

The child only reads rows from sources that say they are safe after a fork (`fork_safe`: plain
arrays, or columns read straight from a file's chunks); with any other source (an h5py dataset:
HDF5 must not be used in a forked child), with other threads running (a window, a session
engine), on one core, or for a short recording, the frames are made here as before. An error
in the child (a damaged chunk) is raised here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import struct
import sys
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from sensors.placements import Placement
from sensors.processing.batch_sync import BatchSynchronizer
from sensors.samples import Frame

log = logging.getLogger(__name__)

#: Frames worth a second process (fork and pipe cost ~10 ms): at least this many chunks.
MIN_CHUNKS = 3
_HEADER = struct.Struct("<qq")  # (grid index of the first frame, frames); frames < 0: end or error
_END, _ERROR = -1, -2


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


#: Threads that may run while the child is forked: they are idle then and the child never uses
#: them (recordings.chunk_columns' inflating worker).
FORK_SAFE_THREADS = ("inflate",)


def _fork_safe(sync: BatchSynchronizer) -> bool:
    """The rows are safe to read in a forked child, and no other thread runs here that could
    hold a lock the child needs (a window, a session engine: then the frames are made here)."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if threading.current_thread() is not threading.main_thread() or any(
        not t.name.startswith(FORK_SAFE_THREADS) for t in others
    ):
        return False
    return all(
        isinstance(rows, np.ndarray) or getattr(rows, "fork_safe", False)
        for columns in sync.row_sources().values()
        for rows in columns
    )


def frames_beside(sync: BatchSynchronizer, chunk_s: float = 60.0) -> Iterator[Frame]:
    """`sync.frames(chunk_s)`, made in a forked child when that can run on another core."""
    chunks = len(sync.chunk_bounds(chunk_s))
    if not hasattr(os, "fork") or usable_cores() < 2 or chunks < MIN_CHUNKS or not _fork_safe(sync):
        yield from sync.frames(chunk_s)
        _drop_caches(sync)
        return
    yield from _from_child(sync, chunk_s)


def _drop_caches(sync: BatchSynchronizer) -> None:
    """Free the rows a source inflated ahead (`recordings.chunk_columns.Prefetch`), if any."""
    for columns in sync.row_sources().values():
        for rows in columns:
            drop = getattr(rows, "drop_cache", None)
            if drop is not None:
                drop()


def _from_child(sync: BatchSynchronizer, chunk_s: float) -> Iterator[Frame]:
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: make the frames, write them, leave without running exit handlers
        os.close(read_end)
        status = 0
        try:
            _write_frames(sync, chunk_s, write_end)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    _drop_caches(sync)  # rows inflated ahead: the child has them now, this process needs them no more
    done = False
    try:
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            p = len(sync.placements)
            rate = sync.settings.rate_hz
            while True:
                start, n = _HEADER.unpack(_read_exactly(pipe, _HEADER.size).data)
                if n == _END:
                    done = True
                    return
                if n == _ERROR:
                    raise pickle.loads(_read_exactly(pipe, start).tobytes())
                payload = _read_exactly(pipe, n * p * 49)
                acc = payload[: n * p * 24].view(np.float64).reshape(n, p, 3)
                gyr = payload[n * p * 24 : n * p * 48].view(np.float64).reshape(n, p, 3)
                valid = payload[n * p * 48 :].view(np.bool_).reshape(n, p)
                time_s = np.arange(start, start + n) / rate
                yield _frame_of(time_s, sync.placements, acc, gyr, valid, rate)
    finally:
        if not done:
            _kill(pid)
        _reap(pid)


def _frame_of(
    time_s: np.ndarray,
    placements: tuple[Placement, ...],
    acc: np.ndarray,
    gyr: np.ndarray,
    valid: np.ndarray,
    rate_hz: float,
) -> Frame:
    """A frame of arrays made for it alone here (time_s (n,), acc and gyr (n, p, 3) float64,
    valid (n, p) bool, from the pipe): made read-only and taken as they are, without the
    validating copies `Frame` makes of arrays it is given (the child made them as `frame` does)."""
    frame = object.__new__(Frame)
    fields = {"time_s": time_s, "acc_m_s2": acc, "gyr_rad_s": gyr, "valid": valid}
    for name, array in fields.items():
        array.flags.writeable = False
        object.__setattr__(frame, name, array)
    object.__setattr__(frame, "placements", placements)
    object.__setattr__(frame, "rate_hz", rate_hz)
    return frame


def _write_frames(sync: BatchSynchronizer, chunk_s: float, fd: int) -> None:
    try:
        for start, stop in sync.chunk_bounds(chunk_s):
            _, acc, gyr, valid = sync.frame_arrays(start, stop)
            _write_all(fd, _HEADER.pack(start, len(acc)))
            for array in (acc, gyr, valid):
                _write_all(fd, np.ascontiguousarray(array))
        _write_all(fd, _HEADER.pack(0, _END))
    except BrokenPipeError:  # the parent stopped reading
        raise
    except Exception as error:
        try:
            message = pickle.dumps(error)
        except Exception:
            message = pickle.dumps(RuntimeError(f"making the frames failed: {error!r}"))
        _write_all(fd, _HEADER.pack(len(message), _ERROR) + message)


def _write_all(fd: int, data: Any) -> None:
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(pipe: Any, size: int) -> np.ndarray:
    """`size` bytes from the pipe into a new uint8 array (not zero-filled first: every byte is read)."""
    buffer = np.empty(size, dtype=np.uint8)
    view = buffer.data  # a memoryview of its bytes
    got = 0
    while got < size:
        n = pipe.readinto(view[got:])
        if not n:
            raise RuntimeError("the process making the frames ended without finishing them")
        got += n
    return buffer


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 9)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
