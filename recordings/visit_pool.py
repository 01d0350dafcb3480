"""A re-test compares a visit with a visit: the recordings of one drill and condition that the
clinician made as one (a protocol run's repetitions, `recordings.visit_runs`) pooled into one
result, so their 10 s windows (or other repetitions) together give the within-session error
(`sensors.processing.comparison.MIN_REPETITIONS_FOR_MDC` in each visit).

The baseline visit is the subject's first run of the drill in that condition; a recording of
it that cannot be read is named, never silently replaced by a later visit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import numpy as np

from recordings.catalogue import MEAN_PREFIX, catalogue
from recordings.conditions import session_label
from recordings.library import SessionEntry, SessionLibrary
from recordings.reader import Recording
from recordings.schema import parse_session_file_name
from recordings.visit_runs import run_keys
from sensors.processing.analysis_data import AnalysisResult, Measure

#: `sub-<id>_<drill>[-<condition>]_<YYYYmmddTHHMMSSfff>Z.h5`, the library's file names.


@dataclass(frozen=True)
class BaselineVisit:
    """The readable recordings of the baseline visit, oldest first (() when the compared
    recording is itself of the baseline visit or no earlier one exists) and a note saying which,
    or why none; `unreadable`: the earlier recordings of the drill that could not be read."""

    entries: tuple[SessionEntry, ...]
    note: str
    unreadable: tuple[str, ...] = ()


def named_time(entry: SessionEntry) -> tuple[str, datetime] | None:
    """The drill label and UTC time a library file's name gives (a damaged file's only trace)."""
    named = parse_session_file_name(entry.path.name)
    return None if named is None else (named[1], named[2])


def unreadable_on(library: SessionLibrary, subject_id: str, day: date, label: str = "") -> list[str]:
    """'x.h5 could not be read (why)' for each of the subject's files of that (local) day, by its
    name's time, that the library cannot read (only those of drill label `label` when given)."""
    return [
        f"{e.path.name} could not be read ({e.problem})"
        for e in library.sessions(subject_id)
        if e.problem
        and (named := named_time(e)) is not None
        and named[1].astimezone().date() == day
        and label in ("", named[0])
    ]


def unreadable_beside(library: SessionLibrary, recording: Recording) -> list[str]:
    """The files of the recording's day, drill and condition that cannot be read: repetitions
    its visit may have lost ('re-test x.h5 could not be read (why)')."""
    day = _created(recording).astimezone().date()
    label = session_label(recording.drill, recording.condition)
    return [f"re-test {text}" for text in unreadable_on(library, recording.subject_id, day, label)]


def _created(recording: Recording) -> datetime:
    """The recording's start, UTC (a time without zone is taken as UTC)."""
    made = datetime.fromisoformat(str(recording.attributes["created_utc"]))
    return made.replace(tzinfo=UTC) if made.tzinfo is None else made.astimezone(UTC)


def run_of(library: SessionLibrary, recording: Recording) -> list[SessionEntry]:
    """The library's sound recordings of the recording's run in its drill and condition, oldest
    first, the recording included; [] when the recording is not in the library."""
    entries = [e for e in library.sessions(recording.subject_id) if not e.problem]
    current = recording.path.resolve()
    mine = next((e for e in entries if e.path.resolve() == current), None)
    if mine is None:
        return []
    keys = run_keys(entries)
    return [
        e
        for e in entries
        if keys[e.path] == keys[mine.path] and e.drill == mine.drill and e.condition == mine.condition
    ]


def baseline_visit(library: SessionLibrary, recording: Recording) -> BaselineVisit:
    """The subject's first run of the recording's drill in its condition, recorded before it,
    with the earlier or same-visit files of that drill that could not be read named."""
    everything = library.sessions(recording.subject_id)
    sound = [e for e in everything if not e.problem]
    same = [e for e in sound if e.drill == recording.drill and e.condition == recording.condition]
    what = f"{catalogue().drill_title(recording.drill)} ({recording.condition.task_label})"
    current = recording.path.resolve()
    keys = run_keys(sound)
    first = same[0] if same else None
    pool = [e for e in same if first is not None and keys[e.path] == keys[first.path]]
    label = session_label(recording.drill, recording.condition)
    made = _created(recording)
    until = min(pool[-1].created_utc or made, made) if pool else made
    unreadable = tuple(
        f"baseline {e.path.name} could not be read ({e.problem})"
        for e in everything
        if e.problem
        and (named := named_time(e)) is not None
        and named[0] == label
        and named[1] <= until
        and named[1] < made
    )
    if not pool or any(e.path.resolve() == current for e in pool):
        note = f"first {what} visit of subject {recording.subject_id}: it is the baseline"
        return BaselineVisit((), "; ".join((*unreadable, note)), unreadable)
    names = ", ".join(e.path.name for e in pool)
    used = names if len(pool) == 1 else f"the visit's {len(pool)} recordings {names}"
    note = "; ".join((*unreadable, f"used instead: {used}")) if unreadable else f"baseline: {used}"
    return BaselineVisit(tuple(pool), note, unreadable)


def pool_results(results: Sequence[AnalysisResult]) -> AnalysisResult:
    """One visit's analyses (each a recording of one drill) as one: every repetition (10 s window)
    numbered on across the recordings, each mean of repetitions recomputed over all of them, the
    repetition count summed, any other session-level value the mean of the recordings' (a
    censoring flag the least, so a mean with a censored value is a lower bound)."""
    if len(results) == 1:
        return results[0]
    drill = results[0].drill
    repeated: list[Measure] = []
    for result in results:
        numbers = {
            k: len({m.repetition for m in repeated}) + i + 1 for i, k in enumerate(_repetitions(result))
        }
        repeated += [
            replace(m, repetition=numbers[m.repetition]) for m in result.measures if m.repetition is not None
        ]
    cat = catalogue()
    session = [m for r in results for m in r.measures if m.repetition is None]
    flags = {cat.info(drill, m.name).lower_bound_unless for m in session}
    pooled = []
    for name in dict.fromkeys(m.name for m in session):
        first = next(m for m in session if m.name == name)
        values = [m.value for m in session if m.name == name and math.isfinite(m.value)]
        windows = [m.value for m in repeated if m.name == name.removeprefix(MEAN_PREFIX)]
        if name == "repetitions" and repeated:
            value = float(len({m.repetition for m in repeated}))
        elif name.startswith(MEAN_PREFIX) and windows:
            finite = [v for v in windows if math.isfinite(v)]
            value = float(np.mean(finite)) if finite else math.nan
        elif not values:
            value = math.nan
        else:
            value = min(values) if name in flags else float(np.mean(values))
        pooled.append(replace(first, value=value))
    notes = tuple(dict.fromkeys(n for r in results for n in r.notes))
    return AnalysisResult(drill, (*pooled, *repeated), notes)


def _repetitions(result: AnalysisResult) -> list[int]:
    return sorted({m.repetition for m in result.measures if m.repetition is not None})
