"""What is kept about a subject beside the recordings: optional pseudonymous demographics (age
band, sex), the pelvic sensor's height above the floor when standing (the leg length of the
inverted-pendulum step length, gait_speed.py; Mobilise-D's `SensorHeight`) and, per visit,
patient-reported outcomes (pain now 0–10 and an Oswestry Disability Index or Roland-Morris
total). Stored as `<data dir>/sub-<id>/subject.json`, beside the subject's recordings; never a
name or a birth date."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path

from recordings.schema import check_stored_subject_id
from sensors.errors import StabmonError

log = logging.getLogger(__name__)

AGE_BANDS = ("18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80-89", "90+")
SEXES = ("female", "male")
#: Questionnaire → (name, lowest total, highest total, unit): the totals a clinician enters.
QUESTIONNAIRES: dict[str, tuple[str, float, float, str]] = {
    "ODI": ("Oswestry Disability Index", 0.0, 100.0, "%"),
    "RMDQ": ("Roland-Morris Disability Questionnaire", 0.0, 24.0, "points"),
}
FILE_NAME = "subject.json"
#: Plausible heights of a pelvic (S1/S2) sensor above the floor, standing, m.
SENSOR_HEIGHT_RANGE_M = (0.3, 2.0)


class SubjectError(StabmonError, ValueError):
    """Subject data that cannot be stored or read; the message says what and where."""


@dataclass(frozen=True)
class Demographics:
    """Optional: '' when not given."""

    age_band: str = ""
    sex: str = ""

    def __post_init__(self) -> None:
        if self.age_band and self.age_band not in AGE_BANDS:
            raise SubjectError(f"age band must be one of {', '.join(AGE_BANDS)}, got {self.age_band!r}")
        if self.sex and self.sex not in SEXES:
            raise SubjectError(f"sex must be one of {', '.join(SEXES)}, got {self.sex!r}")

    @property
    def label(self) -> str:
        parts = [f"age {self.age_band}" if self.age_band else "", self.sex]
        return ", ".join(p for p in parts if p) or "not given"


@dataclass(frozen=True)
class Visit:
    """Patient-reported outcomes of one visit: pain now 0–10 (NaN: not asked) and a
    questionnaire total ('' questionnaire: none)."""

    day: date
    pain_now: float = math.nan
    questionnaire: str = ""
    score: float = math.nan

    def __post_init__(self) -> None:
        if math.isfinite(self.pain_now) and not 0 <= self.pain_now <= 10:
            raise SubjectError(f"pain now must be 0–10, got {self.pain_now}")
        if self.questionnaire:
            if self.questionnaire not in QUESTIONNAIRES:
                raise SubjectError(f"questionnaire must be one of {', '.join(QUESTIONNAIRES)}")
            _, low, high, _ = QUESTIONNAIRES[self.questionnaire]
            if not (math.isfinite(self.score) and low <= self.score <= high):
                raise SubjectError(f"{self.questionnaire} total must be {low:g}–{high:g}, got {self.score}")

    def describe(self) -> str:
        parts = []
        if math.isfinite(self.pain_now):
            parts.append(f"pain now {self.pain_now:g}/10")
        if self.questionnaire:
            name, _, high, unit = QUESTIONNAIRES[self.questionnaire]
            parts.append(f"{name} {self.score:g}" + (" %" if unit == "%" else f"/{high:g}"))
        return ", ".join(parts) or "no patient-reported outcomes"


def check_sensor_height(metres: float) -> float:
    """The pelvic sensor's height, m, or SubjectError (e.g. centimetres given as metres)."""
    low, high = SENSOR_HEIGHT_RANGE_M
    if not (math.isfinite(metres) and low < metres < high):
        raise SubjectError(f"pelvic sensor height must be {low:g}–{high:g} m (standing), got {metres:g}")
    return float(metres)


@dataclass(frozen=True)
class Subject:
    """sensor_height_m: pelvic sensor above the floor, standing, m (NaN: not measured)."""

    subject_id: str
    demographics: Demographics = field(default_factory=Demographics)
    visits: tuple[Visit, ...] = ()
    sensor_height_m: float = math.nan

    def __post_init__(self) -> None:
        if not math.isnan(self.sensor_height_m):
            check_sensor_height(self.sensor_height_m)

    @property
    def sensor_height(self) -> float | None:
        """The sensor height, m, for the analysis (None when not measured)."""
        return None if math.isnan(self.sensor_height_m) else self.sensor_height_m

    def visit_on(self, day: date) -> Visit | None:
        return next((v for v in self.visits if v.day == day), None)

    def visits_until(self, day: date) -> list[Visit]:
        return [v for v in self.visits if v.day <= day]


def subject_path(data_dir: Path, subject_id: str) -> Path:
    return Path(data_dir) / f"sub-{check_stored_subject_id(subject_id)}" / FILE_NAME


def load_subject(data_dir: Path, subject_id: str) -> Subject:
    """The subject's stored data (empty when nothing was stored)."""
    path = subject_path(data_dir, subject_id)
    if not path.exists():
        return Subject(subject_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        visits = tuple(
            Visit(
                date.fromisoformat(v["day"]),
                float(v.get("pain_now", math.nan) if v.get("pain_now") is not None else math.nan),
                str(v.get("questionnaire", "")),
                float(v["score"]) if v.get("score") is not None else math.nan,
            )
            for v in data.get("visits", [])
        )
        height = data.get("sensor_height_m")
        sensor_height = math.nan if height is None else float(height)
        return Subject(subject_id, Demographics(**data.get("demographics", {})), visits, sensor_height)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SubjectError(f"{path}: cannot read subject data ({error})") from None


def save_subject(data_dir: Path, subject: Subject) -> Path:
    """Write the subject's data (atomically: a crash leaves the old file)."""
    path = subject_path(data_dir, subject.subject_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    visits = [
        {
            "day": v.day.isoformat(),
            "pain_now": v.pain_now if math.isfinite(v.pain_now) else None,
            "questionnaire": v.questionnaire,
            "score": v.score if math.isfinite(v.score) else None,
        }
        for v in sorted(subject.visits, key=lambda v: v.day)
    ]
    height = subject.sensor_height
    text = json.dumps(
        {
            "subject_id": subject.subject_id,
            "demographics": asdict(subject.demographics),
            "sensor_height_m": height,
            "visits": visits,
        },
        indent=2,
    )
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def record_visit(data_dir: Path, subject_id: str, visit: Visit) -> Subject:
    """Add (or replace) the visit of that day."""
    subject = load_subject(data_dir, subject_id)
    visits = (*(v for v in subject.visits if v.day != visit.day), visit)
    subject = replace(subject, visits=tuple(sorted(visits, key=lambda v: v.day)))
    save_subject(data_dir, subject)
    return subject


def set_demographics(data_dir: Path, subject_id: str, demographics: Demographics) -> Subject:
    subject = replace(load_subject(data_dir, subject_id), demographics=demographics)
    save_subject(data_dir, subject)
    return subject


def set_sensor_height(data_dir: Path, subject_id: str, metres: float) -> Subject:
    """Store the pelvic sensor's standing height, m, with the subject."""
    subject = replace(load_subject(data_dir, subject_id), sensor_height_m=check_sensor_height(metres))
    save_subject(data_dir, subject)
    return subject


def data_dir_beside(recording_path: Path, subject_id: str) -> Path:
    """The data folder whose subject settings belong with a recording: in the library layout
    (`<data dir>/sub-<id>/<file>.h5`) that data dir; for a file elsewhere (`record --out DIR`),
    its own folder, where `stabmon subject --data-dir DIR` stores `sub-<id>/subject.json`."""
    folder = Path(recording_path).parent
    return folder.parent if folder.name == f"sub-{check_stored_subject_id(subject_id)}" else folder


def subject_beside(recording_path: Path, subject_id: str, data_dir: Path | None = None) -> Subject:
    """The subject stored beside a recording (`data_dir_beside`); when nothing is stored there,
    the one stored in `data_dir` (if given); empty when neither has one."""
    beside = data_dir_beside(recording_path, subject_id)
    if data_dir is not None and not subject_path(beside, subject_id).exists():
        return load_subject(data_dir, subject_id)
    return load_subject(beside, subject_id)
