"""Dual-task cost of a protocol's recordings, on both sides (Kelly et al. 2010; Plummer & Eskes
2015): motor (sway standing with vs without the cognitive task) and cognitive (the task's score
while standing with vs in the cognitive-only baseline, seated or standing still). The dashboard's
results pane, `stabmon visit` and the clinical report all read it from here.

Sign convention: a cost is positive when the dual task makes things worse. Motor (sway, higher
is worse): DTC = (dual − single) / single × 100. Cognitive (correct responses per second and
accuracy, higher is better): DTC = (single − dual) / single × 100, single being the cognitive-only
baseline. (The dual-task effect of Plummer & Eskes is −DTC.)

The cognitive score of a recording comes from its answers, each stored as an `annotation` event
of source `patient` (`answer_label`) whose value is the response time (s), over the protocol's
task length (`task_s` in its protocol settings).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from recordings.catalogue import catalogue, format_signed
from sensors.drills import drill_family
from sensors.events import Event, EventKind
from sensors.processing.analysis import AnalysisResult
from sensors.processing.comparison import dual_task_effect_pct
from sensors.processing.errors import ProcessingError

#: Stance-family measures whose dual-task cost is reported (higher sway is worse).
DUAL_TASK_MEASURES = ("acc_rms_ap", "acc_rms_ml", "acc_ellipse_area_95", "angle_rms_ap", "angle_rms_ml")
#: The source of the answer events in a recording.
ANSWER_SOURCE = "patient"
_ANSWER = re.compile(r" answered .* \((correct|wrong)\)$")


@dataclass(frozen=True)
class CognitiveScore:
    """Responses given, share correct (0–1), correct responses per minute, mean response time (s)."""

    responses: int
    accuracy: float
    correct_per_min: float
    mean_response_time_s: float

    @property
    def correct_per_s(self) -> float:
        """Correct responses per second."""
        return self.correct_per_min / 60.0

    @property
    def text(self) -> str:
        """'12 answers, 92 % correct, 0.37 correct/s', or why it is not measured."""
        if self.responses == 0:
            return "Not measured — no answers were given"
        percent = 100 * self.accuracy
        return f"{self.responses} answers, {percent:.0f} % correct, {self.correct_per_s:.2f} correct/s"


def score_responses(correct: list[bool], response_times_s: list[float], duration_s: float) -> CognitiveScore:
    """The cognitive score of a run of `duration_s` seconds."""
    n = len(correct)
    right = sum(correct)
    return CognitiveScore(
        n,
        right / n if n else math.nan,
        60.0 * right / duration_s if duration_s > 0 else math.nan,
        float(np.mean(response_times_s)) if n else math.nan,
    )


def answer_label(task: str, prompt: str, ink: str, given: str, correct: bool) -> str:
    """The label of an answer's event: the task, what was shown, what was answered and whether
    it was right (`recorded_score` reads it back)."""
    return f"{task}: {prompt} [{ink}] answered {given!r} ({'correct' if correct else 'wrong'})"


def recorded_score(events: Sequence[Event], task_s: float) -> CognitiveScore:
    """The cognitive score of a recording from its answer events over `task_s` seconds of task."""
    answers = [
        (match.group(1) == "correct", e.value)
        for e in events
        if e.kind is EventKind.ANNOTATION
        and e.source == ANSWER_SOURCE
        and (match := _ANSWER.search(e.label)) is not None
    ]
    return score_responses([c for c, _ in answers], [t for _, t in answers], task_s)


def dual_task_cost_pct(single: float, dual: float, higher_is_better: bool) -> float:
    """Dual-task cost, %: positive = worse with the dual task (see the module docstring); NaN
    when the single-task value is 0 or either is not finite."""
    if not (math.isfinite(single) and math.isfinite(dual)):
        return math.nan
    try:
        return -dual_task_effect_pct(single, dual, higher_is_better)
    except ProcessingError:
        return math.nan


@dataclass(frozen=True)
class DualTaskEffect:
    """A protocol's dual-task cost. motor_cost_pct: per sway measure (means over repetitions of
    each condition), motor_means: its (single, dual) means; cognitive_single: the cognitive-only
    baseline's score (None without a baseline recording), cognitive_dual: the score while
    standing; cognitive_cost_pct: of "correct_per_s" and "accuracy" (empty without both scores)."""

    motor_cost_pct: dict[str, float]
    cognitive_single: CognitiveScore | None
    cognitive_dual: CognitiveScore | None
    cognitive_cost_pct: dict[str, float]
    motor_means: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class ConditionResult:
    """One recording of a dual-task protocol: its condition (single, dual, cognitive), measures
    (None: not measured) and cognitive score (None: none kept)."""

    condition: str
    measures: AnalysisResult | None
    cognitive: CognitiveScore | None = None


def _mean_score(scores: list[CognitiveScore]) -> CognitiveScore | None:
    """The scores of several recordings pooled: responses summed, rates and accuracy averaged."""
    if not scores:
        return None
    if len(scores) == 1:
        return scores[0]
    given = [s for s in scores if s.responses]
    return CognitiveScore(
        sum(s.responses for s in scores),
        float(np.mean([s.accuracy for s in given])) if given else math.nan,
        float(np.mean([s.correct_per_min for s in scores])),
        float(np.mean([s.mean_response_time_s for s in given])) if given else math.nan,
    )


def cognitive_cost(single: CognitiveScore | None, dual: CognitiveScore | None) -> dict[str, float]:
    """Cognitive dual-task cost, %, of correct responses per second and of accuracy."""
    if single is None or dual is None:
        return {}
    return {
        "correct_per_s": dual_task_cost_pct(single.correct_per_s, dual.correct_per_s, True),
        "accuracy": dual_task_cost_pct(single.accuracy, dual.accuracy, True),
    }


def dual_task_effect(drill: str, results: Sequence[ConditionResult]) -> DualTaskEffect | None:
    """Dual-task cost between a protocol's recordings of `drill` by condition (single, dual,
    cognitive); None when there is no dual-condition recording."""
    by_condition: dict[str, list[ConditionResult]] = {"single": [], "dual": [], "cognitive": []}
    for r in results:
        by_condition.setdefault(r.condition, []).append(r)
    if not by_condition["dual"]:
        return None
    motor: dict[str, float] = {}
    means: dict[str, tuple[float, float]] = {}
    single_m = [r.measures for r in by_condition["single"] if r.measures is not None]
    dual_m = [r.measures for r in by_condition["dual"] if r.measures is not None]
    if single_m and dual_m and drill_family(drill).is_stance:
        for name in DUAL_TASK_MEASURES:
            try:
                single = float(np.mean([m.value(name) for m in single_m]))
                dual = float(np.mean([m.value(name) for m in dual_m]))
            except (KeyError, ProcessingError):
                continue
            motor[name] = dual_task_cost_pct(single, dual, higher_is_better=False)
            means[name] = (single, dual)
    cognitive_single = _mean_score([r.cognitive for r in by_condition["cognitive"] if r.cognitive])
    cognitive_dual = _mean_score([r.cognitive for r in by_condition["dual"] if r.cognitive])
    return DualTaskEffect(
        motor, cognitive_single, cognitive_dual, cognitive_cost(cognitive_single, cognitive_dual), means
    )


def score_text(score: CognitiveScore | None) -> str:
    """What the score says, or why there is none."""
    return "Not measured — no recording in this condition" if score is None else score.text


def cost_text(value: float) -> str:
    """'+30 %', '0 %' for a cost that rounds to zero (never '-0 %'), or 'Not measured'."""
    return f"{format_signed(value, 0)} %" if math.isfinite(value) else "Not measured"


def dual_task_lines(effect: DualTaskEffect, drill: str = "quiet-stance") -> list[str]:
    """The dual-task cost on both sides as a clinician reads it (positive = worse)."""
    lines = ["Dual-task cost (positive = worse with the dual task):"]
    if effect.motor_cost_pct:
        parts = [
            f"{catalogue().info(drill, name).name} {cost_text(value)}"
            for name, value in effect.motor_cost_pct.items()
        ]
        lines.append("Motor, sway (dual − single)/single: " + ", ".join(parts))
    else:
        lines.append("Motor: Not measured — needs a single- and a dual-task stance")
    lines.append(f"Cognitive alone (baseline): {score_text(effect.cognitive_single)}")
    lines.append(f"Cognitive while standing: {score_text(effect.cognitive_dual)}")
    cost = effect.cognitive_cost_pct
    if cost:
        lines.append(
            f"Cognitive cost (single − dual)/single: correct/s {cost_text(cost['correct_per_s'])}, "
            f"accuracy {cost_text(cost['accuracy'])}"
        )
    return lines


def motor_rows(effect: DualTaskEffect, drill: str) -> list[tuple[str, str, str, str]]:
    """(measure, single task, dual task, cost) per sway measure, in the catalogue's units."""
    rows = []
    for name, cost in effect.motor_cost_pct.items():
        info = catalogue().info(drill, name)
        single, dual = effect.motor_means.get(name, (math.nan, math.nan))
        rows.append((info.name, info.format(single), info.format(dual), cost_text(cost)))
    return rows


def cognitive_rows(effect: DualTaskEffect) -> list[tuple[str, str, str, str]]:
    """(measure, cognitive task alone, while standing, cost) for correct/s and accuracy."""
    single, dual = effect.cognitive_single, effect.cognitive_dual
    cost: Mapping[str, float] = effect.cognitive_cost_pct
    rows = []
    for key, name, value in (
        ("correct_per_s", "Correct answers per second", lambda s: f"{s.correct_per_s:.2f}/s"),
        ("accuracy", "Answers correct", lambda s: f"{100 * s.accuracy:.0f} %"),
    ):
        shown = [value(s) if s is not None and s.responses else "Not measured" for s in (single, dual)]
        rows.append((name, shown[0], shown[1], cost_text(cost.get(key, math.nan))))
    return rows
