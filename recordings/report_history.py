"""The subject's history for a report: the measures of their earlier sessions of the same drill
and condition (a file that cannot be read or analysed kept with why), and the trend figure drawn
from them, one point per visit."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from matplotlib.figure import Figure

from recordings import report_plots, schema
from recordings.catalogue import catalogue
from recordings.compare import Comparison
from recordings.errors import RecordingError
from recordings.library import SessionLibrary
from recordings.reader import Recording
from recordings.report_cache import FileAnalyses
from recordings.subjects import Subject
from sensors.processing.analysis import AnalysisResult
from sensors.processing.errors import ProcessingError


@dataclass(frozen=True)
class HistoryPoint:
    """One session of the history: when (local time) and its measures, or (`result` None) the
    file that could not be read or analysed and why ("could not be read: …")."""

    when: datetime
    result: AnalysisResult | None
    path: Path | None = None
    problem: str = ""

    def lost_note(self) -> str:
        """The report's flag for a session without measures ("" for one with them)."""
        if self.result is not None:
            return ""
        name = self.path.name if self.path is not None else "a session"
        return (
            f"history: {name} ({self.when:%d %b %Y}) {self.problem}; "
            "the trend's point of that visit is without it"
        )


@dataclass(frozen=True)
class TrendFigure:
    """The trend figure and a caption that says what it draws."""

    figure: Figure
    caption: str


def trend_figure(
    history: list[HistoryPoint], measures: AnalysisResult, comparison: Comparison | None, subject: Subject
) -> TrendFigure | None:
    """The trends of the drill's first four key measures over `history`, one point per visit
    (with the MDC95 of `comparison`), and the subject's outcomes up to the last session; None
    when no measure has two visits."""
    cat = catalogue()
    mdcs = {r.name: r.mdc95 for r in comparison.rows} if comparison else {}
    series = []
    for key in cat.key_measures(measures.drill)[:4]:
        session_level = any(m.name == key and m.repetition is None for m in measures.measures)
        judged = comparison.judged_row(key) if comparison else None  # the quantity with a known error
        name = judged.name if judged is not None else key if session_level else f"mean_{key}"
        points = [(h.when, h.result.value(name)) for h in history if h.result and _has(h.result, name)]
        if len({w.date() for w, _ in points}) >= 2:
            series.append(
                report_plots.TrendSeries(cat.info(measures.drill, name), points, mdcs.get(name, math.nan))
            )
    outcomes = [
        (v.day, v.pain_now, v.score, v.questionnaire) for v in subject.visits_until(history[-1].when.date())
    ]
    lost = Counter(h.when.date() for h in history if h.result is None)
    figure = report_plots.trend(series, outcomes, lost)
    if figure is None:
        return None
    several = any(max(Counter(w.date() for w, _ in s.points).values()) > 1 for s in series)
    parts = ["each point is one visit" + (", the mean ± SD of its recordings" if several else "")]
    if any(math.isfinite(s.mdc95) for s in series):
        parts.append("shaded: the MDC95 around the first visit")
    if lost:
        parts.append("a date marked 'unreadable' lost a recording (named under Flags)")
    return TrendFigure(figure, "; ".join(parts))


def _has(result: AnalysisResult, name: str) -> bool:
    return any(m.name == name and m.repetition is None and math.isfinite(m.value) for m in result.measures)


def subject_history(
    library: SessionLibrary,
    recording: Recording,
    measures: AnalysisResult,
    analyze_file: Callable[[Path, int, int], AnalysisResult] | None = None,
    *,
    analyses: FileAnalyses | None = None,
) -> list[HistoryPoint]:
    """Measures of the subject's sessions of this drill in this condition, recorded up to this
    one (later sessions are not part of this report), oldest first, this one included. A file
    that cannot be read (known by its name's drill and time) or analysed is a point without a
    result that says why. `analyze_file(path, k, n)` analyses the k-th of n other files (default:
    the measures of `analyses`, the command's per-file results, or a new one)."""
    current = recording.path.resolve()
    created = datetime.fromisoformat(str(recording.attributes["created_utc"]))
    entries = [
        e
        for e in library.sessions(recording.subject_id, recording.drill, recording.condition)
        if not e.problem
        and e.created_utc is not None
        and e.path.resolve() != current
        and e.created_utc <= created
    ]
    history = _damaged(library, recording, created)
    if analyze_file is None:
        known = analyses if analyses is not None else FileAnalyses()

        def analyze_file(path: Path, k: int, n: int) -> AnalysisResult:
            return known.result(path)

    for k, entry in enumerate(entries, start=1):
        assert entry.created_utc is not None
        when = entry.created_utc.astimezone()
        try:
            result = analyze_file(entry.path, k, len(entries))
        except RecordingError as error:
            history.append(HistoryPoint(when, None, entry.path, f"could not be read: {error.problem}"))
            continue
        except ProcessingError as error:  # no point on the trend, but the report says why
            why = str(error).removeprefix(f"{entry.path}: ")
            history.append(HistoryPoint(when, None, entry.path, f"could not be analysed: {why}"))
            continue
        history.append(HistoryPoint(when, result, entry.path))
    history.append(HistoryPoint(created.astimezone(), measures, recording.path))
    return sorted(history, key=lambda h: h.when)


def _damaged(library: SessionLibrary, recording: Recording, created: datetime) -> list[HistoryPoint]:
    """The subject's files of this drill and condition up to `created` that cannot be read at
    all: known only by their names (`schema.session_file_name`), which the library does not sort
    by drill."""
    token = recording.condition.file_token if recording.condition else ""
    label = "-".join(p for p in (recording.drill, token) if p)
    points = []
    for entry in library.sessions(recording.subject_id):
        if entry.created_utc is not None or not entry.problem:
            continue
        named = schema.parse_session_file_name(entry.path.name)
        if named is None or named[:2] != (recording.subject_id, label):
            continue  # not a name stabmon gives this drill's recordings: its drill and time are unknown
        when = named[2]
        if when <= created:
            why = f"could not be read: {entry.problem}"
            points.append(HistoryPoint(when.astimezone(), None, entry.path, why))
    return points
