"""The measures catalogue (measures.toml): what each measure `analyze` emits is called, means, is
written in and which way is better. Every screen, report, export and `stabmon analyze` read it, so
no raw key, bare unit or NaN reaches a clinician.

A session-level `mean_<key>` is described by `<key>`'s entry ("…, mean of bends"); a flag's mean
is the share of repetitions in %.
"""

from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass, field, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from sensors.drills import DrillFamily, drill_family
from sensors.errors import StabmonError, UnknownDrillError
from sensors.processing.analysis import Measure

#: Prefix analysis puts on the session-level mean of a per-repetition measure.
MEAN_PREFIX = "mean_"
NOT_MEASURED = "Not measured"


class CatalogueError(StabmonError, ValueError):
    """A catalogue file that cannot be used, or a measure it does not describe."""


class Better(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"
    TOWARD_ZERO = "toward-zero"
    NONE = "none"


class Kind(StrEnum):
    VALUE = "value"
    COUNT = "count"  # bookkeeping: shown, never judged
    FLAG = "flag"  # 0/1, shown as yes/no


@dataclass(frozen=True)
class MeasureInfo:
    """How a clinician reads one measure. `scale` multiplies the analysis value for display
    (100 for a flag's share of repetitions)."""

    key: str
    group: str
    families: tuple[DrillFamily, ...]
    name: str
    meaning: str
    unit: str
    decimals: int
    better: Better
    kind: Kind
    key_measure: bool
    missing: str
    source: str
    repetition: str
    repetitions: str
    mean_of_repetitions: bool = False
    scale: float = 1.0
    #: A flag measure's key: when that flag is 0 ("no") this value is only a lower bound
    #: (censored: a hold the task ended before the posture was lost); `lower_bound_why` says so.
    lower_bound_unless: str = ""
    lower_bound_why: str = ""
    #: The whole-recording value grows with the recording's length (a path, a time integral):
    #: only values over equal lengths (the 10 s windows) can be compared.
    grows_with_length: bool = False

    @property
    def judged(self) -> bool:
        """Counts are bookkeeping; everything else can be compared."""
        return self.kind is not Kind.COUNT

    def display_value(self, value: float) -> float:
        return value * self.scale

    def format(self, value: float, with_unit: bool = True, missing: str = "") -> str:
        """The value as shown: rounded to the catalogue's decimals with its unit, yes/no for a
        flag, or "Not measured — why" (`missing`, the analysis' own reason, else the catalogue's)."""
        if not math.isfinite(value):
            return f"{NOT_MEASURED} — {missing or self.missing}"
        if self.kind is Kind.FLAG and not self.mean_of_repetitions:
            return "yes" if value >= 0.5 else "no"
        text = format_number(self.display_value(value), self.decimals)
        return f"{text} {self.unit}".rstrip() if with_unit else text

    def format_lower_bound(self, value: float) -> str:
        """A censored value: '≥ 127 s (the task ended before the posture was lost)'."""
        if not math.isfinite(value):
            return self.format(value)
        return f"≥ {self.format(value)} ({self.lower_bound_why})"

    def format_change(self, baseline: float, retest: float) -> str:
        """The signed change from `baseline` to `retest` as a clinician checks it against the two
        values shown: their shown values' difference at the catalogue's resolution ('+2.7 °';
        1.77 → 1.76 s is '−0.01 s', whatever digits lie beyond), one decimal more when both show
        the same but differ beyond it ('−0.004 s'), '0' when they do not (never '+1.11e-16')."""
        change = retest - baseline
        if not math.isfinite(change):
            return "—"
        shown = [round(self.display_value(v), self.decimals) for v in (baseline, retest)]
        if shown[0] != shown[1]:
            text = format_signed(shown[1] - shown[0], self.decimals)
        else:
            text = format_signed(self.display_value(change), self.decimals + 1)
        return f"{text.replace('-', '−')} {self.unit}".rstrip()

    @property
    def label(self) -> str:
        """Name with unit, for a table header or an axis ('Trunk flexion range (°)')."""
        return f"{self.name} ({self.unit})" if self.unit else self.name


def format_number(value: float, decimals: int) -> str:
    """`value` with `decimals` decimals; -0 shows as 0."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and text.strip("-0.") == "" else text


def format_signed(value: float, decimals: int) -> str:
    """`value` with `decimals` decimals and its sign ('+12', '-3'); a value that rounds to zero
    is '0' (never '-0' or '+0')."""
    text = format_number(value, decimals)
    if text.strip("0.") == "":
        return "0"
    return text if text.startswith("-") else "+" + text


@dataclass(frozen=True)
class Catalogue:
    """Measures by (analysis family, key). `version` is the catalogue file's version."""

    version: str
    entries: dict[tuple[DrillFamily, str], MeasureInfo]
    path: str
    drills: dict[str, str] = field(default_factory=dict)

    def drill_title(self, drill: str) -> str:
        """The drill as clinicians name it ('Biering-Sørensen trunk extensor hold')."""
        return self.drills.get(drill, drill)

    def family_of(self, drill: str) -> DrillFamily:
        """The analysis family of a drill or family name."""
        try:
            return drill_family(drill)
        except UnknownDrillError as error:
            raise CatalogueError(str(error)) from None

    def info(self, drill: str, key: str) -> MeasureInfo:
        """The description of measure `key` of `drill` (a drill or family name); `mean_<key>` is
        described by `<key>`. CatalogueError when the catalogue lacks it."""
        family = self.family_of(drill)
        if (family, key) in self.entries:
            return self.entries[family, key]
        base = key.removeprefix(MEAN_PREFIX)
        if base != key and (family, base) in self.entries:
            entry = self.entries[family, base]
            flag = entry.kind is Kind.FLAG
            return replace(
                entry,
                key=key,
                name=f"{entry.name}: share of {entry.repetitions}"
                if flag
                else f"{entry.name}, mean of {entry.repetitions}",
                unit="%" if flag else entry.unit,
                scale=100.0 if flag else 1.0,
                missing=f"no {entry.repetition} could be measured",
                mean_of_repetitions=True,
                key_measure=entry.key_measure,
                lower_bound_unless="",  # a mean over repetitions: each one's own flag says
                grows_with_length=False,  # every repetition (window) has the same length
            )
        raise CatalogueError(f"the measures catalogue ({self.path}) has no measure {key!r} for {drill!r}")

    def measure(self, drill: str, m: Measure) -> MeasureInfo:
        return self.info(drill, m.name)

    def key_measures(self, drill: str) -> list[str]:
        """Keys of the family's key measures, in catalogue order."""
        family = self.family_of(drill)
        return [k for (f, k), e in self.entries.items() if f == family and e.key_measure]

    def group_title(self, drill: str) -> str:
        family = self.family_of(drill)
        return next((e.group for (f, _), e in self.entries.items() if f == family), family)


_FIELDS = {"name": str, "meaning": str, "unit": str, "decimals": int, "better": str, "source": str}


def _entry(key: str, data: dict[str, Any], group: dict[str, Any], where: str) -> MeasureInfo:
    for name, python_type in _FIELDS.items():
        if not isinstance(data.get(name), python_type):
            raise CatalogueError(f"{where}: measure {key!r} needs {name} ({python_type.__name__})")
    try:
        families = tuple(DrillFamily(f) for f in group["families"])
        better, kind = Better(data["better"]), Kind(data.get("kind", "value"))
    except ValueError as error:
        raise CatalogueError(f"{where}: measure {key!r}: {error}") from None
    return MeasureInfo(
        key=key,
        group=str(group.get("title", "")),
        families=families,
        name=data["name"],
        meaning=data["meaning"],
        unit=data["unit"],
        decimals=data["decimals"],
        better=better,
        kind=kind,
        key_measure=bool(data.get("key", False)),
        missing=str(data.get("missing", "this recording gave no value for it")),
        source=data["source"],
        repetition=str(group.get("repetition", "repetition")),
        repetitions=str(group.get("repetitions", "repetitions")),
        lower_bound_unless=str(data.get("lower_bound_unless", "")),
        lower_bound_why=str(data.get("lower_bound_why", "")),
        grows_with_length=bool(data.get("grows_with_length", False)),
    )


def load_catalogue(path: Path | str) -> Catalogue:
    """Read and check a catalogue file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CatalogueError(f"{path}: cannot read the measures catalogue ({error})") from None
    entries: dict[tuple[DrillFamily, str], MeasureInfo] = {}
    for k, group in enumerate(data.get("group", [])):
        where = f"{path} group {k + 1}"
        if not isinstance(group.get("families"), list):
            raise CatalogueError(f"{where}: needs families (a list of analysis families)")
        for key, item in group.get("measures", {}).items():
            entry = _entry(key, item, group, where)
            for family in entry.families:
                entries[family, key] = entry
    drills = {str(k): str(v) for k, v in data.get("drills", {}).items()}
    return Catalogue(str(data.get("version", "?")), entries, str(path), drills)


@functools.cache
def catalogue() -> Catalogue:
    """The catalogue shipped with stabmon."""
    return load_catalogue(Path(str(resources.files("recordings") / "measures.toml")))


def describe(drill: str, m: Measure) -> MeasureInfo:
    """The catalogue's description of one analysis row."""
    return catalogue().info(drill, m.name)


def format_measure(drill: str, m: Measure) -> str:
    """One analysis row's value as shown ('47.3 %', 'Not measured — …')."""
    return describe(drill, m).format(m.value)
