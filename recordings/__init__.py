"""Session recordings: HDF5 schema, crash-safe writer, reader.

Imports `sensors` and `sensors.processing`, never bleak, bumble or Qt. Importing the package
itself imports nothing (not even numpy or h5py): each name below is imported from its module when
first asked for, so a light command (`stabmon --help`, which sets the heap policy from
`recordings.c_heap_policy`) stays light and reading a recording never loads the writer.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recordings.errors import (
        ForeignFileError,
        NewerSchemaError,
        NotARecordingError,
        RecordingError,
        RecordingNotFoundError,
    )
    from recordings.file_layout import SessionMetadata
    from recordings.reader import Recording, read_recording
    from recordings.schema import SCHEMA_VERSION, session_file_name
    from recordings.sink import RecordingSink
    from recordings.writer import RecordingWriter

#: Where each of the package's names lives.
_LAZY = {
    "ForeignFileError": "recordings.errors",
    "NewerSchemaError": "recordings.errors",
    "NotARecordingError": "recordings.errors",
    "RecordingError": "recordings.errors",
    "RecordingNotFoundError": "recordings.errors",
    "Recording": "recordings.reader",
    "read_recording": "recordings.reader",
    "SCHEMA_VERSION": "recordings.schema",
    "session_file_name": "recordings.schema",
    "RecordingSink": "recordings.sink",
    "RecordingWriter": "recordings.writer",
    "SessionMetadata": "recordings.file_layout",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
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
