"""The clinic session: connects sensors, checks calibration and runs drill protocols, recording
every repetition to the session library. Qt-free; the dashboard reads its snapshots.

The session runs on its own thread with its own asyncio loop (BLE and processing live there).
Methods called from the GUI thread only set flags, queue marks or hand work to that loop; what
the GUI shows comes from immutable snapshots (`status`, `health`) that the loop replaces, and from
the `LiveFeed` queue. Whatever happens (stop, sensor lost, error, window closed), a recording
that was started is closed properly and kept.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from engine.calibration_check import judge_calibration
from engine.factory import Recording, open_source, recording_metadata, recording_path, scan_sensors
from engine.messages import CalibrationCheck
from engine.spec import LslSpec, SensorListing, SessionSpec, SourceKind, SourceSpec, check_subject
from gui.model.cognitive import CognitiveScore, Trial, make_cognitive_task, score_responses
from gui.model.dual_task import DualTaskEffect, dual_task_effect
from gui.model.live import LiveFeed
from gui.model.protocols import DrillProtocol
from recordings import RecordingWriter
from recordings.conditions import condition_for
from sensors.events import Event, EventKind
from sensors.identity import SensorFamily
from sensors.placements import REQUIRED_PLACEMENTS, Placement
from sensors.processing import SessionRunner, SessionSettings
from sensors.processing.analysis import AnalysisResult
from sensors.processing.collector import SessionCollector
from sensors.processing.errors import ProcessingError
from sensors.processing.session import SessionSink
from sensors.source import SensorHealth

log = logging.getLogger(__name__)

#: How much stronger sway is in the simulated dual-task condition.
SIMULATED_DUAL_TASK_FACTOR = 1.4
#: How much longer than usual (s) live frames must wait for late data before the clinician is told.
BEHIND_WARNING_S = 0.5


class Phase(StrEnum):
    IDLE = "ready"
    SCANNING = "scanning"
    GET_READY = "get ready"
    CONNECTING = "connecting"
    CALIBRATING = "stand still"
    BEND = "bend forward"
    TASK = "task"
    SAVING = "saving"
    REST = "rest"


@dataclass(frozen=True)
class ClinicConfig:
    """Where data goes and which sensors are used. simulate: virtual sensors of `family` on an
    in-process radio, reached through bleak (real time), or with virtual_link=False straight from
    the simulator without a radio (lighter: the BLE stack in Python costs most of a core at 6
    sensors × 200 Hz); else `assignments` placement → address or advertised name."""

    subject_id: str
    data_dir: Path | None = None
    simulate: bool = True
    family: SensorFamily = SensorFamily.STABMON
    placements: tuple[Placement, ...] = REQUIRED_PLACEMENTS
    assignments: dict[Placement, str] = field(default_factory=dict)
    rate_hz: float = 100.0
    lsl: bool = False
    virtual_link: bool = True
    seed: int | None = None  # simulator seed; None: a fresh one per recording (stored in it)
    scan_timeout_s: float = 5.0

    def check(self) -> None:
        """Raise ValueError saying what is missing before anything connects."""
        check_subject(self.subject_id)
        self.spec().check()

    def spec(self) -> SessionSpec:
        """The session specification of this setup (drill and duration set per recording)."""
        kind = (
            SourceKind.BLUETOOTH
            if not self.simulate
            else SourceKind.VIRTUAL_BLE
            if self.virtual_link
            else SourceKind.SIMULATED
        )
        return SessionSpec(
            source=SourceSpec(
                kind=kind,
                family=self.family,
                placements=self.placements,
                assignments=tuple(self.assignments.items()),
                seed=self.seed,
                realtime=True,
                scan_timeout_s=1.5 if self.simulate else self.scan_timeout_s,
                dual_task_factor=SIMULATED_DUAL_TASK_FACTOR,
            ),
            lsl=LslSpec(outlet=self.lsl),
            processing=SessionSettings(rate_hz=self.rate_hz),
        )


@dataclass(frozen=True)
class RunStatus:
    """What the clinician sees of the run. remaining_s: of the current phase (NaN: open-ended);
    elapsed_s: session time of the current recording; recording: its file while one is open."""

    phase: Phase = Phase.IDLE
    protocol: str = ""
    repetition: int = 0
    repetitions: int = 0
    condition: str = "single"
    remaining_s: float = math.nan
    elapsed_s: float = 0.0
    recording: Path | None = None
    instruction: str = ""


@dataclass(frozen=True)
class RecordingResult:
    """One finished recording: its file, measures (None with the reason in `problem`) and, in the
    dual-task condition, the cognitive score."""

    protocol: str
    repetition: int
    condition: str
    path: Path
    drill: str
    measures: AnalysisResult | None
    problem: str = ""
    cognitive: CognitiveScore | None = None


class _Cognitive:
    """The cognitive task during a dual-task recording (shared by the GUI and session threads)."""

    def __init__(self, name: str, seed: int) -> None:
        self.task = make_cognitive_task(name, seed)
        self.trial: Trial = self.task.first()
        self.shown_at = time.monotonic()
        self.correct: list[bool] = []
        self.times: list[float] = []
        self.lock = threading.Lock()


class ClinicSession:
    """Runs the clinic's work on a background thread; see the module docstring."""

    def __init__(self, config: ClinicConfig) -> None:
        self.config = config
        self.feed = LiveFeed()
        self.status = RunStatus()
        self.health: dict[Placement, SensorHealth] = {}
        self.discovered: list[SensorListing] = []
        self.results: list[RecordingResult] = []
        self.calibration_check: CalibrationCheck | None = None
        self.dual_task_effect: DualTaskEffect | None = None
        self.messages: deque[str] = deque()
        #: Extra sinks every recording also feeds (latency probes, lab tools); called on the
        #: session thread, so they must be quick.
        self.probes: list[SessionSink] = []
        self._runner: SessionRunner | None = None
        self._cognitive: _Cognitive | None = None
        self._stop = threading.Event()
        self._end_task = threading.Event()
        self._skip_wait = threading.Event()
        self._job: concurrent.futures.Future[Any] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="stabmon-session", daemon=True)
        self._thread.start()

    # What the GUI calls ------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._job is not None and not self._job.done()

    def configure(self, config: ClinicConfig) -> None:
        if self.busy:
            raise RuntimeError("finish or stop the running drill before changing the setup")
        self.config = config

    def scan(self) -> None:
        """Look for sensors in range (virtual ones when simulating); results in `discovered`."""
        self._submit(self._scan())

    def check_calibration(self, with_bend: bool = False) -> None:
        """The calibration step: neutral stance, and optionally a forward bend."""
        self.config.check()
        self._submit(self._calibration_step(with_bend))

    def run_protocol(self, protocol: DrillProtocol, notes: str = "") -> None:
        """Run every repetition of `protocol`, each recorded to its own file."""
        self.config.check()
        self.results = []
        self.dual_task_effect = None
        self._submit(self._run_protocol(protocol, notes))

    def stop(self) -> None:
        """End the run now; the open recording is marked, closed and kept. (The session thread
        stops the runner itself, after the mark, so the mark is in the file.)"""
        self._stop.set()

    def end_task(self) -> None:
        """End the task phase now (a hold to failure: the posture was lost)."""
        self._end_task.set()

    def skip_wait(self) -> None:
        """Start the next recording without waiting out the get-ready or rest countdown."""
        self._skip_wait.set()

    def mark(self, kind: EventKind, label: str = "", value: float = math.nan) -> Event:
        """Mark an event in the open recording at this instant (the key for a push, a note, a
        pain rating); raises RuntimeError when nothing is being recorded."""
        runner = self._runner
        if runner is None or self.status.recording is None:
            raise RuntimeError("nothing is being recorded: start a drill first")
        return runner.mark(kind, label, value)

    @property
    def trial(self) -> Trial | None:
        """The cognitive task's current trial while a dual-task recording runs."""
        cognitive = self._cognitive
        return cognitive.trial if cognitive is not None else None

    def answer(self, given: str) -> bool:
        """Score the patient's answer to the current trial, record it, show the next one."""
        cognitive = self._cognitive
        runner = self._runner
        if cognitive is None or runner is None:
            raise RuntimeError("no cognitive task is running")
        with cognitive.lock:
            trial = cognitive.trial
            correct = cognitive.task.score(trial, given)
            rt = time.monotonic() - cognitive.shown_at
            cognitive.correct.append(correct)
            cognitive.times.append(rt)
            cognitive.trial = cognitive.task.next()
            cognitive.shown_at = time.monotonic()
        verdict = "correct" if correct else "wrong"
        runner.mark(
            EventKind.ANNOTATION,
            f"{cognitive.task.name}: {trial.prompt} [{trial.ink}] answered {given!r} ({verdict})",
            rt,
            source="patient",
        )
        return correct

    def take_messages(self) -> list[str]:
        out = []
        while self.messages:
            out.append(self.messages.popleft())
        return out

    def wait(self, timeout_s: float | None = None) -> None:
        """Block until the current job ends (for scripts and tests)."""
        if self._job is not None:
            concurrent.futures.wait([self._job], timeout=timeout_s)

    def close(self, timeout_s: float = 15.0) -> None:
        """Stop what runs (closing its recording) and end the session thread."""
        self.stop()
        self.wait(timeout_s)
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(_cancel_the_rest(), self._loop).result(timeout_s)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout_s)

    # The session thread ------------------------------------------------------------------

    def _submit(self, job: Coroutine[Any, Any, None]) -> None:
        if self.busy:
            job.close()
            raise RuntimeError("something is already running; stop it first")
        self._stop.clear()
        self._end_task.clear()
        self._skip_wait.clear()
        self._job = asyncio.run_coroutine_threadsafe(self._guarded(job), self._loop)

    async def _guarded(self, job: Coroutine[Any, Any, None]) -> None:
        try:
            await job
        except Exception as error:  # shown to the clinician, never as a traceback
            log.exception("session job failed")
            self.messages.append(f"{type(error).__name__}: {error}" if not str(error) else str(error))
        finally:
            self._runner = None
            self._cognitive = None
            self.status = RunStatus()

    async def _scan(self) -> None:
        self.status = RunStatus(Phase.SCANNING, instruction="looking for sensors…")
        found = await scan_sensors(self.config.spec())
        self.discovered = found
        self.messages.append(f"found {len(found)} sensor(s)" if found else "no sensors found")

    async def _run_protocol(self, protocol: DrillProtocol, notes: str) -> None:
        for repetition in range(1, protocol.repetitions + 1):
            base = RunStatus(
                protocol=protocol.name,
                repetition=repetition,
                repetitions=protocol.repetitions,
                condition=protocol.condition(repetition),
            )
            wait_phase, wait_s = (
                (Phase.GET_READY, protocol.get_ready_s) if repetition == 1 else (Phase.REST, protocol.rest_s)
            )
            await self._countdown(replace(base, phase=wait_phase, instruction=protocol.instructions), wait_s)
            if self._stop.is_set():
                return
            result = await self._record(protocol, repetition, base, notes)
            self.results.append(result)
            if result.problem:
                self.messages.append(f"repetition {repetition}: {result.problem}")
            if self._stop.is_set():
                return
        if protocol.dual_task:
            self.dual_task_effect = dual_task_effect(self.results)

    async def _countdown(self, status: RunStatus, seconds: float) -> None:
        end = time.monotonic() + seconds
        self._skip_wait.clear()
        while (
            (left := end - time.monotonic()) > 0 and not self._stop.is_set() and not self._skip_wait.is_set()
        ):
            self.status = replace(status, remaining_s=left)
            await asyncio.sleep(0.05)

    async def _record(
        self, protocol: DrillProtocol, repetition: int, base: RunStatus, notes: str
    ) -> RecordingResult:
        c = self.config
        condition = protocol.condition(repetition)
        task_end_s = protocol.calibration_s + protocol.task_s
        spec = c.spec().for_drill(protocol.drill)
        self.status = replace(base, phase=Phase.CONNECTING, instruction="connecting the sensors…")
        cognitive = None
        async with open_source(
            spec,
            protocol.drill,
            task_end_s,
            calibration_s=protocol.calibration_s,
            dual_task=condition == "dual",
            task_markers=False,
        ) as opened:
            metadata = recording_metadata(
                spec,
                c.subject_id.strip(),
                opened,
                notes,
                {
                    "protocol": protocol.key,
                    "protocol_name": protocol.name,
                    "repetition": repetition,
                    "repetitions": protocol.repetitions,
                    "condition": condition,
                    "cognitive_task": protocol.cognitive_task if condition == "dual" else "",
                    "task_s": protocol.task_s,
                },
                condition_for(protocol.drill, condition, protocol.cognitive_task),
            )
            path = recording_path(metadata, c.data_dir)
            collector = SessionCollector()
            recording = Recording(spec, opened.source, metadata, path, [collector, self.feed, *self.probes])
            try:
                cognitive = (
                    _Cognitive(protocol.cognitive_task, (c.seed or 0) + repetition)
                    if condition == "dual"
                    else None
                )
                await self._drive(recording.runner, protocol, base, recording.writer, cognitive)
            finally:
                self.status = replace(base, phase=Phase.SAVING, recording=None, instruction="saving…")
                await recording.close()
        score = None
        if cognitive is not None:
            score = score_responses(cognitive.correct, cognitive.times, protocol.task_s)
        try:
            measures, problem = collector.analysis(protocol.drill), ""
        except ProcessingError as error:
            measures, problem = None, str(error)
        return RecordingResult(
            protocol.name, repetition, condition, path, protocol.drill, measures, problem, score
        )

    async def _drive(
        self,
        runner: SessionRunner,
        protocol: DrillProtocol,
        base: RunStatus,
        writer: RecordingWriter,
        cognitive: _Cognitive | None,
    ) -> None:
        """Run the recording's phases by session time: still stance, then the task."""
        path = writer.path
        disk_warned = behind_warned = rescue_warned = False
        self._runner = runner
        self._end_task.clear()
        task = asyncio.create_task(runner.run())
        start_s = protocol.calibration_s
        end_s = start_s + protocol.task_s
        phase = Phase.CALIBRATING
        try:
            while not task.done():
                now = runner.session_time_s
                if phase is Phase.CALIBRATING and now >= start_s:
                    runner.mark(EventKind.TASK_START, protocol.drill, source="protocol", time_s=start_s)
                    phase = Phase.TASK
                    if cognitive is not None:
                        cognitive.shown_at = time.monotonic()
                        self._cognitive = cognitive
                if phase is Phase.TASK and (now >= end_s or self._end_task.is_set()):
                    at = now if self._end_task.is_set() else end_s
                    label = "ended by the clinician" if self._end_task.is_set() else protocol.drill
                    runner.mark(EventKind.TASK_END, label, source="protocol", time_s=at)
                    self._cognitive = None
                    runner.stop()
                    break
                if self._stop.is_set():
                    runner.mark(
                        EventKind.ANNOTATION, "stopped by the clinician", source="protocol", time_s=now
                    )
                    runner.stop()
                    break
                remaining = (start_s if phase is Phase.CALIBRATING else end_s) - now
                instruction = (
                    "Stand upright and still" if phase is Phase.CALIBRATING else protocol.instructions
                )
                self.status = replace(
                    base,
                    phase=phase,
                    remaining_s=remaining,
                    elapsed_s=now,
                    recording=path,
                    instruction=instruction,
                )
                self.health = runner.health()
                if writer.disk_space_low and not disk_warned:
                    disk_warned = True
                    self.messages.append(
                        "The disk is almost full: the recording is kept in memory and written as soon as "
                        "there is room. Free some disk space."
                    )
                if writer.rescue_file is not None and not rescue_warned:
                    rescue_warned = True
                    self.messages.append(
                        "Writing the recording failed (is the disk full?). Nothing is lost: it is being "
                        "written again to a new file, which replaces it when the recording ends."
                    )
                if runner.live_wait_s > runner.settings.max_wait_s + BEHIND_WARNING_S and not behind_warned:
                    behind_warned = True
                    self.messages.append(
                        f"The computer is too busy to keep up: the live view now runs up to "
                        f"{runner.live_wait_s:.1f} s behind so that no sensor's data are left out. "
                        "The recording is complete. Closing other programs helps."
                    )
                await asyncio.sleep(0.05)
            await task
        finally:
            self._cognitive = None
            if not task.done():
                runner.stop()
                await asyncio.wait([task], timeout=10.0)
            self.health = runner.health()
            self._runner = None

    async def _calibration_step(self, with_bend: bool) -> None:
        """A short unrecorded session: still stance (the neutral calibration), then a bend."""
        self.calibration_check = None
        still_s, bend_s, grace_s = 3.0, 7.0, 4.0
        drill = "forward-bend" if with_bend else "quiet-stance"
        total = still_s + (bend_s if with_bend else grace_s) + 1.0
        spec = self.config.spec()
        async with open_source(spec, drill, total, calibration_s=still_s, task_markers=False) as opened:
            collector = SessionCollector()
            runner = SessionRunner(opened.source, [collector, self.feed], spec.processing)
            self._runner = runner
            task = asyncio.create_task(runner.run())
            self.status = RunStatus(Phase.CONNECTING, instruction="connecting the sensors…")
            try:
                while not task.done() and not self._stop.is_set():
                    now = runner.session_time_s
                    if collector.calibration is None and now > still_s + grace_s:
                        break
                    if collector.calibration is not None and (
                        not with_bend or now > collector.calibration.time_s + bend_s
                    ):
                        break
                    bending = collector.calibration is not None
                    self.status = RunStatus(
                        Phase.BEND if bending else Phase.CALIBRATING,
                        remaining_s=(collector.calibration.time_s + bend_s - now)
                        if bending
                        else max(0.0, still_s - now),
                        elapsed_s=now,
                        instruction="Bend forward slowly as far as is comfortable, then come back up"
                        if bending
                        else "Stand upright and still, arms relaxed",
                    )
                    self.health = runner.health()
                    await asyncio.sleep(0.05)
            finally:
                runner.stop()
                await task
                self._runner = None
        self.calibration_check = judge_calibration(collector, runner.pipeline.calibration_failures, with_bend)


async def _cancel_the_rest() -> None:
    """Cancel what is left on the loop (a virtual sensor's pending re-advertising) and let it end."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
