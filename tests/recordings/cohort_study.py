"""Short simulated recordings for the cohort tests, made through the product (engine.factory)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from engine.factory import record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors.processing import SessionSettings


def make_recording(
    path: Path,
    subject: str,
    drill: str = "quiet-stance",
    seconds: float = 14.0,  # an 11-s stance task after the 3-s calibration: shorter is not measured
    seed: int = 1,
    protocol: dict[str, Any] | None = None,
) -> Path:
    """A fast simulated recording of `drill` at 100 Hz saved at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=seed, realtime=False),
        processing=SessionSettings(rate_hz=100.0, duration_s=seconds),
    )
    return asyncio.run(record(spec, subject, path, drill, seconds, protocol=protocol)).path


def copy_into(recording: Path, study: Path, subject: str, name: str | None = None) -> Path:
    """A copy of `recording` in `study/sub-<subject>/` (the library layout), under `name`."""
    target = study / f"sub-{subject}" / (name or recording.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(recording, target)
    return target
