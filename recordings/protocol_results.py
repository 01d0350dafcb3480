"""Results of a visit's protocols: each drill and condition's mean and spread over its repetitions
(each a recording) with every repetition listed, left/right pairs with their symmetry, and the
McGill battery's ratios with their imbalance flags (ratio rules from the reference file)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

from recordings.catalogue import NOT_MEASURED, MeasureInfo, catalogue, format_number, format_signed
from recordings.conditions import Condition
from recordings.dual_task_visit import format_dual_task
from recordings.errors import RecordingError
from recordings.library import SessionLibrary
from recordings.measure_table import is_lower_bound
from recordings.reader import Recording
from recordings.references import RatioRule, ReferenceSet
from recordings.report_cache import FileAnalyses
from recordings.visit_runs import run_keys, split_visits
from sensors.processing.analysis import AnalysisResult
from sensors.processing.comparison import symmetry_index_pct
from sensors.processing.errors import ProcessingError

#: The McGill ratio that this battery cannot give, and why.
FLEXION_EXTENSION_MISSING = (
    "flexion : extension — Not measured — the battery has no trunk flexor endurance test "
    "(the prone plank is a different test)"
)


@dataclass(frozen=True)
class SessionResult:
    """One analysed recording of a visit."""

    path: Path
    drill: str
    condition: Condition
    when: datetime
    result: AnalysisResult
    #: The protocol run it was recorded in (`recordings.visit_runs`); recordings of one drill and
    #: condition are repetitions only within a run ("" : the caller's recordings are one run).
    run: str = ""
    #: Why the recording gives no measures ("not measured: the lumbar sensor sent no data");
    #: "" when it was analysed.
    not_measured: str = ""


@dataclass(frozen=True)
class RepeatedMeasure:
    """One measure over a protocol's repetitions (recordings), in recording order; NaN where a
    repetition could not measure it."""

    info: MeasureInfo
    values: tuple[float, ...]
    #: Per repetition: its value is censored (a lower bound, `info.lower_bound_why`); () = none.
    censored: tuple[bool, ...] = ()

    @property
    def lower_bound(self) -> bool:
        """The mean is a lower bound: a repetition's value is (the true mean is at least it)."""
        return any(c for c, v in zip(self.censored, self.values, strict=False) if math.isfinite(v))

    def format_each(self, k: int) -> str:
        """Repetition `k`'s value as shown: '≥ 80 s' when it is a lower bound."""
        text = self.info.format(self.values[k])
        censored = k < len(self.censored) and self.censored[k] and math.isfinite(self.values[k])
        return f"≥ {text}" if censored else text

    @property
    def finite(self) -> np.ndarray:
        v = np.asarray(self.values, dtype=float)
        return v[np.isfinite(v)]

    @property
    def mean(self) -> float:
        return float(np.mean(self.finite)) if len(self.finite) else math.nan

    @property
    def sd(self) -> float:
        return float(np.std(self.finite, ddof=1)) if len(self.finite) >= 2 else math.nan

    @property
    def text(self) -> str:
        """'47.3 ± 0.4 % (mean ± SD of 3)', one repetition's value, or 'Not measured — why'."""
        if self.info.kind == "flag":
            if len(self.finite) == 1:  # one repetition: its own "yes" or "no"
                return self.info.format(float(self.finite[0]))
            return f"yes in {int(np.sum(self.finite >= 0.5))} of {len(self.finite)}"
        if len(self.values) == 1 or not math.isfinite(self.sd):
            if self.lower_bound:
                return self.info.format_lower_bound(self.mean)
            return self.info.format(self.mean)
        sd = format_number(self.info.display_value(self.sd), self.info.decimals)
        mean = self.info.format(self.mean, with_unit=False)
        if self.lower_bound:
            held = sum(1 for k in range(len(self.values)) if self.format_each(k).startswith("≥"))
            return (
                f"≥ {mean} {self.info.unit} (mean of {len(self.finite)}; {held} a lower bound: "
                f"{self.info.lower_bound_why})"
            )
        return f"{mean} ± {sd} {self.info.unit}".rstrip() + f" (mean ± SD of {len(self.finite)})"


@dataclass(frozen=True)
class ProtocolSummary:
    drill: str
    condition: Condition
    sessions: tuple[SessionResult, ...]
    measures: tuple[RepeatedMeasure, ...]
    run: str = ""

    def measure(self, key: str) -> RepeatedMeasure:
        return next(m for m in self.measures if m.info.key == key)


@dataclass(frozen=True)
class SidePair:
    """A measure on the left and right versions of a drill (means over repetitions); a side's
    `*_lower_bound`: its mean is censored (at least it), so the comparisons are bounds."""

    info: MeasureInfo
    left: float
    right: float
    left_lower_bound: bool = False
    right_lower_bound: bool = False

    @property
    def bound(self) -> str | None:
        """How the right : left ratio and the symmetry index (both rise with the right side and
        fall with the left) read: "" exact, "≥" (right censored), "≤" (left), None (both: not given)."""
        if self.left_lower_bound and self.right_lower_bound:
            return None
        return "≥" if self.right_lower_bound else "≤" if self.left_lower_bound else ""

    def side_text(self, side: str) -> str:
        """The side's mean as shown: '≥ 85 s' when censored."""
        value, censored = (
            (self.left, self.left_lower_bound) if side == "left" else (self.right, self.right_lower_bound)
        )
        text = self.info.format(value)
        return f"≥ {text}" if censored and math.isfinite(value) else text

    @property
    def ratio_text(self) -> str:
        """'1.02', '≥ 1.02', or why it is not given."""
        if self.bound is None:
            return RATIO_NOT_GIVEN
        return f"{self.bound} {self.ratio:.2f}".strip() if math.isfinite(self.ratio) else NOT_MEASURED

    @property
    def symmetry_text(self) -> str:
        """'+12 %', '≥ +12 %', or why it is not given."""
        si = self.symmetry_index_pct
        if self.bound is None:
            return RATIO_NOT_GIVEN
        if not math.isfinite(si):
            return f"{NOT_MEASURED} — a side is missing"
        return f"{self.bound} {format_signed(si, 0)} %".strip()

    @property
    def ratio(self) -> float:
        """Right : left."""
        return self.right / self.left if self.left else math.nan

    @property
    def symmetry_index_pct(self) -> float:
        try:
            return symmetry_index_pct(self.left, self.right)
        except ProcessingError:
            return math.nan


@dataclass(frozen=True)
class BatteryRatio:
    """A McGill ratio of mean hold times. `bound`: "" exact, "≥" (a numerator hold was censored,
    so the true ratio is at least `value`) or "≤" (a denominator hold was); `value` NaN when both
    were (nothing can be said). `flagged` None: the bound cannot tell whether the rule flags."""

    name: str
    value: float
    flagged: bool | None
    rule: RatioRule
    bound: str = ""

    @property
    def value_text(self) -> str:
        """'0.82', '≥ 0.82', '≤ 0.61', or why it is not given."""
        if not math.isfinite(self.value):
            return RATIO_NOT_GIVEN
        return f"{self.bound} {self.value:.2f}".strip()

    @property
    def judged(self) -> str:
        """'imbalance', 'within target' or why it is not judged."""
        if self.flagged is None:
            return "not judged (a bound)" if math.isfinite(self.value) else "not judged"
        return "imbalance" if self.flagged else "within target"

    @property
    def text(self) -> str:
        if self.flagged is None:
            why = CENSORED_WHY if math.isfinite(self.value) else "both holds were censored"
            verdict = f"not judged: {why}"
        else:
            verdict = f"imbalance: {self.rule.flag_meaning}" if self.flagged else "within the target"
        return f"{self.name} = {self.value_text} — {verdict} ({self.rule.source})"


#: A ratio of two holds that both ended before the posture was lost: each is only a lower bound.
RATIO_NOT_GIVEN = "Not given — both holds ended before the posture was lost"
#: Why a ratio that is only a bound is not judged.
CENSORED_WHY = "a hold ended before the posture was lost, so the ratio is only a bound"


def summarise(sessions: Sequence[SessionResult]) -> list[ProtocolSummary]:
    """One summary per protocol run, drill and condition, repetitions in recording order; each
    key and judged session-level measure over them."""
    groups: dict[tuple[str, Condition, str], list[SessionResult]] = {}
    for s in sorted(sessions, key=lambda s: s.when):
        groups.setdefault((s.drill, s.condition, s.run), []).append(s)
    cat = catalogue()
    out = []
    for (drill, condition, run), group in groups.items():
        keys = list(dict.fromkeys(m.name for s in group for m in s.result.measures if m.repetition is None))
        measures = []
        for key in keys:
            info = cat.info(drill, key)
            values = tuple(_value(s.result, key) for s in group)
            censored = tuple(is_lower_bound(s.result, info) for s in group)
            measures.append(RepeatedMeasure(info, values, censored if any(censored) else ()))
        measures.sort(key=lambda m: not m.info.key_measure)
        out.append(ProtocolSummary(drill, condition, tuple(group), tuple(measures), run))
    return out


def _value(result: AnalysisResult, key: str) -> float:
    try:
        return result.value(key)
    except KeyError:
        return math.nan


def side_pairs(summaries: Sequence[ProtocolSummary]) -> list[tuple[str, list[SidePair]]]:
    """Left/right versions of a drill in the same task condition: their key measures side by side."""
    by_drill = {(s.drill, s.condition.task, s.condition.cognitive_task): s for s in summaries}
    out = []
    for (drill, task, cognitive), left in by_drill.items():
        if not drill.endswith("-left"):
            continue
        right = by_drill.get((drill.removesuffix("-left") + "-right", task, cognitive))
        if right is None:
            continue
        pairs = []
        for m in left.measures:
            if not (m.info.key_measure and m.info.judged) or m.info.kind == "flag":
                continue
            other = next((r for r in right.measures if r.info.key == m.info.key), None)
            if other is not None:
                pairs.append(SidePair(m.info, m.mean, other.mean, m.lower_bound, other.lower_bound))
        out.append((drill.removesuffix("-left"), pairs))
    return out


def battery_ratios(summaries: Sequence[ProtocolSummary], references: ReferenceSet) -> list[BatteryRatio]:
    """The reference file's ratio rules over mean hold times, per numerator drill. A censored
    hold (the task ended before the posture was lost) is a lower bound: a ratio with it above
    the line is at least its value, below the line at most, with both not given."""
    held: dict[str, tuple[float, bool]] = {}
    for s in summaries:
        if s.condition.task != "dual" and any(m.info.key == "held" for m in s.measures):
            m = s.measure("held")
            held[s.drill] = (m.mean, m.lower_bound)
    out = []
    for rule in references.ratios:
        below = [d for d in rule.denominator if d in held and math.isfinite(held[d][0])]
        if not below:
            continue
        denominator = float(np.mean([held[d][0] for d in below]))
        denominator_bound = any(held[d][1] for d in below)
        numerators = [d for d in rule.numerator if d in held and math.isfinite(held[d][0])]
        for drill in numerators:
            name = rule.name if len(rule.numerator) == 1 else f"{rule.name} ({drill.rsplit('-', 1)[-1]})"
            value, numerator_bound = held[drill][0] / denominator, held[drill][1]
            out.append(_ratio(name, value, rule, numerator_bound, denominator_bound))
    return out


def _ratio(name: str, value: float, rule: RatioRule, at_least: bool, at_most: bool) -> BatteryRatio:
    """The ratio `value` (numerator censored: at least it; denominator censored: at most it)."""
    if at_least and at_most:
        return BatteryRatio(name, math.nan, None, rule)
    if at_least:
        return BatteryRatio(name, value, _flags_between(rule, value, math.inf), rule, "≥")
    if at_most:
        return BatteryRatio(name, value, _flags_between(rule, 0.0, value), rule, "≤")
    return BatteryRatio(name, value, rule.flags(value), rule)


def _flags_between(rule: RatioRule, low: float, high: float) -> bool | None:
    """Whether `rule` flags every ratio in [low, high] (True), none of them (False), or some (None)."""
    checks = []  # (flags every ratio in the interval, flags none) per criterion of the rule
    if math.isfinite(rule.flag_at_or_above):
        checks.append((low >= rule.flag_at_or_above, high < rule.flag_at_or_above))
    if rule.flag_outside is not None:
        lo, hi = rule.flag_outside
        checks.append((high < lo or low > hi, lo <= low and high <= hi))
    if any(every for every, _ in checks):
        return True
    return False if all(none for _, none in checks) else None


def visit_sessions(
    library: SessionLibrary,
    subject_id: str,
    day: date,
    analyze: Callable[[Path], AnalysisResult],
    failed: list[str] | None = None,
) -> list[SessionResult]:
    """The subject's sound recordings of that (local) day, analysed, each with its protocol run;
    one whose analysis fails (ProcessingError; its `reason`, where it has one, or its message)
    is a repetition without measures that says why; one that cannot be read is left out, and said
    in `failed` when given."""
    out = []
    entries = [e for e in library.sessions(subject_id) if not e.problem]
    runs = run_keys(entries)
    for e in entries:
        if e.created_utc is None or e.condition is None:
            continue
        when = e.created_utc.astimezone()
        if when.date() != day:
            continue
        try:
            out.append(SessionResult(e.path, e.drill, e.condition, when, analyze(e.path), runs[e.path]))
        except ProcessingError as error:  # e.g. a sensor that sent nothing: listed, with why
            why = str(getattr(error, "reason", "") or error)
            out.append(
                SessionResult(
                    e.path, e.drill, e.condition, when, AnalysisResult(e.drill, ()), runs[e.path], why
                )
            )
        except RecordingError as error:  # a damaged file: not part of the visit's results
            if failed is not None:
                failed.append(f"{e.path.name} could not be analysed ({error})")
    return out


def visit_of(
    library: SessionLibrary,
    recording: Recording,
    measures: AnalysisResult,
    analyze: Callable[[Path], AnalysisResult] | None = None,
    *,
    analyses: FileAnalyses | None = None,
) -> list[ProtocolSummary]:
    """The protocol results of the visit the recording belongs to (its day's runs, split where
    a drill is run again: `recordings.visit_runs`); the recording itself with `measures`, the
    others analysed by `analyze` (default: the measures of `analyses`, the command's per-file
    results, or a new one)."""
    day = datetime.fromisoformat(str(recording.attributes["created_utc"])).astimezone().date()
    current = recording.path.resolve()
    others = analyze or (analyses if analyses is not None else FileAnalyses()).result
    summaries = summarise(
        visit_sessions(
            library,
            recording.subject_id,
            day,
            lambda path: measures if path.resolve() == current else others(path),
        )
    )
    for visit in split_visits(summaries):
        if any(s.path.resolve() == current for summary in visit for s in summary.sessions):
            return visit
    return []  # the recording is not in the library (a file elsewhere): it has no visit there


#: What a visit says of the seated cognitive-only baseline instead of standing measures.
SEATED_NOTE = (
    "done seated (the cognitive task alone, the dual-task baseline): no standing measures; "
    "its cognitive score is the baseline of the dual-task cost"
)


def format_visit(summaries: Sequence[ProtocolSummary], references: ReferenceSet) -> str:
    """The visit's protocol results as text."""
    lines = []
    for s in summaries:
        began = s.sessions[0].when
        lines.append(f"{s.drill} — {s.condition.label}: {len(s.sessions)} repetition(s) from {began:%H:%M}")
        for k, session in enumerate(s.sessions, start=1):
            if session.not_measured:
                why = session.not_measured.removeprefix("not measured: ")
                lines.append(f"  repetition {k} ({session.when:%H:%M}): {NOT_MEASURED} — {why}")
        if s.condition.seated:  # walkthrough s11 #12: its sway rows were listed
            lines.append(f"  {SEATED_NOTE}")
            continue
        for m in s.measures:
            if not m.info.judged and not m.info.key_measure:
                continue
            lines.append(f"  {m.info.name:<52} {m.text}")
            if len(m.values) > 1:
                each = ", ".join(
                    m.format_each(k) if math.isfinite(v) else "—" for k, v in enumerate(m.values)
                )
                lines.append(f"  {'':<52}   each: {each}")
    for base, pairs in side_pairs(summaries):
        lines.append(f"{base}: left / right")
        for p in pairs:
            lines.append(
                f"  {p.info.name:<40} left {p.side_text('left')}, right {p.side_text('right')}, "
                f"right : left {p.ratio_text}, symmetry index {p.symmetry_text}"
            )
    ratios = battery_ratios(summaries, references)
    if ratios:
        lines.append("McGill endurance battery")
        lines += [f"  {r.text}" for r in ratios]
        lines.append(f"  {FLEXION_EXTENSION_MISSING}")
    return "\n".join(lines + format_dual_task(summaries))
