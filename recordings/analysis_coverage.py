"""The part of a session a drill's measures can use when a sensor they read sent nothing at its
start or end (a battery that died, a sensor that joined late; `recordings.coverage`): the task is
measured over the part every such sensor covers, when that part is as long as the family's
measures need (`sensors.processing.analysis.shortest_task_s`), and the result says so; otherwise
nothing is measured, and the error says which sensor and since when."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from recordings.coverage import Coverage
from sensors.drills import drill_family
from sensors.errors import UnknownDrillError
from sensors.events import Event, EventKind
from sensors.processing.analysis import ANALYSIS_PLACEMENTS, SessionData, shortest_task_s, task_window
from sensors.processing.errors import ProcessingError


@dataclass(frozen=True)
class MeasuredPart:
    """The session data to measure (the task narrowed to the part its sensors cover), what the
    result says about its data (`notes`), and what narrowed it ("" when nothing did: `limit`)."""

    data: SessionData
    notes: tuple[str, ...]
    limit: str = ""


def measured_part(data: SessionData, drill: str, coverage: Coverage) -> MeasuredPart:
    """The part of `data`'s task (its start and end marks, s) that every sensor `drill`'s analysis
    reads sent data in; ProcessingError ("not measured: the lumbar sensor had no data after 6.0 s;
    …") when that part is shorter than the family's measures need (a task that is itself too
    short, every sensor working, `analyze` refuses)."""
    notes = tuple(coverage.lines())
    try:
        family = drill_family(drill)
    except UnknownDrillError:
        return MeasuredPart(data, notes)  # analyze() says what is wrong with the drill
    sensors = ANALYSIS_PLACEMENTS[family]
    start, end = task_window(data)
    first, last = coverage.covered(sensors)
    limit = coverage.limit_text(sensors)
    if not limit or (first <= start and last >= end):
        return MeasuredPart(data, notes)
    begin, stop = max(start, first), min(end, last)
    covered = max(stop - begin, 0.0)
    need = shortest_task_s(family)
    if covered <= 0.0 or covered < need:
        needs = f"; the {family.value} measures need at least {need:.0f} s" if need else ""
        raise ProcessingError(
            f"not measured: {limit}, which left {covered:.1f} s of the task ({start:.1f}–{end:.1f} s){needs}"
        )
    note = f"measured over {begin:.1f}–{stop:.1f} s only, the part of the task ({start:.1f}–{end:.1f} s) "
    note += f"with data from every sensor its measures use: {limit}"
    if family.is_hold:  # the time held is the clinician's clock (its marks stay); the rest, the part
        return MeasuredPart(_frames_within(data, first, last), (*notes, note), limit)
    # The frames outside the part become gaps for every sensor, so a bend, push or rise the part
    # cuts is left out by the analysis' own gap rules, and the task's marks move into it.
    events = _task_marks_within(data.events, begin, stop)
    return MeasuredPart(replace(_gaps_outside(data, first, last), events=events), (*notes, note), limit)


def silent_sensors_text(drill: str, coverage: Coverage) -> str:
    """Why `drill` has no measures when a sensor its analysis reads sent nothing in the whole
    session (so it could not calibrate either): "not measured: the lumbar sensor sent no data";
    "" otherwise."""
    try:
        sensors = ANALYSIS_PLACEMENTS[drill_family(drill)]
    except UnknownDrillError:
        return ""
    silent = [p for p in sensors if coverage.limit_text([p]).endswith("sent no data")]
    return f"not measured: {coverage.limit_text(silent)}" if silent else ""


def _frames_within(data: SessionData, first: float, last: float) -> SessionData:
    """`data` with only its frames (and angles) at session times in [first, last], s."""
    a = int(np.searchsorted(data.frame.time_s, first, side="left"))
    b = int(np.searchsorted(data.frame.time_s, last, side="right"))
    return replace(data, frame=data.frame.rows(a, b), angles=data.angles.rows(a, b))


def _gaps_outside(data: SessionData, first: float, last: float) -> SessionData:
    """`data` with every sensor's samples and angles outside [first, last], s, made gaps (NaN,
    not valid): copies of the arrays, the frame grid unchanged."""
    t = data.frame.time_s
    outside = (t < first) | (t > last)

    def gapped(values: np.ndarray) -> np.ndarray:
        out = np.array(values, dtype=float)
        out[outside] = np.nan
        return out

    frame, angles = data.frame, data.angles
    valid = frame.valid.copy()
    valid[outside] = False
    frame = replace(frame, acc_m_s2=gapped(frame.acc_m_s2), gyr_rad_s=gapped(frame.gyr_rad_s), valid=valid)
    angles = replace(
        angles,
        orientation=gapped(angles.orientation),
        inclination_rad=gapped(angles.inclination_rad),
        axial_rad=gapped(angles.axial_rad),
        angular_velocity_rad_s=gapped(angles.angular_velocity_rad_s),
        lumbar_rad=gapped(angles.lumbar_rad),
    )
    return replace(data, frame=frame, angles=angles)


def _task_marks_within(events: tuple[Event, ...], begin: float, stop: float) -> tuple[Event, ...]:
    """The events with the task's start and end marks moved into [begin, stop], s (the missing
    one added), so that the analysis measures that part only. Holds keep theirs: their time
    held is the clinician's clock, whatever the sensors sent."""
    kept = [e for e in events if e.kind not in (EventKind.TASK_START, EventKind.TASK_END)]
    old_start = next((e for e in events if e.kind is EventKind.TASK_START), None)
    old_end = next((e for e in events if e.kind is EventKind.TASK_END), None)
    task_start = _moved(old_start, EventKind.TASK_START, max(begin, old_start.time_s if old_start else begin))
    task_end = _moved(old_end, EventKind.TASK_END, min(stop, old_end.time_s if old_end else stop))
    return tuple(sorted((*kept, task_start, task_end), key=lambda e: e.time_s))


def _moved(event: Event | None, kind: EventKind, time_s: float) -> Event:
    """`event` at `time_s`, s (a new one of `kind` when there was none)."""
    return Event(time_s, kind, source="coverage") if event is None else replace(event, time_s=time_s)
