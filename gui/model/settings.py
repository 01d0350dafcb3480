"""Dashboard settings remembered between runs, as JSON in the user's config folder."""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

from platformdirs import user_config_dir

from sensors.errors import StabmonError
from sensors.processing.settings_checks import MAX_RATE_HZ

log = logging.getLogger(__name__)

#: The first bytes of an HDF5 file (at offset 0, or 512, 1024, … after a user block).
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


class NotASettingsFileError(StabmonError, ValueError):
    """A settings path that holds something other than the dashboard's JSON settings (a recording,
    a text file, a JSON array): refused and left untouched, never renamed or written over."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(
            f"{path} is not a dashboard settings file ({what}); it is left untouched "
            "(settings are the JSON file the dashboard writes)"
        )
        self.path = path


@dataclass
class DashboardSettings:
    """What the clinician chose last time.

    simulate: virtual sensors instead of Bluetooth (virtual_link: over the in-process BLE stack,
    else straight from the simulator); family: their protocol; placements: where
    virtual sensors are worn (lumbar and pelvis, optionally thorax and legs); assignments:
    placement → sensor address or name for real sensors; data_dir: '' for the default library;
    zone_radius_deg / sound: the patient view's target zone and beep; window_state: Qt geometry;
    clinic / clinician: named on reports."""

    subject_id: str = ""
    simulate: bool = True
    virtual_link: bool = True
    family: str = "stabmon"
    rate_hz: float = 100.0
    assignments: dict[str, str] = field(default_factory=dict)
    placements: list[str] = field(default_factory=lambda: ["lumbar", "pelvis"])
    data_dir: str = ""
    protocol: str = ""
    zone_radius_deg: float = 3.0
    sound: bool = False
    lsl: bool = False
    window_geometry: str = ""
    clinic: str = ""
    clinician: str = ""


def default_settings_path() -> Path:
    """`$STABMON_CONFIG_DIR/dashboard.json`, else the platform's config folder."""
    folder = os.environ.get("STABMON_CONFIG_DIR") or user_config_dir("stabmon", appauthor=False)
    return Path(folder) / "dashboard.json"


def load_settings(path: Path) -> DashboardSettings:
    """The saved settings (see `load_settings_with_notice`)."""
    return load_settings_with_notice(path)[0]


def foreign_content(data: bytes) -> str | None:
    """What `data` is when it cannot be settings this module wrote, in a few words; None when it
    is UTF-8 text that starts as a JSON object does (valid or damaged settings of its own)."""
    if any(data[offset : offset + 8] == _HDF5_SIGNATURE for offset in (0, 512, 1024, 2048)):
        return "an HDF5 file, a recording?"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "a binary file, not JSON text"
    if not text.strip():
        return None  # an empty file: an interrupted write of its own at worst
    if not text.lstrip().startswith("{"):
        return "not a JSON object"
    return None


def load_settings_with_notice(path: Path) -> tuple[DashboardSettings, str]:
    """(settings, notice). Defaults when the file is missing. A file that is not settings at all
    (see `foreign_content`) raises NotASettingsFileError and is left as it is; a damaged settings
    file of its own (a JSON object that does not parse, or wrong values) is never written over: it
    is moved aside (see `keep_aside`), the defaults are used, and the notice (also logged) says
    so; the notice is '' otherwise."""
    if not path.exists():
        return DashboardSettings(), ""
    if path.is_dir():
        raise NotASettingsFileError(path, "a folder")
    data = path.read_bytes()
    what = foreign_content(data)
    if what is not None:
        raise NotASettingsFileError(path, what)
    try:
        return _parse(data.decode("utf-8")), ""
    except (ValueError, TypeError) as error:
        kept = keep_aside(path)
        where = (
            f"kept as {kept}"
            if kept
            else "left where it is (it could not be moved); it will not be saved over"
        )
        notice = f"Settings file {path} could not be read ({error}); using defaults. The file is {where}."
        log.warning("%s", notice)
        return DashboardSettings(), notice


def _parse(text: str) -> DashboardSettings:
    """Settings from JSON text; ValueError/TypeError when it is not a JSON object of settings."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"settings must be a JSON object, got {type(data).__name__}")
    defaults = DashboardSettings()
    values = {}
    for f in fields(DashboardSettings):
        if f.name not in data:
            continue
        value, expected = data[f.name], type(getattr(defaults, f.name))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise ValueError(f"{f.name} must be {expected.__name__}, got {value!r}")
        values[f.name] = value
    settings = DashboardSettings(**values)
    if not (math.isfinite(settings.rate_hz) and 0 < settings.rate_hz <= MAX_RATE_HZ):
        raise ValueError(f"rate_hz must be above 0 and at most {MAX_RATE_HZ:g}, got {settings.rate_hz}")
    if not (math.isfinite(settings.zone_radius_deg) and 0 < settings.zone_radius_deg <= 90):
        raise ValueError(f"zone_radius_deg must be above 0 and at most 90, got {settings.zone_radius_deg}")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in settings.assignments.items()):
        raise ValueError("assignments must map placement names to sensor ids (text)")
    if not all(isinstance(p, str) for p in settings.placements):
        raise ValueError("placements must be a list of placement names")
    return settings


def keep_aside(path: Path) -> Path | None:
    """Rename a damaged settings file of this module's own (never another program's: see
    `foreign_content`) to `<name>.damaged-<UTC time>` beside it (never deleted);
    returns the new path, or None when it could not be moved."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    try:
        path.rename(target)
    except OSError as error:
        log.warning("%s: cannot move the unreadable settings file aside (%s)", path, error)
        return None
    return target


def save_settings(settings: DashboardSettings, path: Path) -> None:
    """Write atomically, so a crash never leaves half a file. Another program's file at `path`
    (see `foreign_content`) is left as it is and nothing is written; a damaged settings file of
    its own is moved aside first, never written over; if it cannot be moved, nothing is written."""
    if path.exists():
        try:
            data = path.read_bytes()
        except OSError as error:
            log.warning("%s: not saving settings over a file that cannot be read (%s)", path, error)
            return
        what = foreign_content(data)
        if what is not None:
            log.warning("%s: not saving settings over a file that is not settings (%s)", path, what)
            return
        try:
            _parse(data.decode("utf-8"))
        except (ValueError, TypeError) as error:
            kept = keep_aside(path)
            if kept is None:
                log.warning(
                    "%s: not saving settings over a file that is not readable settings (%s)", path, error
                )
                return
            log.warning("%s was not readable settings (%s); kept as %s", path, error, kept)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(asdict(settings), indent=2), encoding="utf-8")
    partial.replace(path)
