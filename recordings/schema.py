"""Names, versions and conventions of the HDF5 session file (documented in SCHEMA.md)."""

from __future__ import annotations

import re
from datetime import datetime
from importlib import metadata

from recordings.errors import InvalidSubjectIdError

#: Semantic version of the file layout. Readers accept the same major version.
SCHEMA_VERSION = "0.1.0"

ACQUISITION = "acquisition"
CALIBRATION = "calibration"
EVENTS = "events"
PROCESSING = "processing"

#: Raw per-sample datasets under /acquisition/<placement>/: name → (per-row shape, dtype, unit).
RAW_DATASETS: dict[str, tuple[tuple[int, ...], str, str]] = {
    "device_time_s": ((), "f8", "s"),
    "acc_m_s2": ((3,), "f8", "m/s^2"),
    "gyr_rad_s": ((3,), "f8", "rad/s"),
    "sequence": ((), "i8", "1"),
    "host_receive_ns": ((), "i8", "ns"),
    "session_time_s": ((), "f8", "s"),
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

_SUBJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")


def app_version() -> str:
    """Installed stabmon version, or '0+unknown' when running from a bare source tree."""
    try:
        return metadata.version("stabmon")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def check_subject_id(subject_id: str) -> str:
    """Return the id if it is a pseudonym token (letters, digits, '-', ≤ 32 chars), else raise."""
    if not _SUBJECT_ID.match(subject_id):
        raise InvalidSubjectIdError(
            f"subject id {subject_id!r} must be a pseudonymous code of letters, digits and '-' "
            "(at most 32 characters), never a name"
        )
    return subject_id


def session_file_name(subject_id: str, drill: str, created: datetime) -> str:
    """File name for a session: sub-<id>_<drill>_<UTC time>.h5 (no personal data)."""
    stamp = created.strftime("%Y%m%dT%H%M%S") + f"{created.microsecond // 1000:03d}Z"
    return f"sub-{check_subject_id(subject_id)}_{drill}_{stamp}.h5"


def schema_major(version: str) -> int:
    """Major part of a semantic version string."""
    return int(version.split(".")[0])
