"""Errors raised when writing or reading recordings. Each names the file and what was wrong."""

from pathlib import Path

from sensors.errors import StabmonError


class RecordingError(StabmonError):
    """Base class of every recordings error."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class RecordingNotFoundError(RecordingError, FileNotFoundError):
    """No file at the given path."""


class NotARecordingError(RecordingError):
    """The file is not HDF5 at all, or is truncated or corrupt."""


class RecordingPermissionError(RecordingError, PermissionError):
    """The file exists but this user may not read (or write) it."""


class ForeignFileError(RecordingError):
    """An HDF5 file, but not one written by stabmon (no schema version)."""


class NewerSchemaError(RecordingError):
    """Written by a newer stabmon with a schema this version cannot read."""


class InvalidSubjectIdError(StabmonError, ValueError):
    """A subject id that is not a safe pseudonym token."""
