"""The recording writer in a process of its own, for real-time sessions.

h5py holds the interpreter lock in every HDF5 call (`write_direct_chunk` per chunk, the SWMR
flush), so a `RecordingWriter` thread in the engine's process held up the acquisition loop at each
flush. `WriterProcess` has the same interface as `RecordingWriter` (the `append_*`/`add_*`/`set_*`
calls, `close() -> path`, the state the engine watches and the counters read afterwards) and
runs an unchanged `RecordingWriter` — layout, chunk policy, rescue, disk-full handling — in a
child process (`python -m recordings.writer_process`, a fresh interpreter: never forked from the
engine, which has threads). The engine queues the messages and a sender thread sends them every
`SEND_INTERVAL_S` as one pickled batch (protocol 5, the raw blocks' columns concatenated:
`recordings.writer_wire`) over a `multiprocessing.connection` socket pair: a few sends per flush
interval, each holding the interpreter lock for a small copy; the socket write releases it.

Crash safety: if the engine dies (even SIGKILL) the writer process reads end-of-file, writes
everything it received — the last partial chunks too — and closes a complete file, then ends:
only what the engine had not yet sent (< SEND_INTERVAL_S) is lost. A crash of the machine loses
no more than with the writer thread (CHUNK_S + flush interval: the writer process flushes every
flush interval less SEND_INTERVAL_S, which data may take to reach it).
If the writer process dies, `_put` raises `RecordingError` (the session stops) and `close()`
recovers the file, then raises saying so: what the writer had flushed, and everything the engine
sent since, which it keeps until a flush of the writer process confirms it is on disk
(`recordings.writer_tail`: about a second), appended (`recordings.recovery.recover`). Nothing the
engine had is lost.
A writer process ends once its file is closed; an idle one (`prestart`) ends with its parent.

`prestart()` starts an idle writer process ahead of a recording, so that the recording does not
wait for its imports (h5py, numpy: about a second on a busy computer); the next `WriterProcess`
takes it. `writer_process_wanted` is the one switch: real-time sessions on POSIX systems, unless
STABMON_WRITER_PROCESS=0; fast runs keep the writer thread in their own process.

The writer process itself is `recordings.writer_server`; what they send each other,
`recordings.writer_wire`.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from recordings import schema
from recordings.errors import RecordingError
from recordings.file_layout import SessionMetadata, processing_written
from recordings.writer import CLOSE_WAIT_S, MIN_FREE_BYTES
from recordings.writer_messages import (
    CalibrationResult,
    EventRow,
    FrameRows,
    HostOrigin,
    RawSamples,
    WriterMessage,
)
from recordings.writer_tail import Tail, UnconfirmedTail
from recordings.writer_wire import Close, Closed, Flushed, Open, Opened, State, pack
from sensors.events import Event
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.pipeline import AngleBlock
from sensors.samples import Frame, SampleBlock

__all__ = ["WriterProcess", "prestart", "writer_process_wanted"]

log = logging.getLogger(__name__)

#: How often (s) the engine sends what it queued for the writer process.
SEND_INTERVAL_S = 0.05
#: Longest wait (s) for the writer process to close the file (it may wait for disk space).
CLOSE_TIMEOUT_S = CLOSE_WAIT_S + 60.0
#: How long (s) a writer process that closed its file is given to end before it is killed.
EXIT_TIMEOUT_S = 5.0


def writer_process_wanted(realtime: bool) -> bool:
    """Whether a recording's writer runs in a process of its own: real-time sessions on POSIX
    systems, unless STABMON_WRITER_PROCESS=0."""
    return realtime and os.name == "posix" and os.environ.get("STABMON_WRITER_PROCESS", "1") != "0"


class _Child:
    """A started writer process and the engine's end of its connection."""

    def __init__(self) -> None:
        here, there = socket.socketpair()
        root = Path(__file__).resolve().parents[1]
        path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "recordings.writer_server", str(there.fileno()), str(os.getpid())],
                pass_fds=(there.fileno(),),
                env={**os.environ, "PYTHONPATH": path},
            )
        finally:
            there.close()
        self.connection = Connection(here.detach())

    def end(self) -> None:
        """Close the connection and wait for the process to end (killed after EXIT_TIMEOUT_S)."""
        self.connection.close()
        try:
            self.process.wait(EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("the writer process %d did not end: killed", self.process.pid)
            self.process.kill()
            self.process.wait()


_spare: _Child | None = None
_spare_lock = threading.Lock()


def prestart() -> None:
    """Start an idle writer process for the next recording (if none is waiting): it loads its
    modules meanwhile. It ends with this process if no recording takes it."""
    global _spare
    with _spare_lock:
        if _spare is None or _spare.process.poll() is not None:
            _spare = _Child()


def _take_spare() -> _Child:
    global _spare
    with _spare_lock:
        child, _spare = _spare, None
    if child is not None and child.process.poll() is None:
        return child
    return _Child()


def _ended(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exit code {code}"


class WriterProcess:
    """A `RecordingWriter` in a writer process: the same calls, from any thread of the engine.
    Raises `RecordingError` when the file cannot be created, and on `append_*` once the writer
    failed or its process is gone (`lost` says why)."""

    def __init__(
        self,
        path: Path,
        metadata: SessionMetadata,
        sensors: Mapping[Placement, SensorIdentity],
        flush_interval_s: float = 0.25,
        min_free_bytes: int = MIN_FREE_BYTES,
    ) -> None:
        schema.check_subject_id(metadata.subject_id)
        self.path = Path(path)
        self.metadata = metadata
        self.placements = tuple(sensors)
        self.flush_interval_s = flush_interval_s
        self.min_free_bytes = min_free_bytes
        self.disk_space_low = False
        self.held_back_episodes = 0
        self.rescue_file: Path | None = None
        self.chunks_stored_directly = 0
        self.h5py_writes = 0
        self.filter_ns = 0
        self.out_of_order_samples = 0
        #: (monotonic ns started, ended, ns filtering) per flush of the writer process (after close).
        self.flushes: list[tuple[int, int, int]] = []
        #: The writer process's (ns on a CPU, ns waiting for one) (after close; None: not known).
        self.cpu_ns: tuple[int, int] | None = None
        #: Why the writer process went away on its own (None while it is there).
        self.lost: str | None = None
        self._error = ""
        self._not_opened = ""  # why the writer process could not create the file
        self._angles_stored = len(processing_written(metadata)) > 2  # more than time_s, valid
        self._outgoing: deque[WriterMessage] = deque()
        #: What the writer process has not yet confirmed on disk (appended if it dies).
        self.unconfirmed = UnconfirmedTail(self.placements, metadata.rate_hz)
        self._closing = threading.Event()
        self._done = threading.Event()
        self._closed: Closed | None = None
        if self.path.exists():  # before a spare is taken: it stays for the next recording
            raise RecordingError(self.path, "cannot create the recording: the file exists")
        self._child = _take_spare()
        self.pid = self._child.process.pid
        # Data reach the writer process up to SEND_INTERVAL_S late: it flushes that much more
        # often, so that a crash loses no more than the writer thread's CHUNK_S + flush_interval_s.
        flush_there_s = max(flush_interval_s - SEND_INTERVAL_S, SEND_INTERVAL_S)
        self._open(Open(self.path, metadata, dict(sensors), flush_there_s, min_free_bytes))
        self._reader = threading.Thread(
            target=self._read, name=f"writer-reports {self.path.name}", daemon=True
        )
        self._reader.start()
        self._sender = threading.Thread(
            target=self._send, name=f"writer-sender {self.path.name}", daemon=True
        )
        self._sender.start()

    def _open(self, request: Open) -> None:
        """Ask the writer process to create the file, without waiting: a spare still loading its
        modules would hold the caller (the engine's loop, its sensors streaming). What cannot be
        created is raised by the next `append_*` and by `close`."""
        try:
            self._child.connection.send_bytes(pickle.dumps(request, protocol=5))
        except OSError as error:
            self._child.end()
            raise RecordingError(self.path, f"the writer process could not be started ({error})") from None

    # Producer side (as RecordingWriter) ----------------------------------------------------

    def set_host_origin(self, host_origin_ns: int) -> None:
        """Record the host monotonic time (ns) that session time 0 corresponds to."""
        self._put(HostOrigin(int(host_origin_ns)))

    def append_samples(self, block: SampleBlock, session_time_s: Any) -> None:
        """Queue a raw block with its session times (n,) s."""
        self._put(RawSamples(block, session_time_s))

    def append_frame(self, frame: Frame, angles: AngleBlock) -> None:
        """Queue a synchronised frame's gap flags and, if the file stores them, its angles."""
        self._put(FrameRows(frame.time_s, frame.valid, angles if self._angles_stored else None))

    def add_event(self, event: Event) -> None:
        self._put(EventRow(event))

    def set_calibration(self, calibration: SegmentCalibration) -> None:
        self._put(CalibrationResult(calibration))

    def _put(self, message: WriterMessage) -> None:
        self.unconfirmed.keep(message)  # even when the writer is gone: its recovery appends it
        if self._error:
            raise RecordingError(self.path, self._error)
        self._outgoing.append(message)

    @property
    def backlog_s(self) -> float:
        """Seconds of data (at the session's rate) queued or sent but not yet confirmed on disk
        by the writer process."""
        return self.unconfirmed.backlog_s

    def close(self) -> Path:
        """Send what is queued, have the writer process close the file, and return its path.
        Raises RecordingError when writing failed, or when the writer process went away (the
        file is then recovered to what it had written)."""
        deadline = time.monotonic() + CLOSE_TIMEOUT_S  # one for sending and closing: a writer
        self._closing.set()  # process that stops reading (a stalled disk) blocks the sender too
        self._sender.join(CLOSE_TIMEOUT_S)
        if not self._done.wait(max(deadline - time.monotonic(), 0.0)):
            self._child.process.kill()  # the file is then recovered to what it had flushed
            self._done.wait()
            self._sender.join()
        self._child.end()
        if self._not_opened:
            raise RecordingError(self.path, self._not_opened)
        if self.lost is not None:
            recovered = _recovered(self.path, self.unconfirmed.snapshot())
            rescue = self.rescue_file
            if rescue is not None and rescue.exists():  # a write had failed: the rest is there
                recovered += f"; what came after a write failed is in {rescue.name} (stabmon recover it)"
            raise RecordingError(self.path, f"{self.lost}; {recovered}")
        closed = self._closed
        assert closed is not None
        self._take(closed)
        if closed.error:
            raise RecordingError(self.path, f"writing failed: {closed.error}")
        return self.path

    def _take(self, closed: Closed) -> None:
        self._state(closed.state)
        self.chunks_stored_directly, self.h5py_writes = closed.chunks_stored_directly, closed.h5py_writes
        self.filter_ns, self.out_of_order_samples = closed.filter_ns, closed.out_of_order_samples
        self.flushes, self.cpu_ns = closed.flushes, closed.cpu_ns

    def _state(self, state: State) -> None:
        self.disk_space_low, self.held_back_episodes = state.disk_space_low, state.held_back_episodes
        self.rescue_file = state.rescue_file
        if state.error and not self._error:
            self._error = f"the writer stopped: {state.error}"

    def _send(self) -> None:
        """Sender thread: what was queued, as one batch every SEND_INTERVAL_S; then `Close`."""
        connection = self._child.connection
        queued = self._outgoing
        while True:
            closing = self._closing.wait(SEND_INTERVAL_S)
            batch = [queued.popleft() for _ in range(len(queued))]
            try:
                if batch:
                    connection.send_bytes(pickle.dumps(pack(batch, self.placements), protocol=5))
                if closing:
                    connection.send_bytes(pickle.dumps(Close(), protocol=5))
                    return
            except (OSError, ValueError) as error:  # the writer process is gone: the reader says why
                log.debug("sending to the writer process: %s", error)
                return

    def _read(self) -> None:
        """Reader thread: the writer process's state changes, then `Closed`; end-of-file before
        that means the process went away."""
        try:
            while True:
                reply = self._child.connection.recv()
                if isinstance(reply, Opened) and reply.error:  # the process ends
                    self._not_opened = self._error = reply.error
                    log.error("%s: %s", self.path.name, reply.error)
                    return
                if isinstance(reply, Flushed):
                    self.unconfirmed.confirmed(reply.written)
                elif isinstance(reply, State):
                    self._state(reply)
                elif isinstance(reply, Closed):
                    self._closed = reply
                    return
        except (EOFError, OSError):
            code = self._child.process.wait()
            self.lost = f"the recording's writer process ended unexpectedly ({_ended(code)})"
            self._error = self.lost
            log.error("%s: %s", self.path.name, self.lost)
        finally:
            self._done.set()


def _recovered(path: Path, tail: Tail) -> str:
    """Recover the file a writer process left open, with the tail it had not written; says what
    the file now holds."""
    from recordings.recovery import needs_recovery, recover

    try:
        if not needs_recovery(path):
            return "the file holds what its writer process wrote until then"
        try:
            result = recover(path, tail)
        except Exception:  # the tail could not be added: what was flushed is recovered at least
            log.exception("%s: recovering it with its unwritten tail failed", path.name)
            kept = recover(path).original_kept_at
            return (
                "the file holds what was written until then (recovered, without the last moments "
                f"its writer process had not written; the original is kept as {kept.name})"
            )
    except RecordingError as error:
        log.error("recovering %s failed: %s", path, error)
        return f"the file holds what was written until then but could not be recovered ({error.problem})"
    originals = result.original_kept_at.name
    if result.rescue_kept_at is not None:
        originals = f"s are kept as {originals} and {result.rescue_kept_at.name}"
    else:
        originals = f" is kept as {originals}"
    source = " from its rescue file" if result.rescue_kept_at is not None else ""
    return (
        f"the file holds everything recorded until then (recovered{source}, with the "
        f"{result.appended_samples} samples its writer process had not yet written; the original{originals})"
    )
