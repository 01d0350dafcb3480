"""The recording's writer process (`recordings.writer_process` is the engine's side): it runs an
unchanged `RecordingWriter` on the file the engine asks for, fed the batches the engine sends
(`recordings.writer_wire`), reports the writer's state when it changes, and closes the file on
`Close` — or when the engine is gone (its end of the socket closed, even by SIGKILL; or SIGTERM):
then it writes everything it received, the last partial chunks too, closes the file and ends. An
idle one (started ahead of a recording) ends with its parent. It runs at default priority
(`WRITER_NICE`), below the engine's: at nice 5 a busy computer starved it (a flush took up to
0.28 s at load 5 on 2 cores, waiting for a CPU), which widens what a machine crash can lose.

Run as `python -m recordings.writer_server CONNECTION_FD PARENT_PID`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from recordings.errors import RecordingError
from recordings.writer import RecordingWriter
from recordings.writer_wire import Batch, Close, Closed, Flushed, Open, Opened, Reply, State, unpack
from sensors.placements import Placement
from sensors.process_cpu import process_cpu_ns

log = logging.getLogger(__name__)

#: How often (s) the writer process checks its parent is there and reports a changed state.
CHECK_S = 0.25
#: Scheduling priority (nice) of the writer process: below the engine (-5 where allowed), as the
#: radio process and the window.
WRITER_NICE = 0
#: Flushes whose timing the writer process keeps (`WriterProcess.flushes`); about 4 a second.
FLUSHES_KEPT = 100_000


class _TimedWriter(RecordingWriter):
    """A `RecordingWriter` that keeps when each flush ran (for the engine's latency probe) and
    tells `flushed` the rows written so far per dataset after each flush that succeeded."""

    def __init__(self, *args: Any, flushed: Callable[[Flushed], None], **kwargs: Any) -> None:
        self.flushes: deque[tuple[int, int, int]] = deque(maxlen=FLUSHES_KEPT)
        self._flushed = flushed
        super().__init__(*args, **kwargs)

    def _write(self, *args: Any, **kwargs: Any) -> bool:
        started, filtered = time.monotonic_ns(), self.filter_ns
        try:
            done = super()._write(*args, **kwargs)
        finally:
            self.flushes.append((started, time.monotonic_ns(), self.filter_ns - filtered))
        if done:
            self._flushed(Flushed(self.written_rows()))
        return done


def _state_of(writer: RecordingWriter) -> State:
    error = writer.failure
    return State(
        writer.disk_space_low,
        writer.held_back_episodes,
        writer.rescue_file,
        f"{type(error).__name__}: {error}" if error is not None else "",
    )


def _cpu_since(then: tuple[int, int] | None) -> tuple[int, int] | None:
    now = process_cpu_ns()
    if now is None or then is None:
        return None
    return now[0] - then[0], now[1] - then[1]


class _Server:
    """The writer process's work: open the file, feed the writer, close it."""

    def __init__(self, connection: Connection, parent_pid: int) -> None:
        self.connection = connection
        self.parent_pid = parent_pid
        self.writer: _TimedWriter | None = None
        self.placements: tuple[Placement, ...] = ()
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
                    "%s: the engine is gone (%s): closing the file",
                    self.writer.path.name,
                    str(why) or "its connection closed",  # a bare EOFError says nothing
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
            if isinstance(request, Batch):
                assert self.writer is not None
                self.writer.put_all(unpack(request, self.placements))
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
                flushed=self.reply,
                flush_interval_s=request.flush_interval_s,
                min_free_bytes=request.min_free_bytes,
            )
        except (RecordingError, ValueError, OSError) as error:
            self.reply(Opened(getattr(error, "problem", "") or str(error)))
            return
        self.placements = tuple(request.sensors)
        self.cpu_at_open = process_cpu_ns()
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
    if hasattr(os, "setpriority"):  # whatever the engine asked for itself
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, WRITER_NICE)
    _Server(Connection(fd), parent_pid).serve()
    logging.shutdown()
    os._exit(0)  # the file is closed and answered for: skip the interpreter's slow teardown


if __name__ == "__main__":  # run by the module's own name, so its messages pickle by that name
    from recordings.writer_server import main as _main

    _main(sys.argv[1:])
