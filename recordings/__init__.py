"""Session recordings: HDF5 schema, crash-safe writer, reader.

Imports `sensors` and `sensors.processing`, never bleak, bumble or Qt.
"""

from recordings.errors import (
    ForeignFileError,
    NewerSchemaError,
    NotARecordingError,
    RecordingError,
    RecordingNotFoundError,
)
from recordings.reader import Recording, read_recording
from recordings.schema import SCHEMA_VERSION, session_file_name
from recordings.sink import RecordingSink
from recordings.writer import RecordingWriter, SessionMetadata

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
