"""The session specification: everything that decides how a session is acquired and processed,
as plain frozen values that round-trip through JSON (`to_json` / `from_json`, versioned).

`rate_hz` is given once (`processing.rate_hz`) and flows to the link, the simulator, the
synchroniser and the pipeline. The whole specification is stored in every recording (root
attribute `session_spec_json`) and its processing settings in `/processing/settings_json`, so a
replay runs as recorded. Importing this module loads neither bleak, bumble nor Qt.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from engine.errors import SpecError
from recordings.schema import check_subject_id
from recordings.settings_codec import from_plain, to_plain
from sensors.drills import drill_family
from sensors.errors import UnknownDrillError
from sensors.identity import SensorFamily
from sensors.placements import REQUIRED_PLACEMENTS, Placement
from sensors.processing.analysis import ANALYSIS_PLACEMENTS
from sensors.processing.session import SessionSettings
from sensors.simulator import DRILL_NAMES

__all__ = [
    "DRILL_NAMES",
    "SPEC_VERSION",
    "LslSpec",
    "SensorListing",
    "SessionSpec",
    "SourceKind",
    "SourceSpec",
]

#: Version of the JSON layout of `SessionSpec`; `from_json` refuses newer majors.
SPEC_VERSION = 1


class SourceKind(StrEnum):
    """Where the samples come from: the simulator straight (no radio), virtual sensors on an
    in-process BLE radio reached through bleak, or real sensors over the computer's Bluetooth."""

    SIMULATED = "simulated"
    VIRTUAL_BLE = "virtual-ble"
    BLUETOOTH = "bluetooth"


@dataclass(frozen=True)
class SourceSpec:
    """kind and family of sensors; placements (simulated kinds) or assignments placement →
    address or advertised name (Bluetooth); seed: simulator seed, None for a fresh one per
    recording (stored in it); realtime: simulate in real time (else as fast as possible);
    scan_timeout_s: how long to look for sensors; give_up_after_s: a BLE sensor silent this long
    (s) is reported lost and no longer tried; dual_task_factor: sway scale of the simulated
    dual-task condition; sway_scale: the simulated patient's sway scale in any condition (> 1 a
    more unsteady patient), which leaves the condition as it is."""

    kind: SourceKind = SourceKind.VIRTUAL_BLE
    family: SensorFamily = SensorFamily.STABMON
    placements: tuple[Placement, ...] = REQUIRED_PLACEMENTS
    assignments: tuple[tuple[Placement, str], ...] = ()
    seed: int | None = None
    realtime: bool = True
    scan_timeout_s: float = 5.0
    give_up_after_s: float = 120.0
    dual_task_factor: float = 1.4
    sway_scale: float = 1.0

    @property
    def simulated(self) -> bool:
        return self.kind is not SourceKind.BLUETOOTH

    @property
    def chosen_placements(self) -> tuple[Placement, ...]:
        """The placements this source delivers."""
        return self.placements if self.simulated else tuple(p for p, _ in self.assignments)

    def assignment_map(self) -> dict[Placement, str]:
        return dict(self.assignments)


@dataclass(frozen=True)
class LslSpec:
    """outlet: publish raw IMU, angles and markers on the Lab Streaming Layer; markers: record
    the markers of this LSL stream, by name or as `type:TYPE` ("" for none)."""

    outlet: bool = False
    markers: str = ""


@dataclass(frozen=True)
class SessionSpec:
    """One session: its source, LSL and every processing setting (nested in `processing`)."""

    source: SourceSpec = field(default_factory=SourceSpec)
    lsl: LslSpec = field(default_factory=LslSpec)
    processing: SessionSettings = field(default_factory=SessionSettings)
    version: int = SPEC_VERSION

    @property
    def rate_hz(self) -> float:
        """Sensor and frame rate, Hz (given once, in the processing settings)."""
        return self.processing.rate_hz

    def for_drill(self, drill: str, duration_s: float | None = None) -> SessionSpec:
        """This specification for one recording of `drill` (duration None: until stopped)."""
        return replace(self, processing=replace(self.processing, drill=drill, duration_s=duration_s))

    def required_placements(self) -> tuple[Placement, ...]:
        """The sensors a session needs: those its drill's measures read (a quiet stance, the lumbar
        sensor only: `ANALYSIS_PLACEMENTS`); both back sensors when no drill is set (a clinic's
        setup, before its protocols choose drills; a free recording)."""
        try:
            return ANALYSIS_PLACEMENTS[drill_family(self.processing.drill)]
        except UnknownDrillError:
            return REQUIRED_PLACEMENTS

    def check(self) -> None:
        """Raise SpecError saying what is missing or wrong before anything connects."""
        chosen = self.source.chosen_placements
        twice = sorted({p.value for p in chosen if chosen.count(p) > 1})
        if twice:
            raise SpecError(f"the placements name {', '.join(twice)} more than once")
        drill = self.processing.drill
        for required in self.required_placements():
            if required not in chosen:
                session = f"a {drill} session" if drill else "a session"
                raise SpecError(
                    f"{session} needs a {required.value} sensor ({required.anatomical_site}): assign one"
                )
        if not self.source.simulated:
            empty = [p.value for p, sensor in self.source.assignments if not sensor.strip()]
            if empty:
                raise SpecError(f"no sensor address or name given for {', '.join(empty)}")
            same = _same_sensor(self.source.assignments)
            if same:
                raise SpecError(same)
        if not (math.isfinite(self.source.scan_timeout_s) and self.source.scan_timeout_s > 0):
            raise SpecError(
                f"scan_timeout_s must be a positive number of seconds, got {self.source.scan_timeout_s}"
            )
        if not (math.isfinite(self.source.give_up_after_s) and self.source.give_up_after_s > 0):
            raise SpecError(
                f"give_up_after_s must be a positive number of seconds, got {self.source.give_up_after_s}"
            )
        if not (math.isfinite(self.source.dual_task_factor) and self.source.dual_task_factor > 0):
            raise SpecError(f"dual_task_factor must be positive, got {self.source.dual_task_factor}")
        if not (math.isfinite(self.source.sway_scale) and self.source.sway_scale > 0):
            raise SpecError(f"sway_scale must be positive, got {self.source.sway_scale}")

    def to_json(self) -> str:
        """This specification as sorted JSON (nested settings as objects, enums as values)."""
        return json.dumps(to_plain(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SessionSpec:
        """A specification written by `to_json` (unknown keys ignored, missing ones default).
        Raises SpecError on text that is not such JSON or comes from a newer version."""
        try:
            raw: Any = json.loads(text)
        except json.JSONDecodeError as error:
            raise SpecError(f"session specification is not JSON: {error}") from None
        if not isinstance(raw, dict):
            raise SpecError(f"session specification must be a JSON object, got {type(raw).__name__}")
        version = raw.get("version", SPEC_VERSION)
        if not isinstance(version, int) or version > SPEC_VERSION:
            raise SpecError(
                f"session specification version {version!r} is newer than this stabmon ({SPEC_VERSION})"
            )
        try:
            return replace(from_plain(cls, raw, "session specification"), version=SPEC_VERSION)
        except ValueError as error:
            raise SpecError(str(error)) from None


@dataclass(frozen=True)
class SensorListing:
    """A sensor seen in a scan, as plain values for the window. battery_pct is NaN unless the
    sensor advertises it."""

    name: str
    address: str
    family: SensorFamily
    rssi_dbm: int
    battery_pct: float = math.nan

    def matches(self, sensor_id: str) -> bool:
        """True when `sensor_id` is this sensor's address or advertised name (case-insensitive)."""
        wanted = sensor_id.strip().lower()
        return wanted in (self.address.lower(), self.name.lower())


def check_subject(subject_id: str) -> str:
    """The pseudonymous subject id, stripped; raises ValueError when empty or not a pseudonym."""
    subject = subject_id.strip()
    if not subject:
        raise SpecError("enter the subject's pseudonymous id before recording")
    check_subject_id(subject)
    return subject


def _same_sensor(assignments: tuple[tuple[Placement, str], ...]) -> str | None:
    """Why two placements cannot have these sensors (one sensor named for both: its data would
    stand for both, and every angle between them would read 0), or None. Addresses are compared
    as Bluetooth compares them (case and separator aside), names as given."""
    seen: dict[str, Placement] = {}
    for placement, sensor in assignments:
        key = sensor.strip().upper().replace("-", ":")
        if key in seen:
            return f"{seen[key].value} and {placement.value} name the same sensor {sensor.strip()}"
        seen[key] = placement
    return None
