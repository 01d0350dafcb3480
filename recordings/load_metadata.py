"""A session file's placements, sensor identities and session settings, checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py

from recordings import schema
from recordings.errors import NotARecordingError
from recordings.settings_codec import session_settings_from_json
from sensors.identity import SensorFamily, SensorIdentity
from sensors.placements import Placement
from sensors.processing.session import SessionSettings


def placements(path: Path, attributes: dict[str, Any]) -> tuple[Placement, ...]:
    raw = attributes.get("placements")
    if raw is None:
        raise NotARecordingError(path, "root attribute 'placements' is missing")
    names = [schema.decode_text(p) for p in (raw if isinstance(raw, list) else [raw])]
    if not names:
        raise NotARecordingError(path, "root attribute 'placements' is empty")
    try:
        placements = tuple(Placement(p) for p in names)
    except ValueError:
        raise NotARecordingError(
            path, f"root attribute 'placements' names an unknown placement: {names}"
        ) from None
    twice = sorted({p.value for p in placements if placements.count(p) > 1})
    if twice:
        raise NotARecordingError(path, f"root attribute 'placements' lists {', '.join(twice)} more than once")
    return placements


def identity(path: Path, group: h5py.Group, placement: Placement) -> SensorIdentity:
    a = group.attrs
    family = schema.decode_text(a.get("family", ""))
    try:
        sensor_family = SensorFamily(family)
    except ValueError:
        raise NotARecordingError(
            path, f"{group.name}: sensor family {family!r} is missing or unknown"
        ) from None
    text = {k: schema.decode_text(a.get(k, "")) for k in ("address", "serial", "firmware", "model")}
    return SensorIdentity(sensor_family, text["address"], text["serial"], text["firmware"], text["model"])


def settings(
    path: Path, f: h5py.File, attributes: dict[str, Any], current: bool, problems: list[str]
) -> SessionSettings:
    processing = f.get(schema.PROCESSING)
    text = processing.attrs.get("settings_json") if current and isinstance(processing, h5py.Group) else None
    try:
        if text is not None:
            return session_settings_from_json(schema.decode_text(text))
        if "rate_hz" not in attributes:
            raise NotARecordingError(
                path, "neither /processing settings_json nor the root rate_hz is present"
            )
        if current:
            problems.append(
                "/processing settings_json is missing: default settings at the stored rate_hz used"
            )
        return SessionSettings(rate_hz=float(attributes["rate_hz"]))
    except (ValueError, TypeError) as error:
        where = "/processing settings_json" if text is not None else "root attribute rate_hz"
        raise NotARecordingError(path, f"{where} is not usable: {error}") from None
