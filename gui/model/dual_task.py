"""Dual-task cost of a protocol's recordings, on both sides (Kelly et al. 2010; Plummer & Eskes
2015): motor (sway standing with vs without the cognitive task) and cognitive (the task's score
while standing with vs in the cognitive-only baseline, seated or standing still).

Sign convention: a cost is positive when the dual task makes things worse. Motor (sway, higher
is worse): DTC = (dual − single) / single × 100. Cognitive (correct responses per second and
accuracy, higher is better): DTC = (single − dual) / single × 100, single being the cognitive-only
baseline. (The dual-task effect of Plummer & Eskes is −DTC.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gui.model.cognitive import CognitiveScore
from gui.model.results import RecordingResult
from sensors.drills import drill_family
from sensors.processing.comparison import dual_task_effect_pct
from sensors.processing.errors import ProcessingError

#: Stance-family measures whose dual-task cost is reported (higher sway is worse).
DUAL_TASK_MEASURES = ("acc_rms_ap", "acc_rms_ml", "acc_ellipse_area_95", "angle_rms_ap", "angle_rms_ml")


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
    each condition); cognitive_single: the cognitive-only baseline's score (None without a
    baseline recording), cognitive_dual: the score while standing; cognitive_cost_pct: of
    "correct_per_s" and "accuracy" (empty without both scores)."""

    motor_cost_pct: dict[str, float]
    cognitive_single: CognitiveScore | None
    cognitive_dual: CognitiveScore | None
    cognitive_cost_pct: dict[str, float]


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


def dual_task_effect(results: list[RecordingResult]) -> DualTaskEffect | None:
    """Dual-task cost between a protocol's recordings by condition (single, dual, cognitive);
    None when there is no dual-condition recording."""
    by_condition: dict[str, list[RecordingResult]] = {"single": [], "dual": [], "cognitive": []}
    for r in results:
        by_condition.setdefault(r.condition, []).append(r)
    if not by_condition["dual"]:
        return None
    motor: dict[str, float] = {}
    single_m = [r.measures for r in by_condition["single"] if r.measures is not None]
    dual_m = [r.measures for r in by_condition["dual"] if r.measures is not None]
    if single_m and dual_m and drill_family(results[0].drill).is_stance:
        for name in DUAL_TASK_MEASURES:
            try:
                single = float(np.mean([m.value(name) for m in single_m]))
                dual = float(np.mean([m.value(name) for m in dual_m]))
            except (KeyError, ProcessingError):
                continue
            motor[name] = dual_task_cost_pct(single, dual, higher_is_better=False)
    cognitive_single = _mean_score([r.cognitive for r in by_condition["cognitive"] if r.cognitive])
    cognitive_dual = _mean_score([r.cognitive for r in by_condition["dual"] if r.cognitive])
    return DualTaskEffect(
        motor, cognitive_single, cognitive_dual, cognitive_cost(cognitive_single, cognitive_dual)
    )
