"""The typed messages between the window and the engine process: commands (window → engine) and
reports (engine → window), plain frozen values that pickle across the process boundary. Live data
for the plots travel as `Live` reports (the items of the window's `LiveFeed`). Importing this
module loads neither bleak, bumble nor Qt."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

from engine.probe import Probe
from engine.spec import SensorListing, SessionSpec
from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.processing.analysis import AnalysisResult
from sensors.source import SensorHealth


class Phase(StrEnum):
    """What the engine is doing, as the clinician reads it."""

    IDLE = "ready"
    SCANNING = "scanning"
    GET_READY = "get ready"
    CONNECTING = "connecting"
    #: A repetition is held back: a sensor it needs is reconnecting, lost or silent.
    WAITING_FOR_SENSORS = "waiting for the sensors"
    CALIBRATING = "stand still"
    BEND = "bend forward"
    TASK = "task"
    SAVING = "saving"
    REST = "rest"
    FAILED = "engine stopped"


@dataclass(frozen=True)
class RunStatus:
    """What the clinician sees of the run. remaining_s: of the current phase (NaN: open-ended);
    elapsed_s: session time of the current recording; recording: its file while one is open;
    host_origin_ns: host monotonic time of its session time 0 (-1 before it started);
    seed: the recording's seed (simulation and cognitive task)."""

    phase: Phase = Phase.IDLE
    protocol: str = ""
    repetition: int = 0
    repetitions: int = 0
    condition: str = "single"
    remaining_s: float = math.nan
    elapsed_s: float = 0.0
    recording: Path | None = None
    instruction: str = ""
    host_origin_ns: int = -1
    #: The open recording's seed (its cognitive task's items follow from it); None without one.
    seed: int | None = None


@dataclass(frozen=True)
class ProtocolPlan:
    """A drill protocol as the engine runs it (times in seconds): `repetitions` recordings of
    `drill`, each `calibration_s` of still stance then the task for `task_s`; conditions: one
    per repetition ("single"/"dual"; empty: all single). The window's protocols
    (`gui.model.protocols.DrillProtocol`) are this plus what only the window uses."""

    key: str
    name: str
    drill: str
    instructions: str
    task_s: float
    repetitions: int = 1
    rest_s: float = 0.0
    get_ready_s: float = 5.0
    calibration_s: float = 3.0
    cognitive_task: str = "serial-subtraction"
    conditions: tuple[str, ...] = ()

    def condition(self, repetition: int) -> str:
        """'single' or 'dual' for repetition 1…repetitions."""
        return self.conditions[repetition - 1] if self.conditions else "single"


@dataclass(frozen=True)
class CalibrationCheck:
    """The outcome of the calibration step: ok, and what to tell the clinician."""

    ok: bool
    lines: tuple[str, ...]


# Commands (window → engine) -----------------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    """Look for sensors in range (virtual ones when simulating)."""

    spec: SessionSpec


@dataclass(frozen=True)
class Calibrate:
    """The calibration step: still stance, and optionally a forward bend (not recorded)."""

    spec: SessionSpec
    with_bend: bool = False


@dataclass(frozen=True)
class StartProtocol:
    """Record every repetition of `plan`, each to its own file (in data_dir; None: the library)."""

    spec: SessionSpec
    plan: ProtocolPlan
    subject_id: str
    notes: str = ""
    data_dir: Path | None = None
    #: Time every notification, frame and measures update (benchmarks/latency.py): ProbeReport.
    probe: bool = False


@dataclass(frozen=True)
class Stop:
    """End the run now; the open recording is marked, closed and kept."""


@dataclass(frozen=True)
class EndTask:
    """End the task phase now (a hold to failure: the posture was lost)."""


@dataclass(frozen=True)
class SkipWait:
    """Start the next recording without waiting out the get-ready or rest countdown."""


@dataclass(frozen=True)
class Mark:
    """Mark an event in the open recording (its time already on the session clock)."""

    event: Event


@dataclass(frozen=True)
class Shutdown:
    """Stop what runs (closing its recording) and end the engine process."""


Command = Scan | Calibrate | StartProtocol | Stop | EndTask | SkipWait | Mark | Shutdown


# Reports (engine → window) ------------------------------------------------------------------


class Severity(IntEnum):
    """How much a notice matters to the clinician."""

    INFO = 0
    WARNING = 1
    ERROR = 2


class Topic(StrEnum):
    """What a notice is about, so the window can place it without reading its text."""

    GENERAL = "general"
    SCAN = "scan"
    TOO_BUSY = "too busy"
    DISK = "disk"
    #: Saving falls behind the sensors (WARNING), or caught up again (INFO).
    SAVING = "saving"
    RECORDING = "recording"


@dataclass(frozen=True)
class Notice:
    """Something to tell the clinician."""

    severity: Severity
    text: str
    topic: Topic = Topic.GENERAL


@dataclass(frozen=True)
class StatusReport:
    status: RunStatus


@dataclass(frozen=True)
class HealthReport:
    health: dict[Placement, SensorHealth]


@dataclass(frozen=True)
class Discovered:
    sensors: tuple[SensorListing, ...]


@dataclass(frozen=True)
class CalibrationChecked:
    check: CalibrationCheck


@dataclass(frozen=True)
class RecordingFinished:
    """One finished recording: its file and measures (None with the reason in `problem`)."""

    protocol: str
    repetition: int
    condition: str
    path: Path
    drill: str
    measures: AnalysisResult | None
    problem: str = ""


@dataclass(frozen=True)
class JobDone:
    """The command's work ended (normally, stopped, or failed: then a Notice came first)."""


@dataclass(frozen=True)
class EngineFailed:
    """The engine process failed or died; what is known about why."""

    text: str


@dataclass(frozen=True)
class Live:
    """Items for the window's live view (`gui.model.live.LiveFeed` queue items), in order."""

    items: tuple[Any, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ProbeReport:
    """A recording's latency probe (`engine.probe.Probe`), sent after the recording ends."""

    repetition: int
    probe: Probe


Report = (
    StatusReport
    | HealthReport
    | Notice
    | Discovered
    | CalibrationChecked
    | RecordingFinished
    | JobDone
    | EngineFailed
    | Live
    | ProbeReport
)

__all__ = [
    "Calibrate",
    "CalibrationCheck",
    "CalibrationChecked",
    "Command",
    "Discovered",
    "EndTask",
    "EngineFailed",
    "EventKind",
    "HealthReport",
    "JobDone",
    "Live",
    "Mark",
    "Notice",
    "Phase",
    "ProbeReport",
    "ProtocolPlan",
    "RecordingFinished",
    "Report",
    "RunStatus",
    "Scan",
    "Severity",
    "Shutdown",
    "SkipWait",
    "StartProtocol",
    "StatusReport",
    "Stop",
    "Topic",
]
