"""Motion-BIDS export (BIDS 1.9+ motion modality), so research tools can read a session.

One tracking system (`tracksys-imu`) whose tracked points are the sensor placements. The motion
file holds the synchronised frames: per placement ACCEL and GYRO (x, y, z, sensor frame, SI)
and ORNT (quat_w..quat_z, sensor→global; in standing balance the ones its stance measures read,
`recordings.derived.measured_angles`), one column per row of channels.tsv, no header,
'n/a' where a sensor had a gap. Events go to events.tsv with onsets relative to the first frame.
Written into a BIDS dataset folder (created if needed): dataset_description.json, README,
participants.tsv/.json, sub-<label>/sub-<label>_scans.tsv and sub-<label>/motion/*. Every column
beyond the standard ones is defined in a JSON sidecar (events: `label`, `value`, `source`;
participants: `stabmon_subject_id`); the tracked points' anatomical sites are the levels of
`tracked_point` in channels.json (`TrackedPoints` is not a `_motion.json` key).

Data missing from the recording are said where BIDS puts such things: each span of a sensor's
data that could not be read or never came is a `data_gap` event (onset, duration, and a label
naming the sensor, rows and cause; `recordings.bids_events`), and `_motion.json` lists every
such note, one line each, under `MissingDataDescription` (a key of stabmon's own; the validator
accepts it without a warning). A complete recording has neither.

The global frame is the earth frame (z up) with an arbitrary heading (6D fusion without a
magnetometer), so it has no `SpatialAxes`: that key maps x, y, z to forward/left/up letters,
which only z has here; the level's Description says so.

The official validator (`bids-validator-deno`, run by tests/recordings/test_bids_validator.py)
reports 0 errors. The warnings left when the caller gives no `DatasetInfo` are `EXPLAINED_WARNINGS`:
- NO_AUTHORS, TOO_FEW_AUTHORS (Authors), JSON_KEY_RECOMMENDED License, SIDECAR_KEY_RECOMMENDED
  InstitutionName/InstitutionAddress/InstitutionalDepartmentName: only the study knows them;
  pass them in `DatasetInfo` and they are written (and the warnings go).
- JSON_KEY_RECOMMENDED HEDVersion: no HED tags are used (the validator asks regardless).
- JSON_KEY_RECOMMENDED SourceDatasets: the source is the stabmon HDF5 recording, not a dataset
  with a URL or DOI (its file name stays out of the export: it is the subject's file).
- SIDECAR_KEY_RECOMMENDED Instructions: stabmon does not record what the patient was told;
  TaskDescription names the drill.
- SIDECAR_KEY_RECOMMENDED StimulusPresentation: drills present no stimuli on a screen or speaker
  (perturbations are events in events.tsv).
Orientation is a quaternion, so the frames have no `RotationOrder` (the legacy npm
`bids-validator` 1.15 rejects "n/a" there). That legacy validator, run by hand, then reports 0
errors and two warnings: NO_AUTHORS (above) and CUSTOM_COLUMN_WITHOUT_DESCRIPTION on
`*_motion.tsv`, because it reads the first data row as a header although Motion-BIDS motion
files have none (the schema validator reads them correctly).
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recordings import atomic, schema
from recordings.bids_events import EVENT_COLUMNS, event_rows
from recordings.conditions import session_label
from recordings.data_notes import data_notes
from recordings.derived import measured_angles
from recordings.reader import Recording
from sensors.errors import StabmonError
from sensors.processing.collector import SessionCollector
from sensors.processing.errors import ProcessingError
from sensors.processing.pipeline import AngleBlock
from sensors.samples import Frame

BIDS_VERSION = "1.10.0"
TRACKSYS = "imu"
#: Channel types of Motion-BIDS; the sidecar counts each (0 for the ones stabmon has none of).
CHANNEL_TYPES = ("ACCEL", "ANGACCEL", "GYRO", "JNTANG", "LATENCY", "MAGN", "MISC", "ORNT", "POS", "VEL")
#: (code, sub-code) of the validator warnings an export without `DatasetInfo` keeps (see above).
EXPLAINED_WARNINGS = frozenset(
    {
        ("NO_AUTHORS", "Authors"),
        ("TOO_FEW_AUTHORS", None),
        ("JSON_KEY_RECOMMENDED", "License"),
        ("JSON_KEY_RECOMMENDED", "HEDVersion"),
        ("JSON_KEY_RECOMMENDED", "SourceDatasets"),
        ("SIDECAR_KEY_RECOMMENDED", "InstitutionName"),
        ("SIDECAR_KEY_RECOMMENDED", "InstitutionAddress"),
        ("SIDECAR_KEY_RECOMMENDED", "InstitutionalDepartmentName"),
        ("SIDECAR_KEY_RECOMMENDED", "Instructions"),
        ("SIDECAR_KEY_RECOMMENDED", "StimulusPresentation"),
    }
)


@dataclass(frozen=True)
class DatasetInfo:
    """What only the study knows: written into dataset_description.json (authors, license; on
    the dataset's first export) and every motion sidecar (institution), when given."""

    authors: Sequence[str] = ()
    license: str | None = None
    institution_name: str | None = None
    institution_address: str | None = None
    department_name: str | None = None


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


def _write_tsv(batch: atomic.Batch, path: Path, header: list[str] | None, rows: list[list[str]]) -> None:
    with batch.replacing(path) as partial, partial.open("w", newline="", encoding="utf-8") as f:
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


def export_bids(
    recording: Recording,
    collector: SessionCollector,
    dataset_dir: Path,
    info: DatasetInfo | None = None,
) -> list[Path]:
    """Add the session (its replayed frames in `collector`) to the BIDS dataset at dataset_dir;
    returns the files written. A repeated task of a subject gets the next run number; the same
    recording exported again (same task and acquisition time in the subject's scans.tsv)
    replaces its run. BidsLabelError, before anything is written, when another subject id of the
    dataset has the same BIDS label (P-014 and P014 are both sub-P014). The session's files (and
    the dataset's, when it is new) are put in place together at the end: a failed export (a full
    disk) leaves none of them."""
    with atomic.together() as batch:
        return _add_session(batch, recording, collector, dataset_dir, info or DatasetInfo())


def _add_session(
    batch: atomic.Batch,
    recording: Recording,
    collector: SessionCollector,
    dataset_dir: Path,
    info: DatasetInfo,
) -> list[Path]:
    """`export_bids`, each file written into `batch`."""
    subject = bids_label(recording.subject_id)
    _check_label_is_free(dataset_dir, subject, recording.subject_id)
    frame = Frame.concatenate(collector.frames)
    angles = AngleBlock.concatenate(collector.blocks)
    with contextlib.suppress(ProcessingError):  # never calibrated: the session's (NaN) angles
        angles = measured_angles(recording.drill, collector.session_data())
    task = bids_label(session_label(recording.drill, recording.condition))
    motion_dir = dataset_dir / f"sub-{subject}" / "motion"
    batch.folder(motion_dir)
    scans = dataset_dir / f"sub-{subject}" / f"sub-{subject}_scans.tsv"
    created = str(recording.attributes["created_utc"]).split("+")[0]
    prefix = f"sub-{subject}_task-{task}_tracksys-{TRACKSYS}_run-"
    same = _exported_run(scans, prefix, created)
    run = same if same is not None else 1
    while same is None and any(motion_dir.glob(f"{prefix}{run}_*")):
        run += 1
    stem = f"{prefix}{run}"
    written = [
        _dataset_description(batch, dataset_dir, info),
        _readme(batch, dataset_dir),
        *_participants(batch, dataset_dir, subject, recording.subject_id),
    ]

    channels = _channels(recording)
    channels_path = motion_dir / f"{stem}_channels.tsv"
    _write_tsv(
        batch,
        channels_path,
        ["name", "component", "type", "tracked_point", "units", "reference_frame"],
        [[c.name, c.component, c.type, c.tracked_point, c.units, c.reference_frame] for c in channels],
    )
    channels_json = motion_dir / f"{stem}_channels.json"
    batch.write_text(channels_json, json.dumps(_channel_levels(recording), indent=2))
    motion_path = motion_dir / f"{stem}_motion.tsv"
    _write_tsv(batch, motion_path, None, _format(_motion_rows(frame, angles)))
    sidecar = motion_dir / f"{stem}_motion.json"
    batch.write_text(sidecar, json.dumps(_sidecar(recording, channels, frame, info), indent=2))
    events_path = motion_dir / f"{stem}_events.tsv"
    t0 = float(frame.time_s[0]) if len(frame) else 0.0
    _write_tsv(
        batch,
        events_path,
        ["onset", "duration", "trial_type", "label", "value", "source"],
        event_rows(recording, t0),
    )
    events_json = motion_dir / f"{stem}_events.json"
    batch.write_text(events_json, json.dumps(EVENT_COLUMNS, indent=2))
    if same is None:
        earlier = scans.read_text(encoding="utf-8") if scans.exists() else "filename\tacq_time\n"
        batch.write_text(scans, earlier + f"motion/{motion_path.name}\t{created}\n")
    return [*written, channels_path, channels_json, motion_path, sidecar, events_path, events_json, scans]


class BidsLabelError(StabmonError, ValueError):
    """Two subject ids that become the same BIDS label: their sessions would be mixed."""


def _check_label_is_free(dataset_dir: Path, label: str, subject_id: str) -> None:
    """Raise BidsLabelError when participants.tsv gives sub-`label` to another subject id."""
    path = dataset_dir / "participants.tsv"
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    for row in rows:
        if len(row) >= 2 and row[0] == f"sub-{label}" and row[1] != subject_id:
            raise BidsLabelError(
                f"subject ids {row[1]!r} (already in {path}) and {subject_id!r} both become the BIDS "
                f"label sub-{label} (letters and digits only); export them to separate datasets or "
                "give one subject another code"
            )


def _exported_run(scans: Path, prefix: str, created: str) -> int | None:
    """The run number under which the recording acquired at `created` was exported before (its
    row in scans.tsv: a motion file starting with `prefix`), None when it was not."""
    if not scans.exists():
        return None
    with scans.open(encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    for row in rows:
        name = row[0].removeprefix("motion/")
        if len(row) >= 2 and row[1] == created and name.startswith(prefix):
            run = name.removeprefix(prefix).split("_", 1)[0]
            if run.isdigit():
                return int(run)
    return None


_README = """# stabmon sessions (Motion-BIDS)

Wearable-IMU sessions exported by stabmon, an open stability monitor for low-back-pain
rehabilitation: inertial sensors on the lumbar spine (T12/L1) and the pelvis (S1/S2), optionally
thorax and thighs. Each `*_motion.tsv` holds the synchronised frames of one session (tracking
system `imu`): per sensor, specific force (ACCEL, m/s^2) and angular velocity (GYRO, rad/s) in
the sensor's own axes, and its orientation (ORNT, unit quaternion, sensor to earth frame with an
arbitrary heading). `n/a` marks samples where a sensor had a gap. Subject labels are
pseudonymous codes. The complete raw data (device clocks, host arrival times, sequence numbers)
stay in the stabmon HDF5 recordings.
"""


def _dataset_description(batch: atomic.Batch, dataset_dir: Path, info: DatasetInfo) -> Path:
    path = dataset_dir / "dataset_description.json"
    if not path.exists():
        description: dict[str, object] = {
            "Name": "stabmon sessions",
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw",
            "GeneratedBy": [{"Name": "stabmon", "Version": schema.app_version()}],
        }
        if info.authors:
            description["Authors"] = list(info.authors)
        if info.license:
            description["License"] = info.license
        batch.write_text(path, json.dumps(description, indent=2))
    return path


def _readme(batch: atomic.Batch, dataset_dir: Path) -> Path:
    path = dataset_dir / "README.md"
    if not path.exists() and not any(dataset_dir.glob("README*")):
        batch.write_text(path, _README)
    return path


def _participants(batch: atomic.Batch, dataset_dir: Path, label: str, subject_id: str) -> list[Path]:
    sidecar = dataset_dir / "participants.json"
    if not sidecar.exists():
        columns = {
            "stabmon_subject_id": {
                "Description": "the pseudonymous subject code in stabmon (the label keeps only its "
                "letters and digits)"
            }
        }
        batch.write_text(sidecar, json.dumps(columns, indent=2))
    return [_participants_table(batch, dataset_dir, label, subject_id), sidecar]


def _participants_table(batch: atomic.Batch, dataset_dir: Path, label: str, subject_id: str) -> Path:
    path = dataset_dir / "participants.tsv"
    rows: list[list[str]] = []
    if path.exists():
        with path.open(encoding="utf-8") as f:
            rows = [line.rstrip("\n").split("\t") for line in f][1:]
    if not any(row[0] == f"sub-{label}" for row in rows):
        rows.append([f"sub-{label}", subject_id])
    _write_tsv(batch, path, ["participant_id", "stabmon_subject_id"], rows)
    return path


def _channel_levels(recording: Recording) -> dict[str, object]:
    """channels.json: the tracked points' anatomical sites and the two reference frames."""
    return {
        "tracked_point": {
            "LongName": "tracked point",
            "Description": "where the sensor sits on the body",
            "Levels": {p.value: p.anatomical_site for p in recording.placements},
        },
        "reference_frame": {
            "LongName": "reference frame",
            "Levels": {
                "sensor": {
                    "Description": "the IMU's own axes (x, y, z as printed on the sensor); right-handed",
                    "RotationRule": "right-hand",
                },
                "global": {
                    "Description": "earth frame, right-handed, z up against gravity; x and y horizontal "
                    "with an arbitrary heading (6D fusion without a magnetometer), so no SpatialAxes. "
                    "Quaternions scalar first (w, x, y, z), rotating sensor to earth frame",
                    "RotationRule": "right-hand",
                },
            },
        },
    }


def _effective_rate(frame: Frame) -> float | str:
    """Frames per second of session time actually covered, Hz ('n/a' with fewer than 2 frames)."""
    if len(frame) < 2:
        return "n/a"
    return float((len(frame) - 1) / (frame.time_s[-1] - frame.time_s[0]))


#: The motion sidecar's key (BIDS allows keys of one's own) listing what is missing from the
#: recording, one line each (`recordings.data_notes`); absent for a complete recording.
MISSING_DATA_KEY = "MissingDataDescription"


def _sidecar(
    recording: Recording, channels: list[Channel], frame: Frame, info: DatasetInfo
) -> dict[str, object]:
    notes = data_notes(recording)
    rate = recording.settings.rate_hz
    frames = len(frame)
    identity = next(iter(recording.sensors.values()))
    counts = {f"{kind}ChannelCount": sum(c.type == kind for c in channels) for kind in CHANNEL_TYPES}
    institution = {
        "InstitutionName": info.institution_name,
        "InstitutionAddress": info.institution_address,
        "InstitutionalDepartmentName": info.department_name,
    }
    return {
        "TaskName": session_label(recording.drill, recording.condition),
        "TaskDescription": f"stabmon drill {recording.drill}; condition: {recording.condition.label}",
        "SamplingFrequency": rate,
        "SamplingFrequencyEffective": _effective_rate(frame),
        "TrackingSystemName": "stabmon wearable IMUs",
        "Manufacturer": identity.family.value,
        "ManufacturersModelName": identity.model,
        "DeviceSerialNumber": ", ".join(f"{p.value}: {s.serial}" for p, s in recording.sensors.items()),
        "SoftwareVersions": f"stabmon {schema.app_version()}",
        "RecordingDuration": frames / rate,
        "RecordingType": "continuous",
        "MissingValues": "n/a",
        "TrackedPointsCount": len(recording.placements),
        "MotionChannelCount": len(channels),
        **counts,
        "SubjectArtefactDescription": "n/a",
        **{key: value for key, value in institution.items() if value},
        **({MISSING_DATA_KEY: notes} if notes else {}),
    }
