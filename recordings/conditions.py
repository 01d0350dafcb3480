"""The condition a drill was recorded in: single or dual task (and which cognitive task), eyes
open or closed, firm or foam surface, left or right side. A drill plus its condition is what a
session is compared and trended with; sessions in different conditions are never mixed.

Stored as the root attribute `condition`, "key=value" pairs joined by ", " (SCHEMA.md):
`task=dual, cognitive_task=stroop, vision=eyes-open, surface=firm`. Vision, surface and side
follow from the drill; the task comes from the protocol. A file written before the attribute
existed gets its condition derived from its protocol settings, or task "unknown".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from sensors.errors import StabmonError

#: Task conditions: "cognitive" is the cognitive task alone (the dual-task baseline, done seated);
#: "unknown" only for older files whose task cannot be derived.
TASKS = ("single", "dual", "cognitive", "unknown")
#: Task conditions with the cognitive task running: dual, and the cognitive-only baseline.
COGNITIVE_CONDITIONS = ("dual", "cognitive")
COGNITIVE_TASK_NAMES = {"serial-subtraction": "serial subtraction", "stroop": "colour words (Stroop)"}


class ConditionError(StabmonError, ValueError):
    """A condition attribute or value that cannot be used."""


@dataclass(frozen=True)
class Condition:
    """task: single/dual/cognitive/unknown; cognitive_task: the cognitive task of a dual or
    cognitive-only recording ("" if none or not known);
    vision: eyes-open/eyes-closed, surface: firm/foam (standing drills, else ""); side:
    left/right for one-sided drills, else ""."""

    task: str = "single"
    cognitive_task: str = ""
    vision: str = ""
    surface: str = ""
    side: str = ""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ConditionError(f"task condition must be one of {', '.join(TASKS)}, got {self.task!r}")

    def to_attribute(self) -> str:
        """The root attribute text."""
        return ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self) if getattr(self, f.name))

    @property
    def task_label(self) -> str:
        if self.task == "dual":
            name = COGNITIVE_TASK_NAMES.get(self.cognitive_task, self.cognitive_task)
            return f"dual task ({name})" if name else "dual task"
        if self.task == "cognitive":
            name = COGNITIVE_TASK_NAMES.get(self.cognitive_task, self.cognitive_task)
            return f"cognitive task only ({name})" if name else "cognitive task only"
        return "single task" if self.task == "single" else "task condition unknown"

    @property
    def seated(self) -> bool:
        """The cognitive task alone, the dual-task baseline: done seated, so a standing drill's
        measures (sway) say nothing there; its cognitive score is what it measures."""
        return self.task == "cognitive"

    @property
    def label(self) -> str:
        """As a clinician reads it: 'eyes open, firm surface, dual task (serial subtraction)'."""
        return self.label_after("")

    def label_after(self, title: str) -> str:
        """The label without what the drill's `title` already says: after "Quiet stance, eyes
        open" it is 'firm surface, single task', never 'eyes open, eyes open, …'; after "Single-leg
        stance, left leg" the side is left out, after "Quiet stance on foam" the surface."""
        said = set(re.findall(r"[a-z]+", title.lower()))
        parts = []
        if self.side and self.side not in said:
            parts.append(f"{self.side} side")
        if self.vision and not said >= set(self.vision.split("-")):
            parts.append(self.vision.replace("-", " "))
        if self.surface and self.surface not in said:
            parts.append("foam surface" if self.surface == "foam" else "firm surface")
        return ", ".join([*parts, self.task_label])

    @property
    def file_token(self) -> str:
        """What the file name adds to the drill: '' for single task, 'dual-stroop', 'dual'."""
        if self.task in ("dual", "cognitive"):
            return "-".join(p for p in (self.task, self.cognitive_task) if p)
        return "" if self.task == "single" else "unknown"


def _drill_parts(drill: str) -> dict[str, str]:
    """Vision, surface and side that the drill's name fixes."""
    parts: dict[str, str] = {}
    if drill.startswith(("quiet-stance", "single-leg")):
        parts["vision"] = "eyes-closed" if drill.endswith("eyes-closed") else "eyes-open"
        parts["surface"] = "foam" if drill.endswith("foam") else "firm"
    for side in ("left", "right"):
        if drill.endswith(f"-{side}"):
            parts["side"] = side
    return parts


def condition_for(drill: str, task: str = "single", cognitive_task: str = "") -> Condition:
    """The condition of `drill` recorded with this task condition."""
    return Condition(task, cognitive_task if task in ("dual", "cognitive") else "", **_drill_parts(drill))


def condition_from_protocol(drill: str, protocol: Mapping[str, Any]) -> Condition:
    """The condition as the protocol settings of a file say it: the clinic protocol's
    `condition` (and `cognitive_task`), or the simulator's `dual_task_factor`; else unknown."""
    task = str(protocol.get("condition", ""))
    if task not in ("single", "dual", "cognitive"):
        factor = protocol.get("dual_task_factor")
        task = (
            ("single" if float(factor) == 1.0 else "dual") if isinstance(factor, int | float) else "unknown"
        )
    cognitive = str(protocol.get("cognitive_task", ""))
    if task == "dual" and not cognitive:
        key = str(protocol.get("protocol", "")) + " " + str(protocol.get("protocol_name", ""))
        cognitive = (
            "stroop"
            if ("stroop" in key or "colour" in key)
            else "serial-subtraction"
            if ("subtraction" in key or "dual-task-stance" in key)
            else ""
        )
    return condition_for(drill, task, cognitive)


def parse_condition(drill: str, text: str) -> Condition:
    """A condition attribute back as a Condition; ConditionError names what is wrong."""
    values: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or key not in {f.name for f in fields(Condition)}:
            raise ConditionError(f"condition {text!r}: {item!r} is not one of task=, cognitive_task=, …")
        values[key] = value
    derived = _drill_parts(drill)
    return Condition(**{**derived, **values})


def recording_condition(drill: str, attributes: Mapping[str, Any], protocol: Mapping[str, Any]) -> Condition:
    """The condition of a file from its root attributes (migrated when it has none)."""
    text = attributes.get("condition")
    if text is None or text == "":
        return condition_from_protocol(drill, protocol)
    return parse_condition(drill, text.decode("utf-8") if isinstance(text, bytes) else str(text))


def session_label(drill: str, condition: Condition) -> str:
    """Drill plus condition as one name for files, BIDS tasks and listings:
    'quiet-stance-dual-serial-subtraction', 'single-leg-left'."""
    return "-".join(p for p in (drill, condition.file_token) if p)
