"""What the recording writer's thread is sent: one typed message per kind of data, queued by the
producer side (`RecordingWriter.append_samples` etc.) and turned into rows on the writer thread."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors.events import Event
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.pipeline import AngleBlock
from sensors.samples import SampleBlock


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
    """A synchronised frame's times (n,) s and gap flags (n, p), and the angles computed from it."""

    time_s: np.ndarray
    valid: np.ndarray
    angles: AngleBlock


@dataclass(frozen=True)
class EventRow:
    """One event (mark, annotation, pain rating, …)."""

    event: Event


@dataclass(frozen=True)
class CalibrationResult:
    """The sensor-to-segment calibration of the session."""

    calibration: SegmentCalibration


WriterMessage = HostOrigin | RawSamples | FrameRows | EventRow | CalibrationResult
