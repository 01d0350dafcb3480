"""Adapter that lets the session runner feed a recording's writer (`RecordingWriter`, or the same
in a process of its own: `recordings.writer_process.WriterProcess`)."""

from __future__ import annotations

import numpy as np

from recordings.writer_messages import SessionWriter
from sensors.events import Event, EventKind
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import NullSink
from sensors.samples import Frame, SampleBlock
from sensors.source import StatusChange


class RecordingSink(NullSink):
    """A `SessionSink` that records raw samples, frames' gap flags and angles, events, calibration.
    Running measures are not recorded: they are recomputed from the file."""

    def __init__(self, writer: SessionWriter) -> None:
        self.writer = writer
        self._origin_ns = 0

    def on_start(self, host_origin_ns: int) -> None:
        self._origin_ns = host_origin_ns
        self.writer.set_host_origin(host_origin_ns)

    def on_samples(self, block: SampleBlock, session_time_s: np.ndarray) -> None:
        self.writer.append_samples(block, session_time_s)

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        self.writer.append_frame(frame, angles)

    def on_event(self, event: Event) -> None:
        self.writer.add_event(event)

    def on_status(self, status: StatusChange) -> None:
        """Connection changes are kept as annotation events from source 'link'."""
        time_s = max((status.host_time_ns - self._origin_ns) * 1e-9, 0.0)
        label = f"{status.placement.value} {status.state.value}: {status.message}".strip(": ")
        self.writer.add_event(Event(time_s, EventKind.ANNOTATION, label, source="link"))

    def on_calibration(self, calibration: SegmentCalibration) -> None:
        self.writer.set_calibration(calibration)
