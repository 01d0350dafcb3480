"""The window's handle on the engine process: starts it (multiprocessing, spawn), sends typed
commands, and hands every report (live data included) to `on_report` on a reader thread of its
own, so nothing in the window blocks on the engine. When the engine process dies, `on_report`
receives `EngineFailed`. Importing this module loads neither bleak, bumble nor Qt: the engine's
modules are imported in the engine process only."""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import threading
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection

from engine.errors import EngineDiedError
from engine.messages import Command, EngineFailed, Report, Shutdown

log = logging.getLogger(__name__)

#: Clients whose engine has not been closed yet. At a normal interpreter exit multiprocessing's
#: own exit handler terminates the engine (SIGTERM: it stops what runs and closes its recording,
#: "stopped because the window went away"); `_expect_the_end_at_exit` tells the reader threads
#: first, so they do not report that as a crash.
_OPEN: weakref.WeakSet[EngineClient] = weakref.WeakSet()
_exit_handler_registered = False


def _expect_the_end_at_exit() -> None:
    """Registered after multiprocessing's exit handler, so it runs before it (atexit is LIFO)."""
    for client in list(_OPEN):
        client._closing = True


def _register_exit_handler() -> None:
    global _exit_handler_registered
    if not _exit_handler_registered:
        atexit.register(_expect_the_end_at_exit)
        _exit_handler_registered = True


def _engine_main(commands: Connection, reports: Connection, log_level: int) -> None:
    """Runs in the engine process (imports the engine's heavy modules there only)."""
    from engine.process import main

    main(commands, reports, log_level)


class EngineClient:
    """One engine process for one window. on_report is called on the client's reader thread
    (keep it quick: store the report, append to a queue)."""

    def __init__(self, on_report: Callable[[Report], None], log_level: int | None = None) -> None:
        self.on_report = on_report
        context = multiprocessing.get_context("spawn")
        command_out, command_in = context.Pipe(duplex=False)
        report_out, report_in = context.Pipe(duplex=False)
        level = log_level if log_level is not None else logging.getLogger().getEffectiveLevel()
        self.process = context.Process(
            target=_engine_main, args=(command_out, report_in, level), name="stabmon-engine", daemon=True
        )
        self.process.start()
        command_out.close()  # the engine's ends: when the window's process dies, the engine sees EOF
        report_in.close()
        self._commands = command_in
        self._reports = report_out
        self._lock = threading.Lock()
        self.failed: str = ""
        self._closing = False
        self._reader = threading.Thread(target=self._read, name="stabmon-engine-client", daemon=True)
        self._reader.start()
        _OPEN.add(self)
        _register_exit_handler()  # after Process.start imported multiprocessing.util's handler

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return not self.failed and self.process.is_alive()

    def send(self, command: Command) -> None:
        """Send a command; raises EngineDiedError when the engine process is gone."""
        if self.failed:
            raise EngineDiedError(self.failed)
        try:
            with self._lock:
                self._commands.send(command)
        except (OSError, ValueError) as error:
            raise EngineDiedError(f"the session engine is not running ({error})") from error

    def _read(self) -> None:
        while True:
            try:
                report = self._reports.recv()
            except (EOFError, OSError):
                break
            try:
                self.on_report(report)
            except Exception:  # a bug in the handler must not stop the reports
                log.exception("handling %s failed", type(report).__name__)
        if self._closing:
            return
        self.process.join(2.0)
        code = self.process.exitcode
        self.failed = (
            f"The session engine stopped unexpectedly (exit code {code}). What was recorded up to then "
            "is in its file; restart the program to go on."
        )
        log.error(self.failed)
        self.on_report(EngineFailed(self.failed))

    def close(self, timeout_s: float = 30.0) -> None:
        """Ask the engine to stop what runs (its recording is closed and kept) and end; waits up
        to timeout_s, then terminates it."""
        self._closing = True
        _OPEN.discard(self)
        if self.process.is_alive():
            try:
                with self._lock:
                    self._commands.send(Shutdown())
            except (OSError, ValueError):
                pass
            self.process.join(timeout_s)
        if self.process.is_alive():
            log.error("the session engine did not end within %.0f s: terminating it", timeout_s)
            self.process.terminate()
            self.process.join(5.0)
        self._reader.join(5.0)
        self._commands.close()
