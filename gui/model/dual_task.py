"""The dual-task effect of a protocol's single- and dual-condition recordings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gui.model.cognitive import CognitiveScore
from gui.model.results import RecordingResult
from sensors.processing.analysis import AnalysisResult, drill_family
from sensors.processing.comparison import dual_task_effect_pct
from sensors.processing.errors import ProcessingError

#: Stance-family measures whose dual-task effect is reported (higher sway is worse).
DUAL_TASK_MEASURES = ("acc_rms_ap", "acc_rms_ml", "acc_ellipse_area_95", "angle_rms_ap", "angle_rms_ml")


@dataclass(frozen=True)
class DualTaskEffect:
    """Dual-task effect (%) per measure, negative = a cost (Plummer & Eskes 2015), with the
    dual-condition cognitive score."""

    effects_pct: dict[str, float]
    cognitive: CognitiveScore | None


def dual_task_effect(results: list[RecordingResult]) -> DualTaskEffect | None:
    """Dual-task effect between the single- and dual-condition recordings of a protocol (means
    over repetitions of each condition); None when either condition has no measures."""
    by_condition: dict[str, list[AnalysisResult]] = {"single": [], "dual": []}
    scores = [r.cognitive for r in results if r.cognitive is not None]
    for r in results:
        if r.measures is not None:
            by_condition[r.condition].append(r.measures)
    if not by_condition["single"] or not by_condition["dual"]:
        return None
    if drill_family(results[0].drill) not in ("quiet-stance", "single-leg"):
        return None
    effects = {}
    for name in DUAL_TASK_MEASURES:
        try:
            single = float(np.mean([m.value(name) for m in by_condition["single"]]))
            dual = float(np.mean([m.value(name) for m in by_condition["dual"]]))
            effects[name] = dual_task_effect_pct(single, dual, higher_is_better=False)
        except (KeyError, ProcessingError):
            continue
    return DualTaskEffect(effects, scores[-1] if scores else None)
