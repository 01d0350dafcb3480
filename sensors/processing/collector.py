"""A sink that keeps a whole session in memory for its summary and analysis."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import numpy.typing as npt

from sensors.events import Event
from sensors.placements import Placement
from sensors.processing.analysis import AnalysisResult, SessionData, analyze
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.errors import ProcessingError
from sensors.processing.live_measures import RunningMeasures
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import NullSink
from sensors.processing.summary import AngleSummary, summarize_angles
from sensors.samples import Frame


class GrowingArray:
    """Rows appended along the first axis into one array whose capacity doubles when full, so a
    long session costs its data (plus at most as much spare) instead of an object per block."""

    def __init__(
        self, row_shape: tuple[int, ...], dtype: npt.DTypeLike = np.float64, capacity: int = 4096
    ) -> None:
        self._data: np.ndarray = np.empty((capacity, *row_shape), dtype=dtype)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def extend(self, rows: np.ndarray) -> None:
        """Append rows (m, *row_shape)."""
        m = len(rows)
        if self._n + m > len(self._data):
            grown = np.empty((max(2 * len(self._data), self._n + m), *self._data.shape[1:]), self._data.dtype)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n : self._n + m] = rows
        self._n += m

    @property
    def values(self) -> np.ndarray:
        """The rows so far (n, *row_shape), a view (valid until the next extend)."""
        return self._data[: self._n]


class SessionCollector(NullSink):
    """Keeps the session's frames, angles, events and calibration for the end-of-session summary
    and analysis, in growing arrays: about 290 bytes per frame for two sensors (210 MB per hour at
    200 Hz). `keep` names the frame and angle arrays to keep (None: all); the others read as NaN
    (False for `valid`) and cost nothing, for an analysis that reads only some of them.
    `capacity_frames`: room made at the start (a replay knows how many frames are coming: no
    doubling, no copy, no spare)."""

    _FRAME = ("acc_m_s2", "gyr_rad_s", "valid")
    _ANGLES = ("orientation", "inclination_rad", "axial_rad", "angular_velocity_rad_s", "lumbar_rad")

    def __init__(self, keep: Collection[str] | None = None, capacity_frames: int = 4096) -> None:
        self.events: list[Event] = []
        self.calibration: SegmentCalibration | None = None
        self.measures: list[RunningMeasures] = []
        unknown = set(keep or ()) - set(self._FRAME + self._ANGLES)
        if unknown:
            raise ValueError(f"a session collector cannot keep {sorted(unknown)}")
        self.keep = frozenset(self._FRAME + self._ANGLES if keep is None else keep)
        self._placements: tuple[Placement, ...] | None = None
        self._rate_hz = 0.0
        self._capacity = max(int(capacity_frames), 1)
        self._time = GrowingArray((), capacity=self._capacity)
        self._arrays: dict[str, GrowingArray] = {}
        self._shapes: dict[str, tuple[tuple[int, ...], np.dtype]] = {}

    def expect_frames(self, frames: int) -> None:
        """`frames` are coming (a replay knows how many once its schedule is made): before the
        first frame, the arrays are made that large, so they never grow (growing copies the
        arrays: for 4 h at 200 Hz a 92 MB transient at the last frame block)."""
        if self._placements is None and len(self._time) == 0:
            self._capacity = max(int(frames), 1)
            self._time = GrowingArray((), capacity=self._capacity)

    def on_measures(self, measures: RunningMeasures) -> None:
        self.measures.append(measures)

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        columns = {
            **{name: getattr(frame, name) for name in self._FRAME},
            **{name: getattr(angles, name) for name in self._ANGLES},
        }
        if self._placements is None:
            self._placements, self._rate_hz = frame.placements, frame.rate_hz
            self._shapes = {name: (a.shape[1:], a.dtype) for name, a in columns.items()}
            self._arrays = {
                name: GrowingArray(*self._shapes[name], capacity=self._capacity) for name in self.keep
            }
        self._time.extend(frame.time_s)
        for name, array in self._arrays.items():
            array.extend(columns[name])

    def _values(self, name: str) -> np.ndarray:
        """A kept array's rows (a read-only view), or NaN/False rows that take no memory."""
        if name in self._arrays:
            values = self._arrays[name].values
            values.flags.writeable = False
            return values
        shape, dtype = self._shapes[name]
        return np.broadcast_to(
            np.zeros((), dtype) if dtype == np.bool_ else np.nan, (len(self._time), *shape)
        )

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def on_calibration(self, calibration: SegmentCalibration) -> None:
        self.calibration = calibration

    @property
    def frame(self) -> Frame | None:
        """Every frame so far as one (None before the first); views of the collected arrays."""
        if self._placements is None:
            return None
        frame = object.__new__(Frame)  # no validating copy: each block was validated as it came
        fields = {"time_s": self._time.values, "placements": self._placements, "rate_hz": self._rate_hz}
        fields.update({name: self._values(name) for name in self._FRAME})
        for name, value in fields.items():
            object.__setattr__(frame, name, value)
        return frame

    @property
    def angles(self) -> AngleBlock | None:
        """Every frame's angles so far as one block (None before the first)."""
        if self._placements is None:
            return None
        # Views: rows already appended are never written again, so they stay as they are.
        return AngleBlock(
            self._time.values,
            self._placements,
            orientation=self._values("orientation"),
            inclination_rad=self._values("inclination_rad"),
            axial_rad=self._values("axial_rad"),
            angular_velocity_rad_s=self._values("angular_velocity_rad_s"),
            lumbar_rad=self._values("lumbar_rad"),
        )

    @property
    def frames(self) -> list[Frame]:
        """The frames so far as a list of one block (empty before the first)."""
        frame = self.frame
        return [] if frame is None else [frame]

    @property
    def blocks(self) -> list[AngleBlock]:
        """The angles so far as a list of one block (empty before the first)."""
        angles = self.angles
        return [] if angles is None else [angles]

    def summary(self) -> AngleSummary | None:
        angles = self.angles
        if angles is None:
            return None
        return summarize_angles(angles.time_s, angles.placements, angles.inclination_rad, angles.lumbar_rad)

    def session_data(self) -> SessionData:
        """Everything analysis needs (raises ProcessingError when the session never calibrated)."""
        frame, angles = self.frame, self.angles
        if self.calibration is None or frame is None or angles is None:
            raise ProcessingError("the session was never calibrated, so there are no measures")
        return SessionData(frame, angles, self.calibration.mount_q, tuple(self.events))

    def analysis(self, drill: str) -> AnalysisResult:
        """The drill's measures table (raises ProcessingError when there is nothing to analyse)."""
        return analyze(self.session_data(), drill)
