"""Session recordings: HDF5 schema, crash-safe writer, reader.

Imports `sensors` and `sensors.processing`, never bleak, bumble or Qt.
"""

from typing import TYPE_CHECKING, Any

from recordings.errors import (
    ForeignFileError,
    NewerSchemaError,
    NotARecordingError,
    RecordingError,
    RecordingNotFoundError,
)
from recordings.reader import Recording, read_recording
from recordings.schema import SCHEMA_VERSION, session_file_name

if TYPE_CHECKING:
    from recordings.file_layout import SessionMetadata
    from recordings.sink import RecordingSink
    from recordings.writer import RecordingWriter

#: Imported when first asked for: reading and analysing a recording never loads the writer.
_WRITING = {
    "RecordingSink": "recordings.sink",
    "RecordingWriter": "recordings.writer",
    "SessionMetadata": "recordings.file_layout",
}


def __getattr__(name: str) -> Any:
    if name in _WRITING:
        import importlib

        return getattr(importlib.import_module(_WRITING[name]), name)
    raise AttributeError(f"module 'recordings' has no attribute {name!r}")


__all__ = [
    "SCHEMA_VERSION",
    "ForeignFileError",
    "NewerSchemaError",
    "NotARecordingError",
    "Recording",
    "RecordingError",
    "RecordingNotFoundError",
    "RecordingSink",
    "RecordingWriter",
    "SessionMetadata",
    "read_recording",
    "session_file_name",
]
