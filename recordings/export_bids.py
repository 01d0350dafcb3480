"""Motion-BIDS export (BIDS 1.9+ motion modality), so research tools can read a session.

One tracking system (`tracksys-imu`) whose tracked points are the sensor placements. The motion
file holds the synchronised frames: per placement ACCEL and GYRO (x, y, z, sensor frame, SI)
and ORNT (quat_w..quat_z, sensor→global ENU), one column per row of channels.tsv, no header,
'n/a' where a sensor had a gap. Events go to events.tsv with onsets relative to the first frame.
Written into a BIDS dataset folder (created if needed): dataset_description.json,
participants.tsv, sub-<label>/sub-<label>_scans.tsv and sub-<label>/motion/*.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recordings import atomic, schema
from recordings.reader import Recording
from sensors.processing.collector import SessionCollector
from sensors.processing.pipeline import AngleBlock
from sensors.samples import Frame

BIDS_VERSION = "1.10.0"
TRACKSYS = "imu"


@dataclass(frozen=True)
class Channel:
    name: str
    component: str
    type: str
    tracked_point: str
    units: str
    reference_frame: str


def bids_label(text: str) -> str:
    """A BIDS entity label: letters and digits only."""
    label = re.sub(r"[^A-Za-z0-9]", "", text)
    if not label:
        raise ValueError(f"{text!r} has no letters or digits to make a BIDS label from")
    return label


def _channels(recording: Recording) -> list[Channel]:
    channels = []
    for p in recording.placements:
        point = p.value
        channels += [Channel(f"{point}_acc_{a}", a, "ACCEL", point, "m/s^2", "sensor") for a in "xyz"]
        channels += [Channel(f"{point}_gyr_{a}", a, "GYRO", point, "rad/s", "sensor") for a in "xyz"]
        channels += [
            Channel(f"{point}_quat_{c}", f"quat_{c}", "ORNT", point, "n/a", "global") for c in "wxyz"
        ]
    return channels


def _write_tsv(path: Path, header: list[str] | None, rows: list[list[str]]) -> None:
    with atomic.replacing(path) as partial, partial.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        if header is not None:
            writer.writerow(header)
        writer.writerows(rows)


def _motion_rows(frame: Frame, angles: AngleBlock) -> np.ndarray:
    """(n, channels) values in channel order; NaN where a sensor had a gap."""
    columns = []
    for k in range(len(frame.placements)):
        columns += [frame.acc_m_s2[:, k], frame.gyr_rad_s[:, k], angles.orientation[:, k]]
    return np.concatenate(columns, axis=1)


def _format(values: np.ndarray) -> list[list[str]]:
    return [["n/a" if not np.isfinite(v) else repr(float(v)) for v in row] for row in values.tolist()]


def export_bids(recording: Recording, collector: SessionCollector, dataset_dir: Path) -> list[Path]:
    """Add the session (its replayed frames in `collector`) to the BIDS dataset at dataset_dir;
    returns the files written. A repeated task of a subject gets the next run number."""
    frame = Frame.concatenate(collector.frames)
    angles = AngleBlock.concatenate(collector.blocks)
    subject = bids_label(recording.subject_id)
    task = bids_label(recording.drill)
    motion_dir = dataset_dir / f"sub-{subject}" / "motion"
    motion_dir.mkdir(parents=True, exist_ok=True)
    run = 1
    while any(motion_dir.glob(f"sub-{subject}_task-{task}_tracksys-{TRACKSYS}_run-{run}_*")):
        run += 1
    stem = f"sub-{subject}_task-{task}_tracksys-{TRACKSYS}_run-{run}"
    written = [_dataset_description(dataset_dir), _participants(dataset_dir, subject, recording.subject_id)]

    channels = _channels(recording)
    channels_path = motion_dir / f"{stem}_channels.tsv"
    _write_tsv(
        channels_path,
        ["name", "component", "type", "tracked_point", "units", "reference_frame"],
        [[c.name, c.component, c.type, c.tracked_point, c.units, c.reference_frame] for c in channels],
    )
    channels_json = motion_dir / f"{stem}_channels.json"
    atomic.write_text(channels_json, json.dumps(_reference_frames(), indent=2))
    motion_path = motion_dir / f"{stem}_motion.tsv"
    _write_tsv(motion_path, None, _format(_motion_rows(frame, angles)))
    sidecar = motion_dir / f"{stem}_motion.json"
    atomic.write_text(sidecar, json.dumps(_sidecar(recording, channels, len(frame)), indent=2))
    events_path = motion_dir / f"{stem}_events.tsv"
    t0 = float(frame.time_s[0]) if len(frame) else 0.0
    _write_tsv(
        events_path,
        ["onset", "duration", "trial_type", "label", "value", "source"],
        [
            [f"{e.time_s - t0:.4f}", "0", e.kind.value, e.label or "n/a", _value(e.value), e.source]
            for e in sorted(recording.events, key=lambda e: e.time_s)
        ],
    )
    scans = dataset_dir / f"sub-{subject}" / f"sub-{subject}_scans.tsv"
    earlier = scans.read_text(encoding="utf-8") if scans.exists() else "filename\tacq_time\n"
    created = str(recording.attributes["created_utc"]).split("+")[0]
    atomic.write_text(scans, earlier + f"motion/{motion_path.name}\t{created}\n")
    return [*written, channels_path, channels_json, motion_path, sidecar, events_path, scans]


def _value(value: float) -> str:
    return "n/a" if not np.isfinite(value) else repr(float(value))


def _dataset_description(dataset_dir: Path) -> Path:
    path = dataset_dir / "dataset_description.json"
    if not path.exists():
        description = {
            "Name": "stabmon sessions",
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw",
            "GeneratedBy": [{"Name": "stabmon", "Version": schema.app_version()}],
        }
        atomic.write_text(path, json.dumps(description, indent=2))
    return path


def _participants(dataset_dir: Path, label: str, subject_id: str) -> Path:
    path = dataset_dir / "participants.tsv"
    rows: list[list[str]] = []
    if path.exists():
        with path.open(encoding="utf-8") as f:
            rows = [line.rstrip("\n").split("\t") for line in f][1:]
    if not any(row[0] == f"sub-{label}" for row in rows):
        rows.append([f"sub-{label}", subject_id])
    _write_tsv(path, ["participant_id", "stabmon_subject_id"], rows)
    return path


def _reference_frames() -> dict[str, object]:
    return {
        "reference_frame": {
            "LongName": "reference frame",
            "Levels": {
                "sensor": {"Description": "the IMU's own axes (x, y, z as printed on the sensor)"},
                "global": {
                    "Description": "earth frame: x east, y north, z up (ENU); heading arbitrary (6D fusion)",
                    "SpatialAxes": "ENU",
                    "RotationRule": "right-hand",
                    "RotationOrder": "n/a",
                },
            },
        }
    }


def _sidecar(recording: Recording, channels: list[Channel], frames: int) -> dict[str, object]:
    rate = recording.settings.rate_hz
    identity = next(iter(recording.sensors.values()))
    return {
        "TaskName": recording.drill,
        "TaskDescription": f"stabmon drill {recording.drill}",
        "SamplingFrequency": rate,
        "TrackingSystemName": "stabmon wearable IMUs",
        "Manufacturer": identity.family.value,
        "ManufacturersModelName": identity.model,
        "DeviceSerialNumber": ", ".join(f"{p.value}: {s.serial}" for p, s in recording.sensors.items()),
        "SoftwareVersions": f"stabmon {schema.app_version()}",
        "RecordingDuration": frames / rate,
        "RecordingType": "continuous",
        "MissingValues": "n/a",
        "TrackedPointsCount": len(recording.placements),
        "ACCELChannelCount": sum(c.type == "ACCEL" for c in channels),
        "GYROChannelCount": sum(c.type == "GYRO" for c in channels),
        "ORNTChannelCount": sum(c.type == "ORNT" for c in channels),
        "SubjectArtefactDescription": "n/a",
        "TrackedPoints": {p.value: p.anatomical_site for p in recording.placements},
    }
