"""The recording writer in a process of its own, for real-time sessions.

h5py holds the interpreter lock in every HDF5 call (`write_direct_chunk` per chunk, the SWMR
flush), so a `RecordingWriter` thread in the engine's process held up the acquisition loop at each
flush. `WriterProcess` has the same interface as `RecordingWriter` (the `append_*`/`add_*`/`set_*`
calls, `close() -> path`, the state the engine watches and the counters read afterwards) and
runs an unchanged `RecordingWriter` — layout, chunk policy, rescue, disk-full handling — in a
child process (`python -m recordings.writer_process`, a fresh interpreter: never forked from the
engine, which has threads). The engine queues the messages and a sender thread sends them every
`SEND_INTERVAL_S` as one pickled batch (protocol 5) over a `multiprocessing.connection`
socket pair: a few sends per flush interval, each holding the interpreter lock for one small
pickle; the socket write releases it.

Crash safety: if the engine dies (even SIGKILL) the writer process reads end-of-file, writes
everything it received — the last partial chunks too — and closes a complete file, then ends.
If the writer process dies, `_put` raises `RecordingError` (the session stops) and `close()`
recovers the file to what the writer had flushed (`recordings.recovery`), then raises saying so.
A writer process ends once its file is closed; an idle one (`prestart`) ends with its parent.

`prestart()` starts an idle writer process ahead of a recording, so that the recording does not
wait for its imports (h5py, numpy: about a second on a busy computer); the next `WriterProcess`
takes it. `writer_process_wanted` is the one switch: real-time sessions on POSIX systems, unless
STABMON_WRITER_PROCESS=0; fast runs keep the writer thread in their own process.

Run as `python -m recordings.writer_process CONNECTION_FD PARENT_PID`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from recordings import schema
from recordings.errors import RecordingError
from recordings.file_layout import SessionMetadata, processing_written
from recordings.writer import CLOSE_WAIT_S, MIN_FREE_BYTES, RecordingWriter
from recordings.writer_messages import (
    CalibrationResult,
    EventRow,
    FrameRows,
    HostOrigin,
    RawSamples,
    WriterMessage,
)
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
#: How often (s) the writer process checks its parent is there and reports a changed state.
CHECK_S = 0.25
#: Flushes whose timing the writer process keeps (`WriterProcess.flushes`); about 4 a second.
FLUSHES_KEPT = 100_000


def writer_process_wanted(realtime: bool) -> bool:
    """Whether a recording's writer runs in a process of its own: real-time sessions on POSIX
    systems, unless STABMON_WRITER_PROCESS=0."""
    return realtime and os.name == "posix" and os.environ.get("STABMON_WRITER_PROCESS", "1") != "0"


# Engine → writer process (pickled; a list is a batch of `WriterMessage`s) ---------------------


@dataclass(frozen=True)
class Open:
    """Create the recording (`RecordingWriter`'s arguments)."""

    path: Path
    metadata: SessionMetadata
    sensors: dict[Placement, SensorIdentity]
    flush_interval_s: float
    min_free_bytes: int


@dataclass(frozen=True)
class Close:
    """Write everything, close the file, answer `Closed` and end."""


# Writer process → engine -----------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """The file is created (error: why it could not be, and the process ends)."""

    error: str = ""


@dataclass(frozen=True)
class State:
    """What the engine watches while recording, sent when it changes (error: the writer failed)."""

    disk_space_low: bool = False
    held_back_episodes: int = 0
    rescue_file: Path | None = None
    error: str = ""


@dataclass(frozen=True)
class Closed:
    """The file is closed (error: why writing failed). Counters as `RecordingWriter`'s;
    flushes: (monotonic ns started, ended, ns of it filtering outside HDF5) per flush; cpu_ns:
    the process's (ns on a CPU, ns waiting for one) from the file's opening, None where not
    known."""

    state: State
    error: str = ""
    chunks_stored_directly: int = 0
    h5py_writes: int = 0
    filter_ns: int = 0
    out_of_order_samples: int = 0
    flushes: list[tuple[int, int, int]] = field(default_factory=list)
    cpu_ns: tuple[int, int] | None = None


Reply = Opened | State | Closed


# The engine's side ---------------------------------------------------------------------------


class _Child:
    """A started writer process and the engine's end of its connection."""

    def __init__(self) -> None:
        here, there = socket.socketpair()
        root = Path(__file__).resolve().parents[1]
        path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "recordings.writer_process", str(there.fileno()), str(os.getpid())],
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
        self._closing = threading.Event()
        self._done = threading.Event()
        self._closed: Closed | None = None
        self._child = _take_spare()
        self.pid = self._child.process.pid
        self._open(Open(self.path, metadata, dict(sensors), flush_interval_s, min_free_bytes))
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
        created is raised by the next `append_*` and by `close`; a file already there, here."""
        if self.path.exists():
            raise RecordingError(self.path, "cannot create the recording: the file exists")
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
        if self._error:
            raise RecordingError(self.path, self._error)
        self._outgoing.append(message)

    def close(self) -> Path:
        """Send what is queued, have the writer process close the file, and return its path.
        Raises RecordingError when writing failed, or when the writer process went away (the
        file is then recovered to what it had written)."""
        if not self._closing.is_set():
            self._closing.set()
            self._sender.join()
        if not self._done.wait(CLOSE_TIMEOUT_S):
            self._child.process.kill()
            self._done.wait()
        self._child.end()
        if self._not_opened:
            raise RecordingError(self.path, self._not_opened)
        if self.lost is not None:
            raise RecordingError(self.path, f"{self.lost}; {_recovered(self.path)}")
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
                    connection.send_bytes(pickle.dumps(batch, protocol=5))
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
                if isinstance(reply, State):
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


def _recovered(path: Path) -> str:
    """Recover the file a writer process left open; says what the file now holds."""
    from recordings.recovery import needs_recovery, recover

    try:
        if not needs_recovery(path):
            return "the file holds what was written until then"
        kept = recover(path).original_kept_at
    except RecordingError as error:
        log.error("recovering %s failed: %s", path, error)
        return f"the file holds what was written until then but could not be recovered ({error.problem})"
    return f"the file holds what was written until then (recovered; the original is kept as {kept.name})"


# The writer process ----------------------------------------------------------------------------


class _TimedWriter(RecordingWriter):
    """A `RecordingWriter` that keeps when each flush ran (for the engine's latency probe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.flushes: deque[tuple[int, int, int]] = deque(maxlen=FLUSHES_KEPT)
        super().__init__(*args, **kwargs)

    def _write(self, *args: Any, **kwargs: Any) -> bool:
        started, filtered = time.monotonic_ns(), self.filter_ns
        try:
            return super()._write(*args, **kwargs)
        finally:
            self.flushes.append((started, time.monotonic_ns(), self.filter_ns - filtered))


def _state_of(writer: RecordingWriter) -> State:
    error = writer.failure
    return State(
        writer.disk_space_low,
        writer.held_back_episodes,
        writer.rescue_file,
        f"{type(error).__name__}: {error}" if error is not None else "",
    )


def _cpu_ns() -> tuple[int, int] | None:
    """This process's (ns on a CPU, ns waiting for one) over its threads (Linux's schedstat)."""
    total = [0, 0]
    try:
        for task in Path("/proc/self/task").iterdir():
            on_cpu, waiting, _ = (task / "schedstat").read_text().split()
            total[0] += int(on_cpu)
            total[1] += int(waiting)
    except (OSError, ValueError):
        return None
    return total[0], total[1]


def _cpu_since(then: tuple[int, int] | None) -> tuple[int, int] | None:
    now = _cpu_ns()
    if now is None or then is None:
        return None
    return now[0] - then[0], now[1] - then[1]


class _Server:
    """The writer process's work: open the file, feed the writer, close it."""

    def __init__(self, connection: Connection, parent_pid: int) -> None:
        self.connection = connection
        self.parent_pid = parent_pid
        self.writer: _TimedWriter | None = None
        self.cpu_at_open: tuple[int, int] | None = None
        self._lock = threading.Lock()  # the main thread and the state reporter both send
        self._ended = threading.Event()

    def reply(self, reply: Reply) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):
            self.connection.send(reply)

    def serve(self) -> None:
        """Take requests until `Close` or the engine is gone, then close the file."""
        try:
            self._take_requests()
        except (EOFError, OSError, SystemExit) as why:  # the engine went away (or SIGTERM)
            if self.writer is not None:
                log.warning(
                    "%s: the engine is gone (%s): closing the file", self.writer.path.name, why or "ended"
                )
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # closing the file is not interrupted
            self._ended.set()
            if self.writer is not None:
                self._close(self.writer)

    def _take_requests(self) -> None:
        connection = self.connection
        while True:
            if not connection.poll(CHECK_S):
                if os.getppid() != self.parent_pid:
                    raise EOFError("the engine's process is gone")
                continue
            request = pickle.loads(connection.recv_bytes())
            if isinstance(request, list):
                assert self.writer is not None
                self.writer.put_all(request)
            elif isinstance(request, Open):
                self._open(request)
                if self.writer is None:
                    return
            elif isinstance(request, Close):
                return

    def _open(self, request: Open) -> None:
        try:
            self.writer = _TimedWriter(
                request.path,
                request.metadata,
                request.sensors,
                flush_interval_s=request.flush_interval_s,
                min_free_bytes=request.min_free_bytes,
            )
        except (RecordingError, ValueError, OSError) as error:
            self.reply(Opened(getattr(error, "problem", "") or str(error)))
            return
        self.cpu_at_open = _cpu_ns()
        self.reply(Opened())
        threading.Thread(target=self._report, name="writer-state", daemon=True).start()

    def _report(self) -> None:
        """Thread: send the writer's state whenever it changes."""
        writer = self.writer
        assert writer is not None
        sent = State()
        while not self._ended.wait(CHECK_S):
            state = _state_of(writer)
            if state != sent:
                self.reply(state)
                sent = state

    def _close(self, writer: _TimedWriter) -> None:
        error = ""
        try:
            writer.close()
        except RecordingError as failed:
            error = failed.problem
        self.reply(
            Closed(
                _state_of(writer),
                error,
                writer.chunks_stored_directly,
                writer.h5py_writes,
                writer.filter_ns,
                writer.out_of_order_samples,
                list(writer.flushes),
                _cpu_since(self.cpu_at_open),
            )
        )


def main(argv: list[str]) -> None:
    """The writer process's entry point: the connection's fd, the engine's process id."""
    fd, parent_pid = int(argv[0]), int(argv[1])
    logging.basicConfig(level=logging.WARNING, format="writer %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the window's; the engine closes us

    def terminate(signum: int, frame: object) -> None:
        raise SystemExit(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    if hasattr(os, "setpriority"):  # default priority, whatever the engine asked for itself
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, 0)
    _Server(Connection(fd), parent_pid).serve()
    logging.shutdown()
    os._exit(0)  # the file is closed and answered for: skip the interpreter's slow teardown


if __name__ == "__main__":  # run by the module's own name, so its messages pickle by that name
    from recordings.writer_process import main as _main

    _main(sys.argv[1:])
