"""Dashboard settings remembered between runs, as JSON in the user's config folder."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from platformdirs import user_config_dir

log = logging.getLogger(__name__)


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
    """The saved settings; defaults (with a logged warning) when the file is missing or damaged."""
    if not path.exists():
        return DashboardSettings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(DashboardSettings)}
        return DashboardSettings(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError) as error:
        log.warning("%s: settings not readable (%s); using defaults", path, error)
        return DashboardSettings()


def save_settings(settings: DashboardSettings, path: Path) -> None:
    """Write atomically, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(asdict(settings), indent=2), encoding="utf-8")
    partial.replace(path)
