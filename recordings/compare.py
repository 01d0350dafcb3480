"""Re-test comparison: a session's measures against the subject's baseline in the same drill and
condition, each change judged against a minimal detectable change (MDC95, METRICS.md §7) and
given a direction from the measures catalogue.

The MDC comes from, in this order: a published test–retest value in the reference file, the
clinic's own (`--mdc`), or the spread of the repetitions within the two sessions — a lower bound,
since it does not see day-to-day re-placement of the sensors, so a change beyond it alone is
only "possibly" real. SEM = MDC95/(1.96·√2) (METRICS.md §7) is shown beside it.

A within-session MDC is the error of the mean of the repetitions (for stance, of 10 s windows),
so it judges that mean, the same quantity on both sides: a whole-recording value that has such a
mean beside it is shown but not judged (its own error is not known: it also holds the slow drift
between windows), and a whole-recording value that grows with the recording's length (a path, a
time integral: PATH = Σ√(ΔAP² + ΔML²) and JERK = ½∫(dAP/dt)² + (dML/dt)² dt of METRICS.md §1
sum over every sample, so they scale with the length; Carpenter et al. 2001, Gait Posture 13:35,
report sway measures' dependence on trial duration (verify)) is never judged against the error
of a 10 s window. A session-level value without a mean of repetitions beside it (walking's) is
judged against the windows' spread, as before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from recordings.catalogue import MEAN_PREFIX, Better, MeasureInfo, catalogue
from recordings.conditions import Condition
from recordings.library import SessionEntry, SessionLibrary
from recordings.reader import Recording
from recordings.references import MDC95_PER_SEM, ReferenceSet, bundled_references
from recordings.subjects import Demographics
from recordings.visit_pool import baseline_visit
from sensors.errors import StabmonError
from sensors.processing.analysis import AnalysisResult
from sensors.processing.comparison import MIN_REPETITIONS_FOR_MDC, mdc95_between_session_means
from sensors.processing.errors import ProcessingError

#: Recording lengths that differ by more than this fraction get a warning.
LENGTH_TOLERANCE = 0.2


class ConditionMismatchError(StabmonError, ValueError):
    """Two sessions in different conditions (e.g. single- and dual-task): never compared."""


class Verdict(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    CHANGED = "changed"  # beyond the MDC, for a measure with no better direction
    POSSIBLY_BETTER = "possibly better"  # beyond only a lower-bound MDC
    POSSIBLY_WORSE = "possibly worse"
    POSSIBLY_CHANGED = "possibly changed"
    NO_REAL_CHANGE = "no real change"
    NOT_JUDGED = "not judged"


class MdcBasis(StrEnum):
    PUBLISHED = "published test–retest"
    CLINIC = "clinic's MDC"
    WITHIN_SESSION = "within-session repetitions, a lower bound"
    NONE = "none"


@dataclass(frozen=True)
class ChangeRow:
    """One measure in both sessions; mdc95 NaN when there is no error estimate."""

    info: MeasureInfo
    baseline: float
    retest: float
    mdc95: float
    basis: MdcBasis
    basis_note: str = ""
    #: Censored values (a hold the task ended first): the true value is at least the one given.
    baseline_lower_bound: bool = False
    retest_lower_bound: bool = False

    @property
    def name(self) -> str:
        """The analysis key (e.g. 'mean_trunk_flexion')."""
        return self.info.key

    @property
    def change(self) -> float:
        return self.retest - self.baseline

    @property
    def change_pct(self) -> float:
        """Change relative to the baseline, % (NaN when the baseline is 0 or the unit is %)."""
        if self.info.unit == "%" or not math.isfinite(self.change) or self.baseline == 0:
            return math.nan
        return 100.0 * self.change / abs(self.baseline)

    @property
    def verdict(self) -> Verdict:
        if not (self.info.judged and math.isfinite(self.change) and math.isfinite(self.mdc95)):
            return Verdict.NOT_JUDGED
        resolution = 10.0**-self.info.decimals / self.info.scale  # a change the display cannot show
        censored = self.baseline_lower_bound or self.retest_lower_bound
        if abs(self.change) <= max(self.mdc95, resolution):
            return Verdict.NOT_JUDGED if censored else Verdict.NO_REAL_CHANGE
        tentative = self.basis is MdcBasis.WITHIN_SESSION
        better = self.info.better
        if better is Better.NONE:
            return Verdict.POSSIBLY_CHANGED if tentative else Verdict.CHANGED
        if better is Better.TOWARD_ZERO:
            improved = abs(self.retest) < abs(self.baseline)
        else:
            improved = (self.change > 0) == (better is Better.HIGHER)
        # A censored baseline could be any value above it; a censored re-test only understates a
        # gain of a measure where higher is better: that is the one verdict a lower bound allows.
        if censored and not (
            improved and better is Better.HIGHER and not self.baseline_lower_bound and self.change > 0
        ):
            return Verdict.NOT_JUDGED
        if improved:
            return Verdict.POSSIBLY_BETTER if tentative else Verdict.BETTER
        return Verdict.POSSIBLY_WORSE if tentative else Verdict.WORSE

    @property
    def cells(self) -> tuple[str, str, str, str, str, str]:
        """Measure, baseline, re-test, change, MDC95 and verdict as a table shows them."""
        return (
            self.info.name,
            self._value_text(self.baseline, self.baseline_lower_bound),
            self._value_text(self.retest, self.retest_lower_bound),
            self.change_text,
            self.mdc_text,
            self.verdict.value,
        )

    def _value_text(self, value: float, lower_bound: bool) -> str:
        return (
            f"≥ {self.info.format(value)}"
            if lower_bound and math.isfinite(value)
            else self.info.format(value)
        )

    @property
    def sem(self) -> float:
        """Standard error of measurement, the measure's unit: MDC95/(1.96·√2) (METRICS.md §7;
        for a within-session MDC, the error of one session's mean of repetitions)."""
        return self.mdc95 / MDC95_PER_SEM

    @property
    def sem_text(self) -> str:
        """'≥ 0.0068 m/s²' for a lower bound, '11.6 s', or '—': one decimal more than the
        measure's, as the SEM is about a third of the MDC95."""
        if not math.isfinite(self.mdc95):
            return "—"
        text = replace(self.info, decimals=self.info.decimals + 1).format(self.sem)
        return f"≥ {text}" if self.basis is MdcBasis.WITHIN_SESSION else text

    @property
    def verdict_text(self) -> str:
        """The verdict with where its MDC came from, or why the row is not judged:
        'possibly better (within-session repetitions, a lower bound)'."""
        if self.basis is not MdcBasis.NONE:
            return f"{self.verdict.value} ({self.basis.value})"
        return f"{self.verdict.value} ({self.basis_note})" if self.basis_note else self.verdict.value

    @property
    def mdc_text(self) -> str:
        """'≥ 2.1 °' for a lower bound, '32 s', or '—'."""
        if not math.isfinite(self.mdc95):
            return "—"
        text = self.info.format(self.mdc95)
        return f"≥ {text}" if self.basis is MdcBasis.WITHIN_SESSION else text

    @property
    def change_text(self) -> str:
        if self.info.kind == "flag" and not self.info.mean_of_repetitions:
            return (
                "same"
                if self.change == 0
                else f"{self.info.format(self.baseline)} → {self.info.format(self.retest)}"
            )
        pct, text = self.change_pct, self.info.format_change(self.baseline, self.retest)
        if not math.isfinite(pct) or text[0] == "0":
            return text
        return f"{text} ({_signed_pct(pct)})"


def _signed_pct(pct: float) -> str:
    """'+33 %', '−20 %' (the true minus sign, as `format_change` writes it), '< 1 %' for a
    change that rounds to no whole per cent (never '-0 %')."""
    whole = round(pct)
    if whole == 0:
        return "< 1 %"
    return f"{'+' if whole > 0 else '−'}{abs(whole)} %"


@dataclass(frozen=True)
class SessionFacts:
    """What a comparison checks besides the measures."""

    name: str
    condition: Condition
    duration_s: float
    sensors: tuple[str, ...]

    @classmethod
    def of(cls, recording: Recording) -> SessionFacts:
        sensors = tuple(f"{p.value}: {s.family.value} {s.model}" for p, s in recording.sensors.items())
        return cls(recording.path.name, recording.condition, recording.duration_s, sensors)


@dataclass(frozen=True)
class Comparison:
    drill: str
    rows: tuple[ChangeRow, ...]
    warnings: tuple[str, ...] = ()
    condition: Condition | None = None

    def row(self, name: str) -> ChangeRow:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"{self.drill}: no compared measure {name!r}")

    def judged_row(self, name: str) -> ChangeRow | None:
        """The row that carries `name`'s verdict: its own, or its mean of repetitions when the
        whole-recording value is judged through that mean or only the mean is compared (a bend's
        per-repetition measures); None when neither is compared."""
        rows = {r.name: r for r in self.rows}
        own, mean = rows.get(name), rows.get(MEAN_PREFIX + name)
        if mean is not None and (own is None or own.verdict is Verdict.NOT_JUDGED):
            return mean
        return own

    def names_measure(self, name: str) -> bool:
        """Whether `name` (a clinic MDC file's key: a measure or its mean's) is compared here."""
        return any(name in (r.name, r.name.removeprefix(MEAN_PREFIX)) for r in self.rows)

    @property
    def headline(self) -> str:
        """One line a clinician reads first (`recordings.compare_headline`)."""
        from recordings.compare_headline import headline  # it reads this module's types

        return headline(self)


def check_comparable(baseline: SessionFacts, retest: SessionFacts) -> list[str]:
    """Warnings for sessions that differ in ways that bias the change; ConditionMismatchError
    for sessions in different known conditions."""
    warnings = []
    a, b = baseline.condition, retest.condition
    if a != b:
        if "unknown" not in (a.task, b.task):
            raise ConditionMismatchError(
                f"{baseline.name} ({a.label}) and {retest.name} ({b.label}) were recorded in different "
                "conditions: they are not compared"
            )
        warnings.append(f"conditions may differ: baseline {a.label}, re-test {b.label}")
    longer = max(baseline.duration_s, retest.duration_s)
    if longer > 0 and abs(baseline.duration_s - retest.duration_s) > LENGTH_TOLERANCE * longer:
        warnings.append(
            f"recording lengths differ ({baseline.duration_s:.0f} s vs {retest.duration_s:.0f} s): "
            "path lengths, counts and fatigue measures grow with length"
        )
    if set(baseline.sensors) != set(retest.sensors):
        before, after = "; ".join(baseline.sensors), "; ".join(retest.sensors)
        warnings.append(f"sensor sets differ (baseline {before} — re-test {after})")
    return warnings


def compare_results(
    baseline: AnalysisResult,
    retest: AnalysisResult,
    clinic_mdc95: Mapping[str, float] | None = None,
    *,
    references: ReferenceSet | None = None,
    demographics: Demographics | None = None,
    facts: tuple[SessionFacts, SessionFacts] | None = None,
) -> Comparison:
    """Session-level measures present in both results, each with its MDC95 (published, else the
    clinic's, else within-session) and verdict. `facts` (baseline, re-test) adds the warnings and
    refuses different conditions."""
    if baseline.drill != retest.drill:
        raise ValueError(f"cannot compare a {baseline.drill} session with a {retest.drill} session")
    warnings = check_comparable(*facts) if facts else []
    refs = references if references is not None else bundled_references()
    clinic = dict(clinic_mdc95 or {})
    cat = catalogue()
    base_rows = {m.name: m for m in baseline.measures if m.repetition is None}
    means = {m.name for m in retest.measures if m.repetition is None and m.name in base_rows}
    rows = []
    for m in retest.measures:
        if m.repetition is not None or m.name not in base_rows:
            continue
        info = cat.info(retest.drill, m.name)
        mdc, basis, note = math.nan, MdcBasis.NONE, ""
        windowed = _judged_by_its_mean(m.name, info, means, retest)
        if info.judged:
            published = refs.mdc(retest.drill, m.name, demographics)
            if published is not None:
                mdc, basis = published.mdc95, MdcBasis.PUBLISHED
                note = f"{published.source.split(' (')[0]}, {published.population}"
            elif m.name in clinic or m.name.removeprefix(MEAN_PREFIX) in clinic:
                mdc = clinic.get(m.name, clinic.get(m.name.removeprefix(MEAN_PREFIX), math.nan))
                basis = MdcBasis.CLINIC
            elif windowed:
                note = windowed
            else:
                mdc, note = _from_repetitions(
                    baseline, retest, m.name.removeprefix(MEAN_PREFIX), info.repetitions
                )
                basis = MdcBasis.WITHIN_SESSION if math.isfinite(mdc) else MdcBasis.NONE
        censored = (_lower_bound(baseline, info), _lower_bound(retest, info))
        rows.append(ChangeRow(info, base_rows[m.name].value, m.value, mdc, basis, note, *censored))
    condition = facts[1].condition if facts else None
    return Comparison(retest.drill, tuple(rows), tuple(warnings), condition)


def _lower_bound(result: AnalysisResult, info: MeasureInfo) -> bool:
    """Whether the result's value of `info` is censored (its `lower_bound_unless` flag is 0)."""
    if not info.lower_bound_unless:
        return False
    flag = next((m.value for m in result.measures if m.name == info.lower_bound_unless), math.nan)
    return flag == 0.0


def _judged_by_its_mean(name: str, info: MeasureInfo, means: set[str], retest: AnalysisResult) -> str:
    """Why a whole-recording value is not judged against its repetitions' spread ("" when it
    is): that spread is the error of their mean, a different quantity when the mean is compared
    beside it, or when the value grows with the recording's length."""
    if info.mean_of_repetitions:
        return ""
    if MEAN_PREFIX + name in means:
        return f"see its mean of {info.repetitions}"
    if info.grows_with_length and any(m.name == name and m.repetition is not None for m in retest.measures):
        return f"grows with the recording's length; {info.repetitions} do not"
    return ""


def _from_repetitions(
    baseline: AnalysisResult, retest: AnalysisResult, name: str, repetitions: str
) -> tuple[float, str]:
    """The within-session MDC95 of `name`'s mean of repetitions and its note ("3 + 4 repetitions",
    or why there is none); `repetitions` is the catalogue's word for them ("10 s windows")."""
    a = [m.value for m in baseline.measures if m.name == name and m.repetition is not None]
    b = [m.value for m in retest.measures if m.name == name and m.repetition is not None]
    try:
        return mdc95_between_session_means(a, b), f"{len(a)} + {len(b)} {repetitions}"
    except ProcessingError:
        if not a and not b:
            return math.nan, ""
        return math.nan, (
            f"too few {repetitions} to judge: {len(a)} + {len(b)}, needs ≥ {MIN_REPETITIONS_FOR_MDC} in each"
        )


def library_for(recording: Recording, data_dir: Path | None) -> SessionLibrary:
    """A file in a library compares within its own library; any other within `data_dir`'s."""
    in_library = recording.path.parent.name == f"sub-{recording.subject_id}"
    return SessionLibrary(recording.path.parent.parent if in_library else data_dir)


def find_baseline(library: SessionLibrary, recording: Recording) -> tuple[SessionEntry | None, str]:
    """The subject's first sound session of the recording's drill in its condition, recorded
    before it (None when this recording is the first), and a note saying which or why not, naming
    first the earlier recordings of it that could not be read (`visit_pool.baseline_visit`)."""
    entry = library.baseline(recording.subject_id, recording.drill, recording.condition)
    # The drill's display name (its title carries the side, eyes and surface) and the task.
    what = f"{catalogue().drill_title(recording.drill)} ({recording.condition.task_label})"
    lost = "".join(f"{text}; " for text in baseline_visit(library, recording).unreadable)
    if entry is None or entry.path.resolve() == recording.path.resolve():
        return None, f"{lost}first {what} session of subject {recording.subject_id}: it is the baseline"
    return entry, f"{lost}used instead: {entry.path.name}" if lost else f"baseline: {entry.path.name}"
