"""/processing of a file that did not store its angles: recomputed by replaying the raw data.

Since schema 0.3.0 a session file holds the frame grid and gap flags under /processing but not
the angles (`schema.ANGLES_STORED`). A replay feeds the pipeline exactly what the live runner
received, so the angles it gives are the ones the live session computed, bit for bit
(tests/recordings/test_replay.py).

The angles a standing-balance recording exports and shows are the ones its analysis measures
instead (`measured_angles`): the live filter's bias estimation takes slow sway for gyroscope bias.
"""

from __future__ import annotations

import numpy as np

from recordings.reader import ProcessedAngles, Recording
from sensors.drills import drill_family
from sensors.errors import UnknownDrillError
from sensors.processing.analysis_data import SessionData
from sensors.processing.analysis_upright import stance_angles
from sensors.processing.errors import ProcessingError
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import NullSink
from sensors.samples import Frame


class _AngleSink(NullSink):
    def __init__(self) -> None:
        self.frames: list[tuple[np.ndarray, np.ndarray, AngleBlock]] = []

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        self.frames.append((frame.time_s, frame.valid, angles))


def replayed_processing(recording: Recording) -> ProcessedAngles:
    """The /processing arrays of `recording` from a replay of its raw data (shapes as stored)."""
    from recordings.analysis import replay  # analysis imports the reader: import when needed

    sink = _AngleSink()
    replay(recording, extra_sinks=[sink])
    p = len(recording.placements)
    if not sink.frames:
        return ProcessedAngles(
            np.zeros(0),
            np.zeros((0, p), dtype=bool),
            np.zeros((0, p, 4)),
            np.zeros((0, p, 2)),
            np.zeros((0, p)),
            np.zeros((0, p, 3)),
            np.zeros((0, 3)),
        )
    angles = AngleBlock.concatenate([a for _, _, a in sink.frames])
    time_s = np.concatenate([t for t, _, _ in sink.frames])
    return _processed(time_s, np.concatenate([v for _, v, _ in sink.frames]), angles)


def measured_angles(drill: str, data: SessionData) -> AngleBlock:
    """A session's angles as its drill's measures read them, for what shows or exports them
    (CSV, Motion-BIDS, the report's figures, the review): its own (`data.angles`), except for a
    standing-balance drill, whose orientations and inclinations are the ones its stance measures
    read (`analysis_upright.stance_angles`: the gyroscope bias learned over the stance, not by
    vqf, which takes the sway for bias)."""
    if not _is_stance(drill):
        return data.angles
    try:
        return stance_angles(data)
    except ProcessingError:  # no stance frames: the session's angles as they are
        return data.angles


def exported_processing(recording: Recording) -> ProcessedAngles:
    """/processing's arrays as the CSV export gives them: `recording.processing`, except for a
    standing-balance drill (`measured_angles`)."""
    if not _is_stance(recording.drill):
        return recording.processing
    from recordings.analysis import replay  # analysis imports the reader: import when needed

    collector = replay(recording, running_measures=False).collector
    try:
        data = collector.session_data()
    except ProcessingError:  # never calibrated: the session's angles (NaN) as they are
        return recording.processing
    return _processed(data.frame.time_s, data.frame.valid, measured_angles(recording.drill, data))


def _is_stance(drill: str) -> bool:
    """Whether `drill` is a standing-balance drill (False for a name the catalogue lacks)."""
    try:
        return drill_family(drill).is_stance
    except UnknownDrillError:
        return False


def _processed(time_s: np.ndarray, valid: np.ndarray, angles: AngleBlock) -> ProcessedAngles:
    """/processing's arrays from the frame times (n,), s, the gap flags (n, p) and the angles."""
    return ProcessedAngles(
        time_s=time_s,
        valid=valid,
        orientation=angles.orientation,
        inclination_rad=angles.inclination_rad,
        axial_rad=angles.axial_rad,
        angular_velocity_rad_s=angles.angular_velocity_rad_s,
        lumbar_rad=angles.lumbar_rad,
    )
