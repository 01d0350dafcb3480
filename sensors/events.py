"""Things that happen during a session at a point in session time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from sensors.errors import InvalidSamplesError


class EventKind(StrEnum):
    """What an event marks."""

    PERTURBATION = "perturbation"
    TASK_START = "task_start"
    TASK_END = "task_end"
    ANNOTATION = "annotation"
    PAIN_RATING = "pain_rating"
    CALIBRATION = "calibration"
    HOLD_START = "hold_start"  # position reached: the clinician's key, or detected by the pipeline
    HOLD_END = "hold_end"  # position lost: the clinician's E key (the hold's stopwatch stops)


@dataclass(frozen=True)
class Event:
    """One marked instant: `time_s` in session time, a kind, a free label and an optional value.

    `source` says who marked it: "operator", "platform", "simulator", "pipeline", ...
    """

    time_s: float
    kind: EventKind
    label: str = ""
    value: float = math.nan
    source: str = "operator"

    def __post_init__(self) -> None:
        if not math.isfinite(self.time_s):
            raise InvalidSamplesError(f"event {self.kind.value!r} has a non-finite time {self.time_s}")
