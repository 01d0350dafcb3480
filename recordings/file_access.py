"""Opening a session file and checking its root, with an error that names the file for every way
a file can be unusable (missing, a folder, unreadable, not HDF5, truncated, damaged, foreign)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from recordings import schema
from recordings.errors import (
    ForeignFileError,
    NewerSchemaError,
    NotARecordingError,
    RecordingNotFoundError,
    RecordingPermissionError,
)

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: What HDF5 says about a file a writer has open, or left open in a crash.
LEFT_OPEN = "already open for write"


def check_readable(path: Path) -> None:
    """Raise a specific RecordingError unless `path` is a file this process may read."""
    try:
        with open(path, "rb") as f:
            f.read(1)
    except FileNotFoundError:
        raise RecordingNotFoundError(path, "no such file") from None
    except IsADirectoryError:
        raise NotARecordingError(path, "is a folder, not a recording file") from None
    except PermissionError:
        raise RecordingPermissionError(path, "no permission to read this file") from None
    except OSError as error:
        if error.errno == errno.EISDIR:
            raise NotARecordingError(path, "is a folder, not a recording file") from None
        raise NotARecordingError(path, f"cannot read the file ({error.strerror or error})") from None


def _has_signature(path: Path) -> bool:
    """HDF5's signature at offset 0 (or 512, 1024, … as HDF5 allows a user block)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        offset = 0
        while offset + 8 <= size:
            f.seek(offset)
            if f.read(8) == _HDF5_SIGNATURE:
                return True
            offset = 512 if offset == 0 else offset * 2
    return False


def open_recording(path: Path) -> tuple[h5py.File, bool]:
    """(open file, left_open). A plain open checks the stored length, so truncation fails fast (an
    SWMR reader would retry unreadable metadata for long); a file a writer has open, or left
    open in a crash, is then opened as an SWMR reader and `left_open` is True."""
    check_readable(path)
    if not _has_signature(path):
        raise NotARecordingError(path, "not an HDF5 file (wrong file, or truncated before its header)")
    try:
        return h5py.File(path, "r"), False
    except (OSError, RuntimeError, ValueError) as error:
        text = str(error)
        if "truncated" in text:
            raise NotARecordingError(
                path, "HDF5 file is truncated (cut short while copying or saving)"
            ) from None
        if LEFT_OPEN not in text:
            raise NotARecordingError(path, f"HDF5 file is damaged ({_short(text)})") from None
    try:
        return h5py.File(path, "r", swmr=True), True
    except (OSError, RuntimeError, ValueError) as error:
        raise NotARecordingError(path, f"HDF5 file is damaged ({_short(str(error))})") from None


def open_recording_file(path: Path) -> h5py.File:
    """The file opened for reading (see `open_recording`)."""
    return open_recording(path)[0]


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def root_attributes(path: Path, f: h5py.File) -> dict[str, Any]:
    """The root attributes as plain Python values (text decoded, arrays as lists)."""
    try:
        items = list(f.attrs.items())
    except (OSError, RuntimeError, ValueError, TypeError, KeyError) as error:
        raise NotARecordingError(path, f"root attributes cannot be read ({_short(str(error))})") from None
    attributes: dict[str, Any] = {}
    for key, value in items:
        if isinstance(value, np.ndarray):
            value = [schema.decode_text(x) if isinstance(x, bytes | str) else x for x in value.tolist()]
        elif isinstance(value, bytes):
            value = schema.decode_text(value)
        attributes[key] = value
    return attributes


def check_schema(path: Path, attributes: dict[str, Any]) -> None:
    """Raise a specific error if these root attributes are not a readable stabmon recording."""
    version = attributes.get("schema_version")
    if version is None:
        raise ForeignFileError(path, "HDF5 file without a stabmon schema_version: written by another program")
    try:
        major = schema.schema_major(schema.decode_text(version))
    except (ValueError, TypeError, AttributeError):
        raise ForeignFileError(path, f"schema_version {version!r} is not a version number") from None
    if major > schema.schema_major(schema.SCHEMA_VERSION):
        raise NewerSchemaError(
            path,
            f"schema {version} is newer than this stabmon reads ({schema.SCHEMA_VERSION}); update stabmon",
        )
