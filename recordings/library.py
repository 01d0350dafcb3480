"""The session library: every subject's recordings in one data folder, listed and found again.

Layout: `<data dir>/sub-<subject>/sub-<subject>_<drill>[-<condition>]_<UTC>.h5`. Listing reads
only each file's root attributes, so it stays fast with hundreds of sessions, and a damaged or crashed file is
listed with its problem instead of stopping the listing. Only `*.h5` files are listed (never a
consolidation's `.consolidating` copy); listing first removes the copies killed consolidations left.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from recordings import schema
from recordings.conditions import Condition, recording_condition, session_label
from recordings.errors import RecordingError
from recordings.file_access import check_schema, open_recording, root_attributes
from recordings.stale_copies import sweep

log = logging.getLogger(__name__)


_NEVER = datetime.min.replace(tzinfo=UTC)


def _utc(text: str) -> datetime:
    """An ISO 8601 time as an aware UTC datetime (a time without zone is taken as UTC)."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def default_data_dir() -> Path:
    """The platform's per-user data folder for stabmon (e.g. ~/.local/share/stabmon on Linux)."""
    return Path(platformdirs.user_data_dir("stabmon", appauthor=False))


@dataclass(frozen=True)
class SessionEntry:
    """One file in the library. `problem` is empty for a sound recording; otherwise the session
    fields may be blank and the problem says why (e.g. left open by a crash: run `stabmon recover`)."""

    path: Path
    subject_id: str
    drill: str
    created_utc: datetime | None
    duration_s: float
    operator_notes: str = ""
    problem: str = ""
    condition: Condition | None = None
    #: The file's protocol settings (protocol_json): for a protocol's recordings its key, the
    #: repetition and the run (`recordings.visit_runs`).
    protocol: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Drill plus condition, as file names and listings show it."""
        return session_label(self.drill, self.condition) if self.condition else self.drill


def misfiled(path: Path, folder_subject: str, subject: str, drill: str) -> str:
    """Why a recording of `subject` does not belong in sub-`folder_subject`/ ("" if it does): a
    file copied or moved by hand. Such a file is listed with this problem in the folder's
    listing, and never used as either subject's baseline or history."""
    if subject == folder_subject:
        return ""
    return (
        f"holds subject {subject}'s {drill} recording, not {folder_subject}'s: move it to "
        f"sub-{subject}/; until then no baseline or trend uses it"
    )


class SessionLibrary:
    """Recordings under `root`, one folder per subject."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_data_dir()

    def path_for(
        self, subject_id: str, drill: str, created_utc: datetime, condition: Condition | None = None
    ) -> Path:
        """Where a new session of this subject goes (the folder is created when written)."""
        token = condition.file_token if condition else ""
        name = schema.session_file_name(subject_id, drill, created_utc, token)
        return self.root / f"sub-{schema.check_subject_id(subject_id)}" / name

    def sessions(
        self, subject_id: str | None = None, drill: str | None = None, condition: Condition | None = None
    ) -> list[SessionEntry]:
        """Sessions, oldest first, optionally of one subject, drill and/or condition (a file with a
        problem is listed whatever its drill, so it is seen)."""
        if subject_id is not None:
            schema.check_stored_subject_id(subject_id)
        self.sweep()
        entries = [self._entry(path) for path in self._files(subject_id)]
        entries = [
            e
            for e in entries
            if (subject_id is None or e.subject_id == subject_id or e.problem)
            and (drill is None or e.drill == drill)
            and (condition is None or e.condition == condition)
        ]
        return sorted(entries, key=lambda e: (e.subject_id, e.created_utc or _NEVER, e.path.name))

    def sweep(self) -> None:
        """Remove the copies consolidations that were killed left in the subjects' folders
        (`recordings.stale_copies`: never one a consolidation is still writing)."""
        if self.root.is_dir():
            for folder in self.root.glob("sub-*"):
                if folder.is_dir():
                    sweep(folder)

    def baseline(
        self, subject_id: str, drill: str, condition: Condition | None = None
    ) -> SessionEntry | None:
        """The subject's first sound session of this drill in this condition: what later re-tests
        are judged against (None: any condition, for callers that check it themselves)."""
        sound = [e for e in self.sessions(subject_id, drill, condition) if not e.problem]
        return sound[0] if sound else None

    def _files(self, subject_id: str | None) -> Iterator[Path]:
        if not self.root.is_dir():
            return iter(())
        pattern = f"sub-{subject_id}/*.h5" if subject_id else "sub-*/*.h5"
        return self.root.glob(pattern)

    def _entry(self, path: Path) -> SessionEntry:
        """One file's entry; any way the file is bad becomes its `problem`, never an exception."""
        subject = path.parent.name.removeprefix("sub-")
        try:
            f, left_open = open_recording(path)
        except RecordingError as error:
            return SessionEntry(path, subject, "", None, 0.0, problem=error.problem)
        if left_open:
            f.close()
            return SessionEntry(path, subject, "", None, 0.0, problem="left open by a crash: stabmon recover")
        try:
            with f:
                attributes = root_attributes(path, f)
                check_schema(path, attributes)
                needed = ("subject_id", "drill", "created_utc", "rate_hz")
                missing = [k for k in needed if k not in attributes]
                if missing:
                    raise RecordingError(path, f"root attribute {missing[0]!r} is missing")
                rate_hz = float(attributes["rate_hz"])
                if not (math.isfinite(rate_hz) and rate_hz > 0):
                    raise RecordingError(path, f"root attribute rate_hz is {rate_hz}, not a positive rate")
                drill = schema.decode_text(attributes["drill"])
                protocol = json.loads(schema.decode_text(attributes.get("protocol_json", "{}")))
                frames = f[f"{schema.PROCESSING}/time_s"]
                inside = schema.decode_text(attributes["subject_id"])
                return SessionEntry(
                    path,
                    inside,
                    drill,
                    _utc(schema.decode_text(attributes["created_utc"])),
                    float(frames.shape[0] / rate_hz),
                    schema.decode_text(attributes.get("operator_notes", "")),
                    problem=misfiled(path, subject, inside, drill),
                    condition=recording_condition(drill, attributes, protocol),
                    protocol=protocol if isinstance(protocol, dict) else {},
                )
        except RecordingError as error:
            return SessionEntry(path, subject, "", None, 0.0, problem=error.problem)
        except (KeyError, IndexError, OSError, RuntimeError, ValueError, TypeError, AttributeError) as error:
            text = " ".join(str(error).split())[:160]
            return SessionEntry(path, subject, "", None, 0.0, problem=f"incomplete or damaged: {text}")
