"""/processing of a file that did not store its angles: recomputed by replaying the raw data.

Since schema 0.3.0 a session file holds the frame grid and gap flags under /processing but not
the angles (`schema.ANGLES_STORED`). A replay feeds the pipeline exactly what the live runner
received, so the angles it gives are the ones the live session computed, bit for bit
(tests/recordings/test_replay.py).
"""

from __future__ import annotations

import numpy as np

from recordings.reader import ProcessedAngles, Recording
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
    return ProcessedAngles(
        time_s=np.concatenate([t for t, _, _ in sink.frames]),
        valid=np.concatenate([v for _, v, _ in sink.frames]),
        orientation=angles.orientation,
        inclination_rad=angles.inclination_rad,
        axial_rad=angles.axial_rad,
        angular_velocity_rad_s=angles.angular_velocity_rad_s,
        lumbar_rad=angles.lumbar_rad,
    )
