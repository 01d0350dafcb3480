"""Reading the parts of a session file, each checked, into the fields of a `Recording`.

Every way a part can be damaged gives either a specific error naming the file and the part, or
a partial result with a line in `problems` saying what was left out or assumed. Each part has a
module of its own: `load_metadata` (placements, sensors, settings), `load_raw` (one sensor's raw
datasets), `load_arrival` (the arrival log), `load_annotations` (events, calibration),
`load_processing` (frame grid, stored angles), on the checked access of `hdf5_checks`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from recordings import (
    hdf5_checks,
    load_annotations,
    load_arrival,
    load_metadata,
    load_processing,
    load_raw,
    migration,
    schema,
)
from recordings.chunk_damage import GAP_NOTE_SOURCE, DamagedRows
from recordings.errors import NotARecordingError
from recordings.load_arrival import ArrivalLog
from recordings.load_processing import ProcessedAngles
from recordings.repair import repair_rows
from sensors.events import Event
from sensors.placements import Placement
from sensors.samples import SampleBlock

__all__ = ["ArrivalLog", "ProcessedAngles", "load_recording"]

log = logging.getLogger(__name__)


def gap_notes(events: tuple[Event, ...]) -> list[str]:
    """The notes `stabmon recover` left of samples it left out as gaps (damaged chunks)."""
    return [e.label for e in events if e.source == GAP_NOTE_SOURCE]


def load_recording(
    path: Path,
    f: h5py.File,
    attributes: dict[str, Any],
    left_open: bool,
    derived: bool = True,
    raw: bool = True,
) -> dict[str, Any]:
    """The keyword arguments of `Recording` for the open file `f` with these root attributes
    (`derived`, `raw`: as `read_recording` says)."""
    problems: list[str] = []
    damaged: list[DamagedRows] = []
    if left_open:
        problems.append(
            "the file was not closed properly (still being written, or its writer crashed): "
            "read what was flushed; if the session has ended, run `stabmon recover` on it"
        )
    placements = load_metadata.placements(path, attributes)
    for name in ("subject_id", "drill", "created_utc"):
        if name not in attributes:
            raise NotARecordingError(path, f"root attribute {name!r} is missing")
        if not isinstance(attributes[name], str | bytes):
            raise NotARecordingError(path, f"root attribute {name!r} is not text: {attributes[name]!r}")
        attributes[name] = schema.decode_text(attributes[name])
    try:
        schema.check_stored_subject_id(attributes["subject_id"])
        datetime.fromisoformat(attributes["created_utc"])
    except ValueError as error:
        raise NotARecordingError(path, f"root attributes: {error}") from None
    version = schema.decode_text(attributes["schema_version"])
    current = schema.parse_version(version) >= schema.parse_version("0.2.0")
    settings = load_metadata.settings(path, f, attributes, current, problems)
    acquisition = hdf5_checks.group(path, f, schema.ACQUISITION)
    groups = {
        p: hdf5_checks.group(path, acquisition, p.value, f"/{schema.ACQUISITION}/{p.value}")
        for p in placements
    }
    counters: dict[Placement, load_raw.Counters] = {}
    log_read, arrival_damaged = load_arrival.read_log(acquisition) if current else ({}, [])
    if not raw and current and not left_open and not arrival_damaged:
        for placement, group in groups.items():
            found = load_raw.sound(path, group)
            if found is None:
                counters = {}
                break
            counters[placement] = found
    skip_raw = bool(counters)
    sensors, samples, session_time, lost, keeps, stored = {}, {}, {}, {}, {}, {}
    for placement, group in groups.items():
        sensors[placement] = load_metadata.identity(path, group, placement)
        if skip_raw:  # read a window at a time by the caller
            stored[placement] = group["sequence"].shape[0]
            keeps[placement] = np.ones(stored[placement], dtype=bool)
            samples[placement] = SampleBlock(
                placement,
                np.zeros(0),
                np.zeros((0, 3)),
                np.zeros((0, 3)),
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
            )
            session_time[placement], lost[placement] = np.zeros(0), np.zeros(0, np.int32)
            continue
        columns, unreadable = load_raw.raw_arrays(path, group, placement, current, left_open, problems)
        stored[placement] = len(columns["sequence"])
        damaged.extend(unreadable)
        problems.extend(load_raw.damage_problem(placement, rows) for rows in unreadable)
        readable = np.flatnonzero(~load_raw.left_out(unreadable, stored[placement])) if unreadable else None
        rows = slice(None) if readable is None else readable
        fixed = repair_rows(
            columns["device_time_s"][rows],
            columns["sequence"][rows],
            columns["host_receive_ns"][rows],
            columns["acc_m_s2"][rows],
            columns["gyr_rad_s"][rows],
            settings.rate_hz,
        )
        keep = fixed.keep
        if readable is not None:  # over the stored rows: the damaged ones left out
            keep = np.zeros(stored[placement], dtype=bool)
            keep[readable[fixed.keep]] = True
        if fixed.report.changed:
            problems.append(fixed.report.describe(placement.value))
            log.warning("%s: %s", path, problems[-1])
        keeps[placement] = keep
        samples[placement] = SampleBlock(
            placement=placement,
            device_time_s=fixed.device_time_s,
            acc_m_s2=columns["acc_m_s2"][keep],
            gyr_rad_s=columns["gyr_rad_s"][keep],
            sequence=fixed.sequence,
            host_receive_ns=columns["host_receive_ns"][keep],
        )
        session_time[placement] = columns["session_time_s"][keep]
        lost[placement] = load_raw.lost_before(
            columns.get("lost_before"), keep, fixed.sequence, fixed.report.changed or bool(unreadable)
        )
        if unreadable and len(lost[placement]) and not keep[0]:  # the rows before the first kept one
            lost[placement][0] += int(np.argmax(keep))
        if not fixed.report.changed and "lost_before" in columns and (columns["lost_before"] < 0).any():
            problems.append(
                f"{placement.value}: negative loss counts (a wrapped counter) recomputed from the counters"
            )
    if current and not arrival_damaged:
        arrival = load_arrival.arrival_log(
            path, acquisition, placements, stored, keeps, left_open, problems, log_read
        )
    else:  # a 0.1 file, or a damaged chunk of the log: one block per notification, by host time
        if arrival_damaged:
            damaged.extend(arrival_damaged)
            problems.append(
                f"{arrival_damaged[0].describe()} (a damaged chunk): the arrival log is rebuilt from the "
                "host time stamps (a replay then matches the live session closely, not bit for bit)"
            )
        index, rows = migration.arrival_from_host_stamps(placements, samples)
        origin = load_arrival.stored_origin(acquisition) if current else None
        if origin is None:
            origin = migration.host_origin_from_mapping(samples, session_time)
        arrival = ArrivalLog(index, rows, origin)
    calibration_mount_q, cal_time = load_annotations.calibration(path, f, placements, problems)
    events = load_annotations.events(path, f, problems, damaged)
    problems.extend(gap_notes(events))
    frames = load_processing.processing(path, f, len(placements), derived, problems, damaged)
    return {
        "path": path,
        "attributes": attributes,
        "sensors": sensors,
        "samples": samples,
        "session_time_s": session_time,
        "lost_before": lost,
        "events": events,
        "calibration_mount_q": calibration_mount_q,
        "calibration_time_s": cal_time,
        **frames,
        "arrival": arrival,
        "settings": settings,
        "migrated_from": None if current else version,
        "problems": tuple(problems),
        "left_open": left_open,
        "counters": counters,
        "damaged": tuple(damaged),
    }
