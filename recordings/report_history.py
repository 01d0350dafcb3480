"""The subject's history for a report: the measures of their earlier sound sessions of the same
drill and condition, and the trend figure drawn from them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from matplotlib.figure import Figure

from recordings import report_plots
from recordings.catalogue import catalogue
from recordings.compare import Comparison
from recordings.library import SessionLibrary
from recordings.reader import Recording
from recordings.report_cache import FileAnalyses
from recordings.subjects import Subject
from sensors.processing.analysis import AnalysisResult
from sensors.processing.errors import ProcessingError


@dataclass(frozen=True)
class HistoryPoint:
    """One session on the trend: when (local time), its measures and the visit's outcomes."""

    when: datetime
    result: AnalysisResult


def trend_figure(
    history: list[HistoryPoint], measures: AnalysisResult, comparison: Comparison | None, subject: Subject
) -> Figure | None:
    """The trends of the drill's first four key measures over `history` (with the MDC95 of
    `comparison`) and the subject's outcomes up to the last session; None when nothing has two
    points."""
    cat = catalogue()
    mdcs = {r.name: r.mdc95 for r in comparison.rows} if comparison else {}
    series = []
    for key in cat.key_measures(measures.drill)[:4]:
        session_level = any(m.name == key and m.repetition is None for m in measures.measures)
        judged = comparison.judged_row(key) if comparison else None  # the quantity with a known error
        name = judged.name if judged is not None else key if session_level else f"mean_{key}"
        points = [(h.when, h.result.value(name)) for h in history if _has(h.result, name)]
        if len(points) >= 2:
            series.append(
                report_plots.TrendSeries(cat.info(measures.drill, name), points, mdcs.get(name, math.nan))
            )
    outcomes = [
        (v.day, v.pain_now, v.score, v.questionnaire) for v in subject.visits_until(history[-1].when.date())
    ]
    return report_plots.trend(series, outcomes)


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
    """Measures of the subject's sound sessions of this drill in this condition, recorded up to
    this one (later sessions are not part of this report), oldest first, this one included.
    `analyze_file(path, k, n)` analyses the k-th of n other files (default: the measures of
    `analyses`, the command's per-file results, or a new one)."""
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
    if analyze_file is None:
        known = analyses if analyses is not None else FileAnalyses()

        def analyze_file(path: Path, k: int, n: int) -> AnalysisResult:
            return known.result(path)

    history = []
    for k, entry in enumerate(entries, start=1):
        try:
            result = analyze_file(entry.path, k, len(entries))
        except ProcessingError:
            continue  # a session that cannot be analysed has no point on the trend
        assert entry.created_utc is not None
        history.append(HistoryPoint(entry.created_utc.astimezone(), result))
    history.append(HistoryPoint(created.astimezone(), measures))
    return sorted(history, key=lambda h: h.when)
