"""Recordings made from other systems' files: an XDF file (`recordings.xdf_import.open_xdf`)
recorded through the same factory, pipeline and writer as a live session."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from engine.recording import OpenedSource, Recording, recording_metadata, recording_path
from engine.spec import SessionSpec, check_subject
from recordings.conditions import condition_for
from recordings.xdf_import import open_xdf
from sensors.placements import Placement
from sensors.processing.session import SessionSettings


def import_xdf(
    path: Path,
    subject_id: str,
    drill: str,
    mapping: Mapping[str, Placement] | None = None,
    rate_hz: float = 100.0,
    out_dir: Path | None = None,
    data_dir: Path | None = None,
    allow_truncated: bool = False,
    settings: SessionSettings | None = None,
    task: str = "single",
) -> Path:
    """Convert an XDF file into a stabmon recording; returns the new file's path. The subject
    id, drill (one stabmon can analyse, with the sensors its analysis reads), task condition and
    rate are checked before anything is written. The file is dated by the XDF file header's
    recording time when it has one (else the import's time). settings: the processing settings
    (default: today's at `rate_hz`); task: the task condition it was recorded in (single, dual or
    cognitive: the file does not say)."""
    subject = check_subject(subject_id)
    condition = condition_for(drill, task)
    processing = settings if settings is not None else SessionSettings(rate_hz=rate_hz)
    xdf = open_xdf(Path(path), drill, mapping, allow_truncated)
    spec = SessionSpec(processing=processing).for_drill(drill)
    about = {**xdf.about, "condition": task}
    notes = f"imported from {Path(path).name} ({xdf.about['source_format']})"
    metadata = recording_metadata(spec, subject, OpenedSource(xdf.source, about), notes, condition=condition)
    # No session specification stored: the source was a file, not a simulator or sensors.
    metadata = replace(metadata, spec_json="")
    if xdf.recorded_utc is not None:
        metadata = replace(metadata, created_utc=xdf.recorded_utc)
    target = recording_path(metadata, data_dir)
    if out_dir is not None:
        target = Path(out_dir) / target.name
    asyncio.run(Recording(spec, xdf.source, metadata, target).run())
    return target
