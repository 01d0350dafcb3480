"""Processing: clock mapping, synchronisation, orientation, calibration, angles, session runner.

numpy/scipy/vqf only: importing it never loads bleak, bumble or Qt.
"""

from sensors.processing.angles import inclination_angles, lumbar_angles
from sensors.processing.clock_sync import ClockSync, ClockSyncSettings
from sensors.processing.orientation import OrientationEstimator, OrientationSettings
from sensors.processing.pipeline import AngleBlock, PipelineSettings, SegmentAnglePipeline
from sensors.processing.session import NullSink, SessionReport, SessionRunner, SessionSettings, SessionSink
from sensors.processing.synchronizer import Synchronizer, SynchronizerSettings

__all__ = [
    "AngleBlock",
    "ClockSync",
    "ClockSyncSettings",
    "NullSink",
    "OrientationEstimator",
    "OrientationSettings",
    "PipelineSettings",
    "SegmentAnglePipeline",
    "SessionReport",
    "SessionRunner",
    "SessionSettings",
    "SessionSink",
    "Synchronizer",
    "SynchronizerSettings",
    "inclination_angles",
    "lumbar_angles",
]
