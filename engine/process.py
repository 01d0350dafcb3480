"""The engine process: acquisition on its own asyncio loop, clock mapping, synchronisation,
processing, the writer thread and LSL, driven by typed commands from the window and answering
with typed reports (`engine.messages`). Started by `engine.client.EngineClient`.

The window can freeze or die without stopping a recording: reports go out through a sender
thread with a bounded backlog (live data and superseded status are dropped while the window does
not read), and when the window's end of the command pipe closes (or its process is gone) the
open recording gets the event "stopped because the window went away" and is closed like a
normally stopped one, then the process ends. SIGTERM (the window's Python terminating its
children as it exits) does the same; Ctrl+C is left to the window.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Coroutine
from multiprocessing.connection import Connection
from typing import Any

from engine.messages import (
    Calibrate,
    EndTask,
    HealthReport,
    JobDone,
    Live,
    Mark,
    Notice,
    Report,
    RunStatus,
    Scan,
    Severity,
    Shutdown,
    SkipWait,
    StartProtocol,
    StatusReport,
    Stop,
)
from engine.work import SessionWork
from sensors.events import Event
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.live_measures import RunningMeasures
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import NullSink
from sensors.samples import Frame
from sensors.source import StatusChange

log = logging.getLogger(__name__)

#: Reports waiting for a window that does not read before live data and status are dropped.
BACKLOG = 2000
#: How often (s) the command reader checks that the window's process is still there.
PARENT_CHECK_S = 0.5
#: How often (s) the reports gathered since go to the window (it redraws up to 60 times a second).
SEND_INTERVAL_S = 1 / 120
#: Longest (s) a thread of the engine runs Python code while another waits for the interpreter
#: (Python's default is 5 ms: the loop, woken by a notification while the writer or the report
#: sender ran, waited that long before it could take it).
SWITCH_INTERVAL_S = 0.0005


class Outbox:
    """Reports to the window through a sender thread; `send` never blocks the engine and never
    wakes the sender: it sends what was reported every SEND_INTERVAL_S, the live data of an
    interval as one `Live` (a thread woken per frame took the interpreter from the engine's loop
    just when the next notification came)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dropped = 0
        self.closed = False
        self._pending: deque[Report | list[Any]] = deque()  # a list: items of one Live to come
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stabmon-engine-reports", daemon=True)
        self._thread.start()

    def send(self, report: Report) -> None:
        with self._lock:
            if self.closed:
                return
            if len(self._pending) >= BACKLOG and isinstance(report, (Live, StatusReport, HealthReport)):
                self.dropped += 1  # the window is not reading: its live view can do without
                return
            if isinstance(report, Live):
                last = self._pending[-1] if self._pending else None
                if isinstance(last, list) and len(last) < BACKLOG:
                    last.extend(report.items)
                else:
                    self._pending.append(list(report.items))
                return
            self._pending.append(report)

    def _run(self) -> None:
        while True:
            closing = self._closing.wait(SEND_INTERVAL_S)
            with self._lock:
                batch = list(self._pending)
                self._pending.clear()
            if closing and not batch:
                return
            for report in batch:
                try:
                    self.connection.send(Live(tuple(report)) if isinstance(report, list) else report)
                except (OSError, ValueError):  # the window is gone
                    with self._lock:
                        self.closed = True
                        self._pending.clear()
                    return

    def close(self, timeout_s: float = 5.0) -> None:
        """Send what is pending (for up to timeout_s), then stop."""
        with self._lock:
            self.closed = True
        self._closing.set()
        self._thread.join(timeout_s)


class LiveForwarder(NullSink):
    """Session sink that forwards what the window's live view takes, call by call."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def on_start(self, host_origin_ns: int) -> None:
        self.outbox.send(Live((("start", host_origin_ns),)))

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        self.outbox.send(Live((("frame", frame, angles),)))

    def on_event(self, event: Event) -> None:
        self.outbox.send(Live((("event", event),)))

    def on_measures(self, measures: RunningMeasures) -> None:
        self.outbox.send(Live((("measures", measures),)))

    def on_calibration(self, calibration: SegmentCalibration) -> None:
        self.outbox.send(Live((("calibration", calibration),)))

    def on_status(self, status: StatusChange) -> None:
        self.outbox.send(Live((("status", status),)))


class Engine:
    """Runs the window's commands on one asyncio loop, one job at a time."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.work = SessionWork(outbox.send, LiveForwarder(outbox))
        self.job: asyncio.Task[None] | None = None
        self.ending = asyncio.Event()

    def handle(self, command: object) -> None:
        """One command, on the loop's thread."""
        work = self.work
        if isinstance(command, (Scan, Calibrate, StartProtocol)):
            if self.job is not None and not self.job.done():
                self.outbox.send(Notice(Severity.ERROR, "something is already running; stop it first"))
                return
            work.reset()
            if isinstance(command, Scan):
                job: Coroutine[Any, Any, None] = work.scan(command.spec)
            elif isinstance(command, Calibrate):
                job = work.calibrate(command.spec, command.with_bend)
            else:
                job = work.run_protocol(
                    command.spec,
                    command.plan,
                    command.subject_id,
                    command.notes,
                    command.data_dir,
                    command.probe,
                )
            self.job = asyncio.get_running_loop().create_task(self._guarded(job))
        elif isinstance(command, Stop):
            work.stop_requested.set()
        elif isinstance(command, EndTask):
            work.end_task_requested.set()
        elif isinstance(command, SkipWait):
            work.skip_wait_requested.set()
        elif isinstance(command, Mark):
            work.mark(command.event)
        elif isinstance(command, Shutdown):
            self.end(window_gone=False)
        else:
            log.error("unknown command %r", command)

    def end(self, window_gone: bool) -> None:
        """Stop what runs (its recording is closed and kept) and let the process end."""
        if window_gone:
            log.warning("the window went away: stopping")
            self.work.window_gone = True
        self.work.stop_requested.set()
        self.ending.set()

    async def _guarded(self, job: Coroutine[Any, Any, None]) -> None:
        try:
            await job
        except Exception as error:  # shown to the clinician, never as a traceback
            log.exception("engine job failed")
            self.outbox.send(Notice(Severity.ERROR, str(error) or type(error).__name__))
        finally:
            self.outbox.send(StatusReport(RunStatus()))
            self.outbox.send(JobDone())

    async def serve(self, commands: Connection) -> None:
        loop = asyncio.get_running_loop()
        parent = os.getppid()

        def read() -> None:  # the command reader thread
            while True:
                try:
                    if not commands.poll(PARENT_CHECK_S):
                        if os.getppid() != parent:
                            raise EOFError("the window's process is gone")
                        continue
                    command = commands.recv()
                except (EOFError, OSError):
                    loop.call_soon_threadsafe(self.end, True)
                    return
                loop.call_soon_threadsafe(self.handle, command)
                if isinstance(command, Shutdown):
                    return

        threading.Thread(target=read, name="stabmon-engine-commands", daemon=True).start()
        # The window's Python ending terminates its daemonic children: close the recording properly
        # (not on Windows' event loops, which have no signal handlers).
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGTERM, self.end, True)
        await self.ending.wait()
        if self.job is not None:
            await asyncio.wait([self.job], timeout=30.0)
        await _cancel_the_rest()


async def _cancel_the_rest() -> None:
    """Cancel what is left on the loop (a virtual sensor's pending re-advertising) and let it end."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


#: Scheduling priority (nice) the engine asks for: acquisition must not wait for the window or
#: other programs. Granted only where the user may raise priorities (else it stays as it is).
ENGINE_NICE = -5


def raise_priority(nice: int = ENGINE_NICE) -> bool:
    """Ask the OS to schedule this process ahead of ordinary ones; False when not allowed."""
    if not hasattr(os, "setpriority"):
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, 0, min(os.getpriority(os.PRIO_PROCESS, 0), nice))
    except OSError as error:
        log.info("engine priority not raised (%s)", error)
        return False
    return True


def main(commands: Connection, reports: Connection, log_level: int = logging.WARNING) -> None:
    """The engine process's entry point."""
    logging.basicConfig(level=log_level, format="engine %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the window's: it stops the engine
    logging.getLogger("bumble").setLevel(max(log_level, logging.ERROR))  # its link chatter
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    if os.environ.get("STABMON_ENGINE_NICE", "1") != "0":
        raise_priority()
    outbox = Outbox(reports)
    try:
        asyncio.run(Engine(outbox).serve(commands))
    finally:
        outbox.close()
        log.info("engine process ends (%d live reports dropped)", outbox.dropped)
