"""Recordings moved in time, as if made at another moment: a file's start time lives in its root
attribute `created_utc` and in its name (`recordings.schema.session_file_name`)."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import h5py

from recordings.schema import decode_text, session_file_name


def redate(path: Path, when: datetime) -> Path:
    """Move the library recording at `path` to start at `when` (aware); returns its new path."""
    with h5py.File(path, "r+") as f:
        f.attrs["created_utc"] = when.isoformat()
        subject, drill = decode_text(f.attrs["subject_id"]), decode_text(f.attrs["drill"])
        token = path.name.removeprefix(f"sub-{subject}_{drill}").rsplit("_", 1)[0].removeprefix("-")
    moved = path.with_name(session_file_name(subject, drill, when, token))
    path.rename(moved)
    return moved


def shifted_copy(path: Path, copy: Path, shift: timedelta) -> Path:
    """A copy of the recording at `path` at `copy`, as if recorded `shift` later (earlier when
    negative): another session for `compare`, which refuses one recording (or a copy) twice."""
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, copy)
    with h5py.File(copy, "r+") as f:
        created = datetime.fromisoformat(decode_text(f.attrs["created_utc"]).replace("Z", "+00:00"))
        f.attrs["created_utc"] = (created + shift).isoformat()
    return copy
