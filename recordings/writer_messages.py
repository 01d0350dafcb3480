"""What the recording writer's thread is sent: one typed message per kind of data, queued by the
producer side (`RecordingWriter.append_samples` etc.) and turned into rows on the writer thread."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from sensors.events import Event
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.pipeline import AngleBlock
from sensors.samples import Frame, SampleBlock


@dataclass(frozen=True)
class HostOrigin:
    """The host monotonic time (ns) that session time 0 corresponds to."""

    host_origin_ns: int


@dataclass(frozen=True)
class RawSamples:
    """A decoded block of one sensor with its session times (n,) s."""

    block: SampleBlock
    session_time_s: np.ndarray


@dataclass(frozen=True)
class FrameRows:
    """A synchronised frame's times (n,) s and gap flags (n, p), and the angles computed from it
    (None when the file does not store them: `SessionMetadata.store_angles`)."""

    time_s: np.ndarray
    valid: np.ndarray
    angles: AngleBlock | None


@dataclass(frozen=True)
class EventRow:
    """One event (mark, annotation, pain rating, …)."""

    event: Event


@dataclass(frozen=True)
class CalibrationResult:
    """The sensor-to-segment calibration of the session."""

    calibration: SegmentCalibration


WriterMessage = HostOrigin | RawSamples | FrameRows | EventRow | CalibrationResult


class SessionWriter(Protocol):
    """What a recording's writer offers its session (`RecordingWriter`, the writer thread, and
    `recordings.writer_process.WriterProcess`, the same in a process of its own): the calls that
    queue data, `close`, and the state the engine watches while recording (`backlog_s`: seconds
    of data queued but not yet on disk)."""

    path: Path
    rescue_file: Path | None

    @property
    def disk_space_low(self) -> bool: ...
    @property
    def backlog_s(self) -> float: ...

    def set_host_origin(self, host_origin_ns: int) -> None: ...
    def append_samples(self, block: SampleBlock, session_time_s: np.ndarray) -> None: ...
    def append_frame(self, frame: Frame, angles: AngleBlock) -> None: ...
    def add_event(self, event: Event) -> None: ...
    def set_calibration(self, calibration: SegmentCalibration) -> None: ...
    def close(self) -> Path: ...
