"""Reference values (references.toml, plus a clinic's own file in the same format): where a
patient's result falls against a named population, and the published minimal detectable changes
a re-test is judged with."""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from recordings.catalogue import MEAN_PREFIX, catalogue
from recordings.conditions import Condition
from recordings.subjects import Demographics
from sensors.drills import drill_family
from sensors.errors import StabmonError, UnknownDrillError

KINDS = ("normal", "mean", "range", "cutoff", "mdc")
#: A reference's structured age (years): a range, or a mean with an optional SD.
AGE_FIELDS = ("age_low", "age_high", "age_mean", "age_sd")
#: MDC95 = 1.96·√2·SEM (METRICS.md §7).
MDC95_PER_SEM = 1.96 * math.sqrt(2.0)


class ReferenceFileError(StabmonError, ValueError):
    """A reference file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Reference:
    """One reference value. Numbers in the measure's catalogue unit."""

    drill: str
    measure: str
    kind: str
    population: str
    source: str
    file_title: str = ""
    n: int | None = None
    sex: str = ""
    age_band: str = ""
    mean: float = math.nan
    sd: float = math.nan
    low: float = math.nan
    high: float = math.nan
    below: float = math.nan
    below_meaning: str = ""
    above: float = math.nan
    above_meaning: str = ""
    above_is_flag: bool = True
    mdc95: float = math.nan
    #: The population's age, years: a range (age_low–age_high), or a mean (± age_sd); NaN: not given.
    age_low: float = math.nan
    age_high: float = math.nan
    age_mean: float = math.nan
    age_sd: float = math.nan

    def age_note(self, age_band: str) -> str:
        """'' when the population's age fits the patient's age band (or either is not known), else
        'reference population younger than the patient (about 20 y; patient 40–49 y)'."""
        if math.isfinite(self.age_low):
            low, high, ages = self.age_low, self.age_high, f"{self.age_low:g}–{self.age_high:g} y"
        else:
            sd = self.age_sd if math.isfinite(self.age_sd) else 0.0
            low, high = self.age_mean - sd, self.age_mean + sd
            ages = f"about {self.age_mean:g}" + (f" ± {sd:g} y" if sd else " y")
        first, _, last = age_band.rstrip("+").partition("-")
        if not (age_band and math.isfinite(low)) or (
            low <= (float(last) if last else math.inf) and high >= float(first)
        ):
            return ""
        which = "younger" if high < float(first) else "older"
        return (
            f"reference population {which} than the patient ({ages}; patient {age_band.replace('-', '–')} y)"
        )

    def applies(self, drill: str, key: str, demographics: Demographics | None) -> bool:
        """For this drill (or its family) and measure (or its session mean), and for patients
        with these demographics (unknown demographics match every population)."""
        family = _family_or_self(drill)
        if self.drill not in (drill, family) or self.measure != key.removeprefix(MEAN_PREFIX):
            return False
        d = demographics or Demographics()
        if self.sex and d.sex and self.sex != d.sex:
            return False
        return not self.age_band or self.age_band == d.age_band


@dataclass(frozen=True)
class Standing:
    """Where a value falls against one reference: `text` says it with the population; `outside`
    is True/False for a range, cut-off or normal band, None when not judged (a mean only)."""

    reference: Reference
    text: str
    outside: bool | None
    z: float = math.nan
    percentile: float = math.nan
    short: str = ""  # without the value, for a table beside it

    @property
    def against(self) -> str:
        return f"{self.reference.population} ({self.reference.source})"


@dataclass(frozen=True)
class RatioRule:
    """A ratio between drills' times (McGill battery) and when it flags an imbalance."""

    name: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    flag_meaning: str
    population: str
    source: str
    flag_at_or_above: float = math.nan
    flag_outside: tuple[float, float] | None = None

    def flags(self, ratio: float) -> bool:
        if math.isfinite(self.flag_at_or_above) and ratio >= self.flag_at_or_above:
            return True
        return self.flag_outside is not None and not (self.flag_outside[0] <= ratio <= self.flag_outside[1])


@dataclass(frozen=True)
class ReferenceSet:
    """Reference values from one or more files, a clinic's first."""

    references: tuple[Reference, ...]
    ratios: tuple[RatioRule, ...] = ()
    versions: tuple[str, ...] = field(default=())

    def for_measure(
        self,
        drill: str,
        key: str,
        demographics: Demographics | None = None,
        condition: Condition | None = None,
    ) -> list[Reference]:
        """Population references (not MDCs) for a measure. Dual-task results have none: the
        published values are single-task."""
        if condition is not None and condition.task == "dual":
            return []
        found = [r for r in self.references if r.kind != "mdc" and r.applies(drill, key, demographics)]
        band = (demographics or Demographics()).age_band
        if band and any(r.age_band == band for r in found):  # the patient's own age group's first
            found = [r for r in found if r.age_band == band]
        return found

    def missing_text(self, drill: str, key: str) -> str:
        """What to say of a measure with no population reference here: "no published reference",
        naming the drills of the same family that have one (the self-paced sit-to-stand times five
        rises too, but the norms are for the timed test)."""
        family = _family_or_self(drill)
        measure = key.removeprefix(MEAN_PREFIX)
        others = {
            r.drill
            for r in self.references
            if r.kind != "mdc"
            and r.measure == measure
            and r.drill not in (drill, family)
            and _family_or_self(r.drill) == family
        }
        if not others:
            return "no published reference"
        names = ", ".join(sorted(catalogue().drill_title(d) for d in others))
        return f"no published reference for this drill (published for: {names})"

    def mdc(self, drill: str, key: str, demographics: Demographics | None = None) -> Reference | None:
        """The first published MDC95 for the measure (a clinic's file first)."""
        return next(
            (r for r in self.references if r.kind == "mdc" and r.applies(drill, key, demographics)), None
        )

    def standings(
        self,
        drill: str,
        key: str,
        value: float,
        demographics: Demographics | None = None,
        condition: Condition | None = None,
        lower_bound: bool = False,
    ) -> list[Standing]:
        """Where `value` falls against each population reference; `lower_bound`: the value is
        censored (the true one is at least this), so only what a lower bound can show is said."""
        d = demographics or Demographics()
        return [
            _with_age_note(judge(r, value, drill, lower_bound, sex_known=bool(d.sex)), d.age_band)
            for r in self.for_measure(drill, key, demographics, condition)
        ]

    def merged(self, other: ReferenceSet) -> ReferenceSet:
        """This set's values first, then `other`'s."""
        return ReferenceSet(
            self.references + other.references, self.ratios + other.ratios, self.versions + other.versions
        )


def _with_age_note(standing: Standing, age_band: str) -> Standing:
    """The standing with, beside its judgement, whether the population is younger or older."""
    note = standing.reference.age_note(age_band)
    if not note:
        return standing
    return replace(standing, text=f"{standing.text}; {note}", short=f"{standing.short}; {note}")


def _family_or_self(drill: str) -> str:
    try:
        return str(drill_family(drill))
    except UnknownDrillError:
        return drill


_SEX_WORDS = {"male": "men", "female": "women"}


def judge(
    reference: Reference, value: float, drill: str, lower_bound: bool = False, sex_known: bool = True
) -> Standing:
    """Where `value` (catalogue unit) falls against `reference`. `lower_bound`: a censored value
    (at least this); `sex_known` False: a cut-off for one sex is not applied (it is named)."""
    standing = _judge(reference, value, drill, lower_bound, sex_known)
    short = standing.text.split(": ", 1)[-1]
    if math.isfinite(standing.z):
        where = "outside the central 95 % of" if standing.outside else "vs"
        short = (
            f"z {_signed(standing.z)} ({_ordinal(standing.percentile)} percentile) {where} "
            f"{reference.population}"
        )
    return replace(standing, short=short)


def _judge(reference: Reference, value: float, drill: str, lower_bound: bool, sex_known: bool) -> Standing:
    info = catalogue().info(drill, reference.measure)
    shown = info.format_lower_bound(value) if lower_bound else info.format(value)

    def num(x: float) -> str:
        return info.format(x)

    r = reference
    if not math.isfinite(value):
        return Standing(r, f"{shown}: no comparison", None)
    if r.kind == "cutoff" and r.sex and not sex_known:
        limits = " / ".join(num(x) for x in (r.below, r.above) if math.isfinite(x))
        who = _SEX_WORDS.get(r.sex, r.sex)
        return Standing(
            r,
            f"{shown}: no cut-off applied: the {limits} cut-off is for {who} and the sex is not given",
            None,
        )
    if lower_bound and r.kind != "cutoff":
        return Standing(r, f"{shown}: a lower bound, not compared with {r.population}", None)
    if r.kind == "normal":
        z = (value - r.mean) / r.sd
        pct = 50.0 * (1.0 + math.erf(z / math.sqrt(2.0)))  # normal CDF, %
        outside = abs(z) > 1.96
        where = "outside" if outside else "inside"
        text = (
            f"{shown}: z = {_signed(z)} (about the {_ordinal(pct)} percentile), {where} the central 95 % "
            f"of {r.population} ({info.format(r.mean, with_unit=False)} ± {num(r.sd)})"
        )
        return Standing(r, text, outside, z, pct)
    if r.kind == "mean":
        return Standing(r, f"{shown}: mean of {r.population}: {num(r.mean)}", None)
    if r.kind == "range":
        low_ok = not math.isfinite(r.low) or value >= r.low
        high_ok = not math.isfinite(r.high) or value <= r.high
        bounds = " – ".join(num(x) if math.isfinite(x) else "" for x in (r.low, r.high)).strip(" –")
        limit = f"upper limit {num(r.high)}" if not math.isfinite(r.low) else f"range {bounds}"
        where = "inside" if low_ok and high_ok else "outside"
        return Standing(r, f"{shown}: {where} the normal {limit} of {r.population}", not (low_ok and high_ok))
    # cut-off (a censored value is at least `value`: only "not below" and "above" can be said)
    if math.isfinite(r.below) and value < r.below:
        if lower_bound:
            return Standing(
                r, f"{shown}: not judged against the {num(r.below)} cut-off ({r.population})", None
            )
        return Standing(r, f"{shown}: {r.below_meaning} ({r.population})", True)
    if math.isfinite(r.above) and value > r.above:
        return Standing(r, f"{shown}: {r.above_meaning} ({r.population})", r.above_is_flag)
    parts = [f"not below {num(r.below)}" if math.isfinite(r.below) else ""]
    if not lower_bound:
        parts.append(f"not above {num(r.above)}" if math.isfinite(r.above) else "")
    return Standing(r, f"{shown}: {' and '.join(p for p in parts if p)} ({r.population})", False)


def _signed(z: float) -> str:
    """'+1.2', '−0.4', and '0.0' for a z that rounds to zero (never '-0.0')."""
    text = f"{z:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text.replace("-", "−")


def _ordinal(pct: float) -> str:
    k = int(min(max(round(pct), 1), 99))
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _float(entry: dict[str, Any], name: str, where: str) -> float:
    value = entry.get(name, math.nan)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ReferenceFileError(f"{where}: {name} must be a number, got {value!r}")
    return float(value)


def _reference(entry: dict[str, Any], where: str, title: str) -> Reference:
    for name in ("drill", "measure", "kind", "population", "source"):
        if not isinstance(entry.get(name), str) or not entry[name]:
            raise ReferenceFileError(f"{where}: needs {name}")
    if entry["kind"] not in KINDS:
        raise ReferenceFileError(f"{where}: kind must be one of {', '.join(KINDS)}, got {entry['kind']!r}")
    numbers = {
        k: _float(entry, k, where)
        for k in ("mean", "sd", "low", "high", "below", "above", "mdc95", "sem", *AGE_FIELDS)
    }
    if numbers["age_low"] > numbers["age_high"] or math.isfinite(numbers["age_low"]) != math.isfinite(
        numbers["age_high"]
    ):
        raise ReferenceFileError(f"{where}: age_low and age_high go together, age_low ≤ age_high")
    sem = numbers.pop("sem")
    if math.isfinite(sem) and not math.isfinite(numbers["mdc95"]):
        numbers["mdc95"] = MDC95_PER_SEM * sem
    kind = entry["kind"]
    needed = {"normal": ("mean", "sd"), "mean": ("mean",), "mdc": ("mdc95",)}.get(kind, ())
    for name in needed:
        if not math.isfinite(numbers[name]):
            raise ReferenceFileError(f"{where}: a {kind} reference needs {name}")
    if kind == "normal" and numbers["sd"] <= 0:
        raise ReferenceFileError(f"{where}: sd must be positive")
    try:
        catalogue().info(entry["drill"], entry["measure"])
    except ValueError as error:
        raise ReferenceFileError(f"{where}: {error}") from None
    return Reference(
        drill=entry["drill"],
        measure=entry["measure"],
        kind=kind,
        population=entry["population"],
        source=entry["source"],
        file_title=title,
        n=entry.get("n"),
        sex=str(entry.get("sex", "")),
        age_band=str(entry.get("age_band", "")),
        below_meaning=str(entry.get("below_meaning", "")),
        above_meaning=str(entry.get("above_meaning", "")),
        above_is_flag=bool(entry.get("above_is_flag", True)),
        **numbers,
    )


def _ratio(entry: dict[str, Any], where: str) -> RatioRule:
    outside = entry.get("flag_outside")
    if outside is not None and (not isinstance(outside, list) or len(outside) != 2):
        raise ReferenceFileError(f"{where}: flag_outside must be [low, high]")
    return RatioRule(
        name=str(entry["name"]),
        numerator=tuple(entry["numerator"]),
        denominator=tuple(entry["denominator"]),
        flag_meaning=str(entry.get("flag_meaning", "")),
        population=str(entry.get("population", "")),
        source=str(entry.get("source", "")),
        flag_at_or_above=_float(entry, "flag_at_or_above", where),
        flag_outside=(float(outside[0]), float(outside[1])) if outside else None,
    )


def load_references(path: Path | str) -> ReferenceSet:
    """Read and check one reference file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ReferenceFileError(f"{path}: cannot read reference values ({error})") from None
    if "version" not in data:
        raise ReferenceFileError(f"{path}: needs a version")
    title = str(data.get("title", path.name))
    try:
        refs = tuple(
            _reference(e, f"{path} reference {k + 1}", title) for k, e in enumerate(data.get("reference", []))
        )
        ratios = tuple(_ratio(e, f"{path} ratio {k + 1}") for k, e in enumerate(data.get("ratio", [])))
    except KeyError as error:
        raise ReferenceFileError(f"{path}: missing {error}") from None
    return ReferenceSet(refs, ratios, (f"{title} {data['version']}",))


@functools.cache
def bundled_references() -> ReferenceSet:
    return load_references(Path(str(resources.files("recordings") / "references.toml")))


def reference_set(clinic_files: Sequence[Path] = ()) -> ReferenceSet:
    """A clinic's reference files (first) with the bundled values."""
    result = ReferenceSet(())
    for path in clinic_files:
        result = result.merged(load_references(path))
    return result.merged(bundled_references())
