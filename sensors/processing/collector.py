"""A sink that keeps a whole session in memory for its summary and analysis."""

from __future__ import annotations

from sensors.events import Event
from sensors.processing.analysis import AnalysisResult, SessionData, analyze
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.errors import ProcessingError
from sensors.processing.live_measures import RunningMeasures
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import NullSink
from sensors.processing.summary import AngleSummary, summarize_angles
from sensors.samples import Frame


class SessionCollector(NullSink):
    """Keeps the session's frames, angles, events and calibration for the end-of-session summary
    and analysis (about 200 MB per hour for two sensors at 100 Hz)."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.blocks: list[AngleBlock] = []
        self.events: list[Event] = []
        self.calibration: SegmentCalibration | None = None
        self.measures: list[RunningMeasures] = []

    def on_measures(self, measures: RunningMeasures) -> None:
        self.measures.append(measures)

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        self.frames.append(frame)
        self.blocks.append(angles)

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def on_calibration(self, calibration: SegmentCalibration) -> None:
        self.calibration = calibration

    def summary(self) -> AngleSummary | None:
        if not self.blocks:
            return None
        angles = AngleBlock.concatenate(self.blocks)
        return summarize_angles(angles.time_s, angles.placements, angles.inclination_rad, angles.lumbar_rad)

    def session_data(self) -> SessionData:
        """Everything analysis needs (raises ProcessingError when the session never calibrated)."""
        if self.calibration is None or not self.frames:
            raise ProcessingError("the session was never calibrated, so there are no measures")
        return SessionData(
            Frame.concatenate(self.frames),
            AngleBlock.concatenate(self.blocks),
            self.calibration.mount_q,
            tuple(self.events),
        )

    def analysis(self, drill: str) -> AnalysisResult:
        """The drill's measures table (raises ProcessingError when there is nothing to analyse)."""
        return analyze(self.session_data(), drill)
