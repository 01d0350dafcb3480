"""The dual-task cost of a visit (`stabmon visit`, the clinical report): each dual-task drill with
the single-task and cognitive-only recordings of the same drill and condition in that visit, its
cognitive scores read from the recordings' answers (`recordings.dual_task`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from recordings.conditions import Condition
from recordings.dual_task import (
    CognitiveScore,
    ConditionResult,
    DualTaskEffect,
    cognitive_rows,
    dual_task_effect,
    motor_rows,
    recorded_score,
)
from recordings.errors import RecordingError
from recordings.reader import read_recording
from recordings.report_table import Table

if TYPE_CHECKING:
    from recordings.protocol_results import ProtocolSummary


@dataclass(frozen=True)
class VisitDualTask:
    """A dual-task drill of a visit: its condition (the dual one) and its cost."""

    drill: str
    condition: Condition
    effect: DualTaskEffect

    @property
    def title(self) -> str:
        return f"{self.drill} — {self.condition.label}"


def _score(path: Path) -> CognitiveScore | None:
    """The recording's cognitive score from its answers over its protocol's task length; None
    when the file cannot be read or does not say how long the task was."""
    try:
        recording = read_recording(path, derived=False, raw=False)
    except RecordingError:
        return None
    try:
        task_s = float(recording.protocol.get("task_s", math.nan))
    except (TypeError, ValueError):
        return None
    return recorded_score(recording.events, task_s) if math.isfinite(task_s) else None


def _belongs(condition: Condition, dual: Condition) -> bool:
    """`condition` is the single-task or cognitive-only counterpart of the `dual` condition."""
    same_rest = replace(condition, task="dual", cognitive_task=dual.cognitive_task) == dual
    if condition.task == "single":
        return same_rest
    return condition.task == "cognitive" and condition.cognitive_task == dual.cognitive_task and same_rest


def visit_dual_task(visit: Sequence[ProtocolSummary]) -> list[VisitDualTask]:
    """Each dual-task drill and condition of the visit with its cost against the visit's
    single-task and cognitive-only recordings of that drill."""
    out = []
    duals = dict.fromkeys((s.drill, s.condition) for s in visit if s.condition.task == "dual")
    for drill, dual in duals:
        results = []
        for summary in visit:
            if summary.drill != drill or not (summary.condition == dual or _belongs(summary.condition, dual)):
                continue
            task = summary.condition.task
            for session in summary.sessions:
                score = _score(session.path) if task in ("dual", "cognitive") else None
                results.append(ConditionResult(task, session.result, score))
        effect = dual_task_effect(drill, results)
        if effect is not None:
            out.append(VisitDualTask(drill, dual, effect))
    return out


#: What the visit's dual-task cost says about its sign and formulas.
COST_NOTE = (
    "Dual-task cost, positive = worse with the dual task: motor (dual − single)/single × 100 on "
    "sway; cognitive (alone − while standing)/alone × 100 on correct answers per second and "
    "accuracy (Kelly et al. 2010; −1 × the dual-task effect of Plummer & Eskes 2015)."
)
#: Why a visit's dual-task drill has no motor cost.
NO_MOTOR = "Motor: Not measured — needs a single- and a dual-task stance of this drill in the visit"


def dual_task_tables(visit: Sequence[ProtocolSummary], drill: str, condition: Condition) -> list[Table]:
    """The report's dual-task cost of the visit for a recording of that drill and condition (its
    dual-task, single-task or cognitive-only side)."""
    return [
        Table(
            f"Dual-task cost (this visit): {item.condition.task_label}",
            ("measure", "single task / task alone", "dual task", "cost"),
            cost_rows(item) if item.effect.motor_cost_pct else [(NO_MOTOR, "", "", ""), *cost_rows(item)],
            (0.4, 0.22, 0.22, 0.16),
            "dual-task",
            note=COST_NOTE,
        )
        for item in visit_dual_task(visit)
        if item.drill == drill and (condition == item.condition or _belongs(condition, item.condition))
    ]


def cost_rows(item: VisitDualTask) -> list[tuple[str, str, str, str]]:
    """(measure, single task or task alone, dual task, cost): sway, then the cognitive score."""
    return [*motor_rows(item.effect, item.drill), *cognitive_rows(item.effect)]


def format_dual_task(visit: Sequence[ProtocolSummary]) -> list[str]:
    """The visit's dual-task costs as text lines (none without a dual-task recording)."""
    lines = []
    for item in visit_dual_task(visit):
        lines.append(f"{item.title}: dual-task cost (positive = worse with the dual task)")
        lines.append(f"  {'':<44} {'single / alone':>16} {'dual task':>16} {'cost':>8}")
        if not item.effect.motor_cost_pct:
            lines.append(f"  {NO_MOTOR}")
        for name, single, dual, cost in cost_rows(item):
            lines.append(f"  {name:<44} {single:>16} {dual:>16} {cost:>8}")
    return [*lines, COST_NOTE] if lines else []
