"""Offline analysis of a session: the measures a clinician reads, as one typed table.

`analyze(data, drill)` picks the measures for the drill's family from the synchronised frames,
the angles the pipeline computed from them, the calibration and the session's events. It calls
the same pure functions a live view uses, so live and offline agree.
"""

from __future__ import annotations

from collections.abc import Callable

from sensors.drills import HOLD_FAMILIES, DrillFamily, drill_family
from sensors.errors import UnknownDrillError
from sensors.processing.analysis_data import AnalysisResult, Measure, SessionData, task_window
from sensors.processing.analysis_holds import hold
from sensors.processing.analysis_movement import bends, gait, sit_to_stand
from sensors.processing.analysis_upright import (
    perturbation_events,
    perturbation_instants,
    perturbations,
    single_leg,
    stance,
)
from sensors.processing.errors import ProcessingError

__all__ = [
    "AnalysisResult",
    "Measure",
    "SessionData",
    "analyze",
    "drill_family",
    "perturbation_events",
    "perturbation_instants",
    "task_window",
]


#: The analysis of each drill family (every hold family shares one).
_ANALYSES: dict[DrillFamily, Callable[[SessionData], list[Measure]]] = {
    DrillFamily.QUIET_STANCE: stance,
    DrillFamily.SINGLE_LEG: single_leg,
    DrillFamily.PERTURBATIONS: perturbations,
    DrillFamily.FORWARD_BEND: bends,
    DrillFamily.SIT_TO_STAND: sit_to_stand,
    DrillFamily.GAIT: gait,
    **dict.fromkeys(HOLD_FAMILIES, hold),
}


def analyze(data: SessionData, drill: str) -> AnalysisResult:
    """The measures for `drill` (a catalogue name, e.g. 'forward-bend' or 'side-plank-left')."""
    try:
        family = drill_family(drill)
    except UnknownDrillError as error:
        raise ProcessingError(str(error)) from None
    return AnalysisResult(drill, tuple(_ANALYSES[family](data)))
