"""What an analysis reads (`SessionData`) and what it gives (`Measure` rows in an `AnalysisResult`)."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.processing.pipeline import AngleBlock
from sensors.samples import Frame


@dataclass(frozen=True)
class SessionData:
    """What analysis needs of a session (live buffers or a replayed recording)."""

    frame: Frame
    angles: AngleBlock
    mount_q: Mapping[Placement, np.ndarray]
    events: tuple[Event, ...] = ()
    sensor_height_m: float | None = None  # pelvic sensor above the floor, standing (subject setting)


@dataclass(frozen=True)
class Measure:
    """One row of the result table. repetition is None for a session-level value; missing: why
    this NaN value could not be measured, when the analysis knows better than the catalogue's
    general reason ("" otherwise)."""

    group: str
    name: str
    value: float
    unit: str
    source: str
    repetition: int | None = None
    missing: str = ""


@dataclass(frozen=True)
class AnalysisResult:
    """A drill's measures; `notes`: what limits them, one plain line each (a sensor that sent
    nothing for a while, the part of the task measured), empty when nothing did."""

    drill: str
    measures: tuple[Measure, ...]
    notes: tuple[str, ...] = ()

    def value(self, name: str, repetition: int | None = None) -> float:
        """The value of measure `name` (session level, or of one repetition)."""
        for m in self.measures:
            if m.name == name and m.repetition == repetition:
                return m.value
        raise KeyError(
            f"{self.drill}: no measure {name!r}" + (f" for repetition {repetition}" if repetition else "")
        )

    def rows(self) -> list[dict[str, object]]:
        """The table as plain rows, for printing and export."""
        return [m.__dict__.copy() for m in self.measures]


def task_window(data: SessionData) -> tuple[float, float]:
    """Session times (s) of the task's start and end markers, or of the first and last frame."""
    t = data.frame.time_s
    start = next((e.time_s for e in data.events if e.kind is EventKind.TASK_START), float(t[0]))
    end = next((e.time_s for e in data.events if e.kind is EventKind.TASK_END), float(t[-1]))
    return start, end


def repetition_means(
    rows: list[Measure], group: str, source: str, instants: Collection[str] = ()
) -> list[Measure]:
    """Session-level means of per-repetition measures, plus the repetition count. `instants`:
    measures that are session times of an event (s, e.g. a rise's seat-off): given per
    repetition only, a mean of time stamps means nothing."""
    names = dict.fromkeys(m.name for m in rows if m.name not in instants)
    out = [Measure(group, "repetitions", float(len({m.repetition for m in rows})), "1", source)]
    for name in names:
        values = [m.value for m in rows if m.name == name and math.isfinite(m.value)]
        first = next(m for m in rows if m.name == name)
        mean = float(np.mean(values)) if values else math.nan
        out.append(Measure(group, f"mean_{name}", mean, first.unit, first.source))
    return out
