"""Open and validate a session file, and load it into memory as typed arrays."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from recordings.chunk_damage import DamagedRows, damaged_datasets
from recordings.conditions import Condition, recording_condition
from recordings.errors import NotARecordingError, RecordingError
from recordings.file_access import check_schema, open_recording, open_recording_file, root_attributes
from recordings.load import ArrivalLog, ProcessedAngles, load_recording
from sensors.events import Event, EventKind
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.processing.session import SessionSettings
from sensors.samples import SampleBlock

__all__ = [
    "ArrivalLog",
    "ProcessedAngles",
    "Recording",
    "check_schema",
    "open_recording_file",
    "read_recording",
]


#: A recording this much (s) shorter than planned, without a task end, ended early.
ENDED_EARLY_MARGIN_S = 1.0


@dataclass(frozen=True)
class Recording:
    """A whole session file in memory. `migrated_from` names the schema version the file was
    written in when it was older than this reader's (its missing parts were rebuilt in memory).
    `problems` says, one line each, what of a damaged or inconsistent file was left out or
    assumed (empty for a sound file); `left_open`: the file was not closed properly (a writer
    still running or a crash; `stabmon recover` closes it). frame_time_s (m,) is the frame grid
    of /processing; stored_processing the angles as stored, None when the file does not hold them
    (the default since schema 0.3.0: `processing` then replays the raw data, once, on first use).
    counters: per placement the sequence counters as rows (`counters[a:b]`) when the samples were
    left out (`read_recording(raw=False)`), read once while checking them; else empty."""

    path: Path
    attributes: dict[str, Any]
    sensors: dict[Placement, SensorIdentity]
    samples: dict[Placement, SampleBlock]
    session_time_s: dict[Placement, np.ndarray]
    lost_before: dict[Placement, np.ndarray]
    events: tuple[Event, ...]
    calibration_mount_q: dict[Placement, np.ndarray]
    calibration_time_s: float
    frame_time_s: np.ndarray
    stored_processing: ProcessedAngles | None
    arrival: ArrivalLog
    settings: SessionSettings
    migrated_from: str | None = None
    problems: tuple[str, ...] = ()
    left_open: bool = False
    counters: Mapping[Placement, Any] = field(default_factory=dict)
    #: Rows of chunks that cannot be read (each also a line in `problems`): raw rows left out as a
    #: gap, frame times taken from the uniform grid.
    damaged: tuple[DamagedRows, ...] = ()

    @property
    def placements(self) -> tuple[Placement, ...]:
        return tuple(Placement(p) for p in self.attributes["placements"])

    @property
    def protocol(self) -> dict[str, Any]:
        return json.loads(self.attributes.get("protocol_json", "{}"))

    @property
    def condition(self) -> Condition:
        """Drill condition (task, vision, surface, side); derived for files older than 0.3."""
        try:
            return recording_condition(self.drill, self.attributes, self.protocol)
        except ValueError as error:  # a bad attribute, or bad protocol JSON
            raise NotARecordingError(self.path, f"unreadable drill condition: {error}") from None

    @property
    def subject_id(self) -> str:
        return str(self.attributes["subject_id"])

    @property
    def drill(self) -> str:
        return str(self.attributes["drill"])

    @property
    def duration_s(self) -> float:
        """Session time covered by the synchronised frames, s (0 when there are none)."""
        t = self.frame_time_s
        return float(t[-1] - t[0] + 1.0 / self.settings.rate_hz) if len(t) else 0.0

    @property
    def planned_s(self) -> float | None:
        """The planned length, s: the settings' duration_s (`stabmon record`), else the protocol
        run's planned_s (the dashboard's, whose runner is ended by the protocol); None if neither."""
        if self.settings.duration_s is not None:
            return self.settings.duration_s
        planned = self.protocol.get("planned_s")
        return float(planned) if isinstance(planned, int | float) and not isinstance(planned, bool) else None

    @property
    def ended_early(self) -> str:
        """What cut the recording short, one line: it covers less than its planned length (the
        settings' duration_s, less ENDED_EARLY_MARGIN_S) and no task end was marked, as when the
        recorder was stopped or killed; "" for a recording that ran its course."""
        planned = self.planned_s
        if planned is None or any(e.kind is EventKind.TASK_END for e in self.events):
            return ""
        t = self.frame_time_s
        recorded = float(t[-1] + 1.0 / self.settings.rate_hz) if len(t) else 0.0
        if recorded >= planned - ENDED_EARLY_MARGIN_S:
            return ""
        return (
            f"ended early: {recorded:.1f} s of the {planned:.0f} s planned were recorded and the task's "
            "end was never marked (the recorder stopped); the measures cover only that part"
        )

    @cached_property
    def processing(self) -> ProcessedAngles:
        """/processing: as stored, or recomputed by a replay (bit for bit what the live session
        computed) when the file holds only the frame grid."""
        if self.stored_processing is not None:
            return self.stored_processing
        from recordings.derived import replayed_processing  # it imports this module

        return replayed_processing(self)


def read_recording(path: Path | str, derived: bool = True, raw: bool = True) -> Recording:
    """Load and check the recording at `path`; raises a `RecordingError` subclass naming the file
    when it cannot be used at all, and lists in `Recording.problems` what it had to leave out.
    derived=False leaves out the stored /processing angles, if the file has them (a replay
    computes them again): only the frame times are read. raw=False leaves out the raw samples of
    a sound current-schema file (`samples`, `session_time_s` and `lost_before` are then empty),
    for a reader that takes them from the file a window at a time; a file whose counters need
    repair is read whole all the same."""
    path = Path(path)
    f, left_open = open_recording(path)
    with f:
        attributes = root_attributes(path, f)
        check_schema(path, attributes)
        try:
            return Recording(**load_recording(path, f, attributes, left_open, derived, raw))
        except RecordingError:
            raise
        except MemoryError:
            raise NotARecordingError(path, "a dataset is too large to read (damaged sizes?)") from None
        except (KeyError, IndexError, OSError, RuntimeError, ValueError, TypeError, AttributeError) as error:
            # h5py and numpy fail in many ways on a damaged file; each is this file's problem.
            text = " ".join(str(error).split())[:200]
            damage = _damage_of(f) if isinstance(error, OSError) else []
            if damage:  # a damaged chunk where nothing can be left out: say which, and when
                more = f" and {len(damage) - 1} more" if len(damage) > 1 else ""
                problem = f"{damage[0].describe()}{more} (a damaged chunk)"
                raise NotARecordingError(
                    path, f"{problem}: the recording cannot be read without it"
                ) from None
            raise NotARecordingError(
                path, f"recording is incomplete or damaged ({type(error).__name__}: {text})"
            ) from None


def _damage_of(f: h5py.File) -> list[DamagedRows]:
    """The file's chunks that cannot be read, or none when even looking for them fails."""
    try:
        return damaged_datasets(f)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError):
        return []
