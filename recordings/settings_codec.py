"""Session settings to and from the JSON stored in /processing, so a replay runs as recorded."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sensors.processing.clock_sync import ClockSyncSettings
from sensors.processing.session import SessionSettings


def session_settings_to_json(settings: SessionSettings) -> str:
    """The runner settings as sorted JSON (nested settings as objects)."""
    return json.dumps(dataclasses.asdict(settings), sort_keys=True)


def session_settings_from_json(text: str) -> SessionSettings:
    """Settings written by `session_settings_to_json`; unknown keys (from a newer minor version)
    are ignored, missing ones take today's defaults. Raises ValueError on text that is not JSON."""
    raw: dict[str, Any] = json.loads(text) if text else {}
    if not isinstance(raw, dict):
        raise ValueError(f"session settings must be a JSON object, got {type(raw).__name__}")
    clock_raw = raw.pop("clock", {}) or {}
    clock = ClockSyncSettings(**_known(ClockSyncSettings, clock_raw))
    return SessionSettings(clock=clock, **_known(SessionSettings, raw))


def _known(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in values.items() if k in names and k != "clock"}
