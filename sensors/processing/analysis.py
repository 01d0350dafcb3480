"""Offline analysis of a session: the measures a clinician reads, as one typed table.

`analyze(data, drill)` picks the measures for the drill's family from the synchronised frames,
the angles the pipeline computed from them, the calibration and the session's events. It calls
the same pure functions a live view uses, so live and offline agree.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from sensors.drills import HOLD_FAMILIES, DrillFamily, drill_family
from sensors.errors import UnknownDrillError
from sensors.placements import Placement
from sensors.processing.analysis_data import AnalysisResult, Measure, SessionData, task_window
from sensors.processing.analysis_holds import hold
from sensors.processing.analysis_movement import GAIT_WINDOW_S, bends, gait, sit_to_stand
from sensors.processing.analysis_upright import (
    STANCE_SETTLE_S,
    STANCE_WINDOW_S,
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
    "missing_placements",
    "perturbation_events",
    "perturbation_instants",
    "shortest_task_s",
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


_BACK = (Placement.LUMBAR, Placement.PELVIS)

#: The sensors each family's analysis reads (a live session always has both back sensors; an
#: imported recording may not).
ANALYSIS_PLACEMENTS: dict[DrillFamily, tuple[Placement, ...]] = {
    DrillFamily.QUIET_STANCE: (Placement.LUMBAR,),
    DrillFamily.SINGLE_LEG: _BACK,
    DrillFamily.PERTURBATIONS: _BACK,
    DrillFamily.FORWARD_BEND: _BACK,
    DrillFamily.SIT_TO_STAND: _BACK,
    DrillFamily.GAIT: (Placement.PELVIS,),
    **dict.fromkeys(HOLD_FAMILIES, _BACK),
}


def shortest_task_s(family: DrillFamily) -> float:
    """The shortest task, s, the family's measures are defined over: one stance window after the
    settling second, one gait window (the lengths whose measurement error a re-test knows); 0 for
    the families measured per repetition (a bend, a push, a rise, a hold), whose analysis leaves
    out each repetition the data do not cover and counts it."""
    if family.is_stance:
        return STANCE_SETTLE_S + STANCE_WINDOW_S
    return GAIT_WINDOW_S if family is DrillFamily.GAIT else 0.0


def missing_placements(drill: str, placements: Collection[Placement]) -> str | None:
    """What `drill`'s analysis lacks among `placements`, as one sentence ('the gait analysis needs
    a pelvis sensor at S1/S2 (sacrum); this recording has lumbar'), or None when nothing is
    missing. ProcessingError for a drill it cannot analyse."""
    try:
        family = drill_family(drill)
    except UnknownDrillError as error:
        raise ProcessingError(str(error)) from None
    lacking = [p for p in ANALYSIS_PLACEMENTS[family] if p not in placements]
    if not lacking:
        return None
    needs = " and ".join(f"a {p.value} sensor at {p.anatomical_site}" for p in lacking)
    has = ", ".join(p.value for p in placements) or "no sensor"
    return f"the {drill} analysis needs {needs}; this recording has {has}"


def analyze(data: SessionData, drill: str) -> AnalysisResult:
    """The measures for `drill` (a catalogue name, e.g. 'forward-bend' or 'side-plank-left');
    ProcessingError saying what is missing when the session lacks a sensor the drill's analysis
    reads, or when a standing-balance task is shorter than its measures need (live and offline
    alike: 'not measured: the task lasted 8.0 s …')."""
    try:
        family = drill_family(drill)
    except UnknownDrillError as error:
        raise ProcessingError(str(error)) from None
    problem = missing_placements(drill, data.frame.placements)
    if problem is not None:
        raise ProcessingError(problem)
    start, end = task_window(data)
    need = shortest_task_s(family)
    if family.is_stance and end - start < need:
        raise ProcessingError(
            f"not measured: the task lasted {end - start:.1f} s ({start:.1f}–{end:.1f} s); "
            f"the {family.value} measures need at least {need:.0f} s"
        )
    return AnalysisResult(drill, tuple(_ANALYSES[family](data)))
