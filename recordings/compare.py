"""Re-test comparison: a session's measures against the subject's baseline, with the change
judged against measurement error (MDC95), as METRICS.md §7 asks."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sensors.processing.analysis import AnalysisResult
from sensors.processing.comparison import mdc95_between_session_means
from sensors.processing.errors import ProcessingError


class Verdict(StrEnum):
    REAL = "real change"
    WITHIN_ERROR = "within measurement error"
    NO_MDC = "no MDC available"


@dataclass(frozen=True)
class ChangeRow:
    """One measure in both sessions. mdc95 is NaN when no error estimate exists; mdc_basis
    says where it came from."""

    group: str
    name: str
    unit: str
    baseline: float
    retest: float
    mdc95: float
    mdc_basis: str

    @property
    def change(self) -> float:
        return self.retest - self.baseline

    @property
    def verdict(self) -> Verdict:
        if not (math.isfinite(self.mdc95) and math.isfinite(self.change)):
            return Verdict.NO_MDC
        return Verdict.REAL if abs(self.change) > self.mdc95 else Verdict.WITHIN_ERROR


@dataclass(frozen=True)
class Comparison:
    drill: str
    rows: tuple[ChangeRow, ...]

    def row(self, name: str) -> ChangeRow:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"{self.drill}: no compared measure {name!r}")


#: Bookkeeping counts that are shown but never judged.
_COUNTS = frozenset({"repetitions", "repetitions_not_measured", "repetitions_skipped_for_gaps", "steps"})


def compare_results(
    baseline: AnalysisResult, retest: AnalysisResult, published_mdc95: Mapping[str, float] | None = None
) -> Comparison:
    """Session-level measures present in both results. The MDC95 is the published (or clinic's own
    test–retest) value when `published_mdc95` has the measure, else it comes from the spread of
    the repetitions (bends, rises, perturbations, stance windows) in the two sessions."""
    if baseline.drill != retest.drill:
        raise ValueError(f"cannot compare a {baseline.drill} session with a {retest.drill} session")
    published = dict(published_mdc95 or {})
    base_rows = {m.name: m for m in baseline.measures if m.repetition is None}
    rows = []
    for m in retest.measures:
        if m.repetition is not None or m.name not in base_rows:
            continue
        b = base_rows[m.name]
        mdc, basis = math.nan, ""
        if m.name in published:
            mdc, basis = published[m.name], "published / clinic test-retest"
        elif m.name not in _COUNTS:
            mdc, basis = _from_repetitions(baseline, retest, m.name.removeprefix("mean_"))
        rows.append(ChangeRow(m.group, m.name, m.unit, b.value, m.value, mdc, basis))
    return Comparison(retest.drill, tuple(rows))


def _from_repetitions(baseline: AnalysisResult, retest: AnalysisResult, name: str) -> tuple[float, str]:
    a = [m.value for m in baseline.measures if m.name == name and m.repetition is not None]
    b = [m.value for m in retest.measures if m.name == name and m.repetition is not None]
    try:
        return mdc95_between_session_means(a, b), f"repetitions ({len(a)} + {len(b)})"
    except ProcessingError:
        return math.nan, ""
