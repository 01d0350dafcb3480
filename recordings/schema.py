"""Names, versions and conventions of the HDF5 session file (documented in SCHEMA.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np

from recordings.errors import InvalidSubjectIdError

#: Semantic version of the file layout. Readers accept the same major version.
SCHEMA_VERSION = "0.3.0"

#: HDF5 file-format bounds (h5py `libver`) of every file stabmon writes: the 1.10 format, the
#: oldest with SWMR, so HDF5 1.10 and later (h5dump, MATLAB, HDFView, older h5py) read the files.
#: "latest" would follow the bundled library (HDF5 2.0 in h5py 3.16), whose layout messages
#: HDF5 1.10-1.14 refuse ("bad version number for layout message").
FILE_FORMAT = ("v110", "v110")

ACQUISITION = "acquisition"
CALIBRATION = "calibration"
EVENTS = "events"
PROCESSING = "processing"
#: Group under /acquisition holding the arrival log and the host clock origin.
ARRIVAL = "arrival"
#: The rescue file of a recording whose writer had a write fail is `<stem>` + this.
RESCUE_SUFFIX = ".rescue.h5"

#: Raw per-sample datasets under /acquisition/<placement>/: name → (per-row shape, dtype, unit).
RAW_DATASETS: dict[str, tuple[tuple[int, ...], str, str]] = {
    "device_time_s": ((), "f8", "s"),
    "acc_m_s2": ((3,), "f8", "m/s^2"),
    "gyr_rad_s": ((3,), "f8", "rad/s"),
    "sequence": ((), "i8", "1"),
    "host_receive_ns": ((), "i8", "ns"),
    "session_time_s": ((), "f8", "s"),
    "lost_before": ((), "i4", "1"),
}

#: Arrival log under /acquisition/arrival/: one row per block as the session runner received it,
#: in arrival order across sensors, so a replay reproduces the live session exactly.
ARRIVAL_DATASETS: dict[str, tuple[str, str]] = {
    "placement_index": ("u1", "1"),
    "rows": ("i4", "1"),
}


#: /processing datasets every file holds: the frame grid and its gap flags (cheap: 1.6 MB/h at
#: 100 Hz), so the length and gaps of a session are known without a replay.
FRAME_DATASETS = ("time_s", "valid")
#: /processing attribute: whether the angle datasets (the rest of `processing_datasets`) are
#: stored. They are not by default (since 0.3.0): they are 56 % of a file's size, every analysis
#: recomputes them by replay, and the replay gives the live values bit for bit.
ANGLES_STORED = "angles_stored"


#: Derived datasets under /processing/: name → (per-row shape given p placements, dtype, unit).
def processing_datasets(p: int) -> dict[str, tuple[tuple[int, ...], str, str]]:
    """Per-row shapes of /processing datasets for p placements."""
    return {
        "time_s": ((), "f8", "s"),
        "valid": ((p,), "bool", "1"),
        "orientation": ((p, 4), "f8", "1"),
        "inclination_rad": ((p, 2), "f8", "rad"),
        "axial_rad": ((p,), "f8", "rad"),
        "angular_velocity_rad_s": ((p, 3), "f8", "rad/s"),
        "lumbar_rad": ((3,), "f8", "rad"),
    }


#: Event datasets under /events/: name → (dtype, unit).
EVENT_TEXT_BYTES = 256
EVENT_DATASETS: dict[str, tuple[str, str]] = {
    "time_s": ("f8", "s"),
    "kind": ("text", ""),
    "label": ("text", ""),
    "value": ("f8", ""),
    "source": ("text", ""),
}

#: A subject id safe in a file name: letters, digits and '-', at most 32 characters.
_SUBJECT_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}")
#: A drill name as it may appear in a file name: lower-case words joined by '-', nothing else.
_DRILL = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def app_version() -> str:
    """Installed stabmon version, or '0+unknown' when running from a bare source tree."""
    from importlib import metadata  # ~20 ms to import: only writers need it

    try:
        return metadata.version("stabmon")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def check_subject_id(subject_id: str) -> str:
    """Return the id if it is a pseudonymous code — letters, digits and '-', at most 32
    characters, with at least one digit (P-014, C01) — else raise InvalidSubjectIdError. The one
    check of every id a user gives (command line, dashboard) and every new recording: a word with
    no digit ("maria", "JohnSmith") is likely a name and is refused."""
    if (
        not isinstance(subject_id, str)
        or not _SUBJECT_TOKEN.fullmatch(subject_id)
        or not any(c.isdigit() for c in subject_id)
    ):
        raise InvalidSubjectIdError(
            f"subject id {subject_id!r} must be a pseudonymous code such as P-014: letters, digits "
            "and '-', at least one digit, at most 32 characters; never a name"
        )
    return subject_id


def check_stored_subject_id(subject_id: str) -> str:
    """Return a subject id read from an existing file if it is safe in a file name (letters,
    digits, '-', ≤ 32 characters), else raise InvalidSubjectIdError. Files written before codes
    needed a digit stay readable; new ids go through `check_subject_id`."""
    if not isinstance(subject_id, str) or not _SUBJECT_TOKEN.fullmatch(subject_id):
        raise InvalidSubjectIdError(
            f"subject id {subject_id!r} is not letters, digits and '-' (at most 32 characters)"
        )
    return subject_id


def check_drill_name(drill: str) -> str:
    """Return the drill name if it is safe inside a file name (lower-case letters, digits, '-';
    no path separators or dots), else raise ValueError. Which drills exist is checked where the
    drill is chosen (`sensors.simulator.DRILL_NAMES`)."""
    if not isinstance(drill, str) or not _DRILL.fullmatch(drill):
        raise ValueError(f"drill {drill!r} is not a drill name (lower-case letters, digits and '-' only)")
    return drill


def session_file_name(subject_id: str, drill: str, created: datetime, condition: str = "") -> str:
    """File name for a session: sub-<id>_<drill>[-<condition>]_<UTC time>.h5 (no personal data);
    `condition` is `Condition.file_token` ('' for single task, 'dual-stroop', ...); raises on a
    subject id, drill or condition that could not safely be part of a file name."""
    check_drill_name(drill)
    if condition:
        check_drill_name(condition)
    stamp = created.strftime("%Y%m%dT%H%M%S") + f"{created.microsecond // 1000:03d}Z"
    label = "-".join(p for p in (drill, condition) if p)
    return f"sub-{check_subject_id(subject_id)}_{label}_{stamp}.h5"


_SESSION_FILE_NAME = re.compile(r"sub-(?P<subject>[^_]+)_(?P<label>[a-z0-9-]+)_(?P<stamp>\d{8}T\d{9})Z\.h5")


def parse_session_file_name(name: str) -> tuple[str, str, datetime] | None:
    """What a `session_file_name` says: (subject id, label: the drill[-condition], UTC time to the
    millisecond); None for a name it cannot have made (another shape, or a stamp that is no time)."""
    match = _SESSION_FILE_NAME.fullmatch(name)
    if match is None:
        return None
    try:
        when = datetime.strptime(match["stamp"], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
    except ValueError:  # the shape of a stabmon name, not a time (a damaged or hand-made name)
        return None
    return match["subject"], match["label"], when


#: The largest `lost_before` value (int32).
LOST_BEFORE_MAX = np.iinfo(np.int32).max


#: Counters up to this many samples are checked for a gap in Python before numpy is asked.
_SHORT_BLOCK = 16


def lost_before(sequence: np.ndarray, previous: int | None = None) -> np.ndarray:
    """The `lost_before` dataset: samples lost just before each sample (n,) int32, from the device
    counter (n,); `previous` is the counter of the sample before these (None: none known). A jump
    beyond int32 saturates at LOST_BEFORE_MAX rather than wrapping (the link bounds real losses
    by time long before that)."""
    sequence = np.asarray(sequence, dtype=np.int64)
    if len(sequence) == 0:
        return np.zeros(0, dtype=np.int32)
    first = sequence[0] - 1 if previous is None else previous
    if len(sequence) <= _SHORT_BLOCK:  # a notification's few samples, mostly none lost: sooner in Python
        counters = sequence.tolist()
        if all(b - a == 1 for a, b in zip([int(first), *counters], counters, strict=False)):
            return np.zeros(len(sequence), dtype=np.int32)
    with np.errstate(over="ignore"):
        steps = np.diff(sequence, prepend=np.int64(first))  # exact, but wraps past int64
    rough = np.diff(sequence.astype(np.float64), prepend=float(first))  # never wraps
    steps = np.where(np.abs(rough) > 2.0**62, np.sign(rough) * 2.0**62, steps)
    return np.clip(steps - 1, 0, LOST_BEFORE_MAX).astype(np.int32)


def decode_text(value: object) -> str:
    """An HDF5 string attribute or element as str (h5py gives bytes for fixed-size strings)."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def parse_version(version: str) -> tuple[int, int, int]:
    """(major, minor, patch) of a semantic version string; ValueError if it is not one."""
    parts = version.split(".")
    if len(parts) != 3:
        raise ValueError(f"{version!r} is not a semantic version")
    major, minor, patch = (int(x) for x in parts)
    return major, minor, patch


def schema_major(version: str) -> int:
    """Major part of a semantic version string."""
    return parse_version(version)[0]
