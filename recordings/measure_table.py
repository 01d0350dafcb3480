"""An analysis result as the rows a clinician reads: catalogue names, rounded values with units,
"Not measured — why", the spread over repetitions beside each mean, and each repetition below."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from recordings.catalogue import MEAN_PREFIX, MeasureInfo, catalogue, format_number
from sensors.processing.analysis import AnalysisResult, Measure


@dataclass(frozen=True)
class MeasureRow:
    """One measure as shown. `spread` is the SD over the repetitions a mean was taken of (NaN
    when it is not a mean, or of fewer than two); `n` how many repetitions that was."""

    measure: Measure
    info: MeasureInfo
    spread: float = math.nan
    n: int = 0
    lower_bound: bool = False  # censored: the true value is at least this (`info.lower_bound_why`)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def text(self) -> str:
        """Value with unit, '≥ value (why)' when censored, and '± SD (n = k)' for a mean."""
        if self.lower_bound:
            return self.info.format_lower_bound(self.measure.value)
        value = self.info.format(self.measure.value, missing=self.measure.missing)
        if math.isfinite(self.measure.value) and math.isfinite(self.spread) and self.info.kind != "flag":
            sd = format_number(self.info.display_value(self.spread), self.info.decimals)
            number = self.info.format(self.measure.value, with_unit=False)
            value = f"{number} ± {sd} {self.info.unit}".rstrip() + f" (mean ± SD of {self.n})"
        return value

    @property
    def value_text(self) -> str:
        """Value without unit (table cells with a unit column)."""
        return self.info.format(self.measure.value, with_unit=False, missing=self.measure.missing)


def _spread(result: AnalysisResult, m: Measure) -> tuple[float, int]:
    if not m.name.startswith(MEAN_PREFIX):
        return math.nan, 0
    base = m.name.removeprefix(MEAN_PREFIX)
    values = [r.value for r in result.measures if r.name == base and r.repetition is not None]
    finite = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    return (float(np.std(finite, ddof=1)) if len(finite) >= 2 else math.nan), len(finite)


def is_lower_bound(result: AnalysisResult, info: MeasureInfo) -> bool:
    """Whether the result's session-level value of `info` is censored: its `lower_bound_unless`
    flag is 0 (a hold the task ended before the posture was lost), so the true value is at least it."""
    if not info.lower_bound_unless:
        return False
    flag = next(
        (m.value for m in result.measures if m.repetition is None and m.name == info.lower_bound_unless),
        math.nan,
    )
    return flag == 0.0


def session_rows(result: AnalysisResult, key_only: bool = False) -> list[MeasureRow]:
    """The session-level measures, key measures first (catalogue order), then the rest."""
    cat = catalogue()
    rows = []
    for m in result.measures:
        if m.repetition is not None:
            continue
        info = cat.info(result.drill, m.name)
        if key_only and not info.key_measure:
            continue
        rows.append(MeasureRow(m, info, *_spread(result, m), lower_bound=is_lower_bound(result, info)))
    rows += _unmeasured_key_rows(result, {m.name for m in result.measures if m.repetition is None})
    return sorted(rows, key=lambda r: (not r.info.key_measure, r.info.kind != "value"))


def _unmeasured_key_rows(result: AnalysisResult, present: set[str]) -> list[MeasureRow]:
    """A "Not measured" row for each key measure the analysis gave no value for (a bend drill
    with no complete bend gives only its count): the mean of repetitions for a drill measured in
    repetitions ("no bend could be measured"), else the measure itself."""
    cat = catalogue()
    by_repetition = "repetitions" in present
    rows = []
    for key in cat.key_measures(result.drill):
        if key in present or MEAN_PREFIX + key in present:
            continue
        name = MEAN_PREFIX + key if by_repetition else key
        info = cat.info(result.drill, name)
        rows.append(MeasureRow(Measure(info.group, name, math.nan, info.unit, info.source), info))
    return rows


def repetition_rows(result: AnalysisResult) -> dict[int, list[MeasureRow]]:
    """Each repetition's measures, by repetition number."""
    cat = catalogue()
    out: dict[int, list[MeasureRow]] = {}
    for m in result.measures:
        if m.repetition is not None:
            out.setdefault(m.repetition, []).append(MeasureRow(m, cat.info(result.drill, m.name)))
    return out


def repetition_label(result: AnalysisResult, repetition: int) -> str:
    """'bend 2', '10 s window 3'."""
    first = next(m for m in result.measures if m.repetition == repetition)
    return f"{catalogue().info(result.drill, first.name).repetition} {repetition}"
