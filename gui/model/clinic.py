"""The clinic session as the window sees it: a client of the session engine, which runs in a
process of its own (acquisition, processing, recording, LSL; see `engine.process`). Qt-free.

Methods called from the GUI thread send typed commands and return at once; what the GUI shows
comes from immutable snapshots (`status`, `health`, `results`, …) that the client's reader thread
replaces as the engine's reports arrive, and from the `LiveFeed` queue it fills. A window that
freezes or dies does not stop a recording (the engine closes it properly when the window is
gone); an engine that dies shows as `Phase.FAILED` with a message.

The cognitive task of the dual-task condition stays here, with the patient: its prompts and
answers are scored in the window and each answer is recorded in the file as a mark.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque

from engine.client import EngineClient
from engine.errors import EngineDiedError
from engine.messages import (
    Calibrate,
    CalibrationCheck,
    CalibrationChecked,
    Discovered,
    EndTask,
    EngineFailed,
    HealthReport,
    JobDone,
    Live,
    Mark,
    Notice,
    Phase,
    ProbeReport,
    RecordingFinished,
    Report,
    RunStatus,
    Scan,
    Severity,
    SkipWait,
    StartProtocol,
    StatusReport,
    Stop,
)
from engine.spec import SensorListing
from gui.model.clinic_setup import ClinicConfig, protocol_plan
from gui.model.cognitive import CognitiveRun, Trial
from gui.model.live import LiveFeed
from gui.model.protocols import DrillProtocol
from gui.model.results import RecordingResult
from recordings.conditions import COGNITIVE_CONDITIONS
from recordings.dual_task import (
    ANSWER_SOURCE,
    ConditionResult,
    DualTaskEffect,
    answer_label,
    dual_task_effect,
)
from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.processing.pipeline import AngleDefinition, angle_definition
from sensors.source import SensorHealth

__all__ = ["ClinicConfig", "ClinicSession", "Phase", "RecordingResult", "RunStatus"]

log = logging.getLogger(__name__)


class ClinicSession:
    """The window's side of a session engine; see the module docstring."""

    def __init__(self, config: ClinicConfig) -> None:
        self.config = config
        self.feed = LiveFeed()
        self.status = RunStatus()
        self.health: dict[Placement, SensorHealth] = {}
        self.discovered: list[SensorListing] = []
        self.results: list[RecordingResult] = []
        self.calibration_check: CalibrationCheck | None = None
        self.dual_task_effect: DualTaskEffect | None = None
        #: Notices with their severity and topic, as the engine sent them (and its death).
        self.notices: deque[Notice] = deque(maxlen=200)
        #: Time every notification and frame in the engine (benchmarks/latency.py); the probes
        #: arrive in `probes`, one per recording.
        self.probe = False
        self.probes: list[ProbeReport] = []
        self._protocol: DrillProtocol | None = None
        self._cognitive: CognitiveRun | None = None
        self._cognitive_done: dict[int, CognitiveRun] = {}
        self._idle = threading.Event()
        self._idle.set()
        self.engine = EngineClient(self._on_report)

    # What the GUI calls ------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    @property
    def engine_pid(self) -> int | None:
        return self.engine.pid

    def configure(self, config: ClinicConfig) -> None:
        if self.busy:
            raise RuntimeError("finish or stop the running drill before changing the setup")
        self.config = config

    def scan(self) -> None:
        """Look for sensors in range (virtual ones when simulating); results in `discovered`."""
        self._submit(Scan(self.config.spec()))

    def check_calibration(self, with_bend: bool = False) -> None:
        """The calibration step: neutral stance, and optionally a forward bend."""
        self.config.check()
        self.calibration_check = None
        self._submit(Calibrate(self.config.spec(), with_bend))

    def run_protocol(self, protocol: DrillProtocol, notes: str = "") -> None:
        """Run every repetition of `protocol`, each recorded to its own file."""
        self.config.check()
        if self.busy:
            raise RuntimeError("something is already running; stop it first")
        self.results = []
        self.dual_task_effect = None
        self._protocol = protocol
        self._cognitive_done = {}
        c = self.config
        self._submit(
            StartProtocol(
                c.spec(), protocol_plan(protocol), c.subject_id.strip(), notes, c.data_dir, self.probe
            )
        )

    def stop(self) -> None:
        """End the run now; the open recording is marked, closed and kept."""
        self._send(Stop())

    def end_task(self) -> None:
        """End the task phase now; in a hold, the position was lost: HOLD_END is marked at the
        key (the hold's stopwatch stops there)."""
        status = self.status
        protocol = self._protocol
        hold = protocol is not None and angle_definition(protocol.drill) is AngleDefinition.HOLD
        if status.phase is Phase.TASK and hold and status.recording is not None:
            self.mark(EventKind.HOLD_END, "position lost")
        self._send(EndTask())

    def skip_wait(self) -> None:
        """Start the next recording without waiting out the get-ready or rest countdown; skip
        (leave unrecorded) a repetition waiting for its sensors (`Phase.WAITING_FOR_SENSORS`)."""
        self._send(SkipWait())

    def mark(self, kind: EventKind, label: str = "", value: float = math.nan) -> Event:
        """Mark an event in the open recording at this instant (the key for a push, a note, a
        pain rating); raises RuntimeError when nothing is being recorded."""
        return self._mark(kind, label, value, "operator")

    def _mark(self, kind: EventKind, label: str, value: float, source: str) -> Event:
        status = self.status
        if status.recording is None or status.host_origin_ns < 0:
            raise RuntimeError("nothing is being recorded: start a drill first")
        # Both processes read the same monotonic clock: the event is stamped here, now.
        event = Event((time.monotonic_ns() - status.host_origin_ns) * 1e-9, kind, label, value, source)
        self._send(Mark(event))
        return event

    @property
    def trial(self) -> Trial | None:
        """The cognitive task's current trial while a dual-task recording runs."""
        cognitive = self._cognitive
        return cognitive.trial if cognitive is not None else None

    def answer(self, given: str) -> bool:
        """Score the patient's answer to the current trial, record it, show the next one."""
        cognitive = self._cognitive
        if cognitive is None:
            raise RuntimeError("no cognitive task is running")
        trial, correct, rt = cognitive.answer(given)
        self._mark(
            EventKind.ANNOTATION,
            answer_label(cognitive.task.name, trial.prompt, trial.ink, given, correct),
            rt,
            ANSWER_SOURCE,
        )
        return correct

    def take_notices(self) -> list[Notice]:
        """The engine's notices since the last call, with severity and topic."""
        out = []
        while self.notices:
            out.append(self.notices.popleft())
        return out

    def wait(self, timeout_s: float | None = None) -> None:
        """Block until the current job ends (for scripts and tests)."""
        self._idle.wait(timeout_s)

    def close(self, timeout_s: float = 30.0) -> None:
        """Stop what runs (closing its recording) and end the engine process."""
        self.engine.close(timeout_s)
        self._idle.set()

    # Commands and reports ----------------------------------------------------------------

    def _submit(self, command: Scan | Calibrate | StartProtocol) -> None:
        if self.busy:
            raise RuntimeError("something is already running; stop it first")
        self._idle.clear()
        try:
            self._send(command)
        except EngineDiedError:
            self._idle.set()
            raise

    def _send(self, command: object) -> None:
        self.engine.send(command)  # type: ignore[arg-type]

    def _on_report(self, report: Report) -> None:
        """On the client's reader thread: replace the snapshot the report is about."""
        if isinstance(report, Live):
            for name, *args in report.items:
                getattr(self.feed, "on_" + name)(*args)
        elif isinstance(report, StatusReport):
            self._follow_task(report.status)
            self.status = report.status
        elif isinstance(report, HealthReport):
            self.health = report.health
        elif isinstance(report, Notice):
            self.notices.append(report)
        elif isinstance(report, Discovered):
            self.discovered = list(report.sensors)
        elif isinstance(report, CalibrationChecked):
            self.calibration_check = report.check
        elif isinstance(report, RecordingFinished):
            self._finished(report)
        elif isinstance(report, JobDone):
            self._cognitive = None
            protocol = self._protocol
            if protocol is not None and protocol.dual_task and self.results:
                self.dual_task_effect = dual_task_effect(
                    self.results[0].drill,
                    [ConditionResult(r.condition, r.measures, r.cognitive) for r in self.results],
                )
            self._protocol = None
            self._idle.set()
        elif isinstance(report, ProbeReport):
            self.probes.append(report)
        elif isinstance(report, EngineFailed):
            self.status = RunStatus(Phase.FAILED, instruction=report.text)
            self.notices.append(Notice(Severity.ERROR, report.text))
            self._cognitive = None
            self._idle.set()

    def _follow_task(self, status: RunStatus) -> None:
        """Show the cognitive task while a dual-task or cognitive-only repetition's task phase
        runs; its items come from the recording's seed (stored in the file by the engine), and
        what the patient was given is marked in the recording."""
        protocol = self._protocol
        if protocol is None:
            return
        in_task = status.phase is Phase.TASK and status.condition in COGNITIVE_CONDITIONS
        if in_task and self._cognitive is None and status.repetition not in self._cognitive_done:
            seed = status.seed if status.seed is not None else (self.config.seed or 0) + status.repetition
            cognitive = CognitiveRun(protocol.cognitive_task, seed)
            cognitive.begin()
            self._cognitive_done[status.repetition] = cognitive
            self._cognitive = cognitive
            about = ", ".join(f"{k} {v}" for k, v in cognitive.about().items())
            try:
                self._mark(EventKind.ANNOTATION, f"{protocol.cognitive_task}: {about}", math.nan, "task")
            except (RuntimeError, EngineDiedError) as error:
                log.warning("the cognitive task's items could not be marked: %s", error)
        elif not in_task:
            self._cognitive = None

    def _finished(self, report: RecordingFinished) -> None:
        self._cognitive = None
        cognitive = (
            self._cognitive_done.get(report.repetition) if report.condition in COGNITIVE_CONDITIONS else None
        )
        protocol = self._protocol
        score = None
        if cognitive is not None and protocol is not None:
            score = cognitive.score(protocol.task_s)
        self.results = [*self.results, RecordingResult.of(report, score)]
