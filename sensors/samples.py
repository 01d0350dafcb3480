"""Decoded sample blocks from one sensor, and synchronised frames across sensors.

Both are frozen dataclasses of read-only numpy arrays with time as the first axis.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from sensors.errors import InvalidSamplesError
from sensors.placements import Placement


def _frozen(name: str, values: np.ndarray, dtype: type, shape_tail: tuple[int, ...]) -> np.ndarray:
    array: np.ndarray = np.array(values, dtype=dtype, copy=True)
    if array.ndim != 1 + len(shape_tail) or array.shape[1:] != shape_tail:
        expected = "(n" + "".join(f", {d}" for d in shape_tail) + ")"
        raise InvalidSamplesError(f"{name} must have shape {expected}, got {array.shape}")
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class SampleBlock:
    """Consecutive samples of one sensor, decoded to SI units in the sensor frame.

    device_time_s: (n,) sample instants on the sensor's own clock, s, strictly increasing.
    acc_m_s2: (n, 3) specific force, m/s². gyr_rad_s: (n, 3) angular velocity, rad/s.
    sequence: (n,) device sample counter, unwrapped; a jump > 1 means samples were lost.
    host_receive_ns: (n,) host monotonic time at which the notification carrying each sample
    arrived, ns (equal within one notification).
    """

    placement: Placement
    device_time_s: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    sequence: np.ndarray
    host_receive_ns: np.ndarray

    def __post_init__(self) -> None:
        where = f"sample block from {self.placement.value} sensor"
        try:
            fields = {
                "device_time_s": _frozen("device_time_s", self.device_time_s, np.float64, ()),
                "acc_m_s2": _frozen("acc_m_s2", self.acc_m_s2, np.float64, (3,)),
                "gyr_rad_s": _frozen("gyr_rad_s", self.gyr_rad_s, np.float64, (3,)),
                "sequence": _frozen("sequence", self.sequence, np.int64, ()),
                "host_receive_ns": _frozen("host_receive_ns", self.host_receive_ns, np.int64, ()),
            }
        except InvalidSamplesError as error:
            raise InvalidSamplesError(f"{where}: {error}") from None
        n = len(fields["device_time_s"])
        lengths = {k: len(v) for k, v in fields.items()}
        if any(length != n for length in lengths.values()):
            raise InvalidSamplesError(f"{where}: arrays differ in length {lengths}")
        if n > 1 and not np.all(np.diff(fields["sequence"]) > 0):
            raise InvalidSamplesError(f"{where}: sequence numbers must strictly increase")
        for key, value in fields.items():
            object.__setattr__(self, key, value)

    def __len__(self) -> int:
        return len(self.device_time_s)

    def rows(self, start: int, stop: int) -> SampleBlock:
        """Samples [start, stop) of this block."""
        return SampleBlock(
            self.placement,
            self.device_time_s[start:stop],
            self.acc_m_s2[start:stop],
            self.gyr_rad_s[start:stop],
            self.sequence[start:stop],
            self.host_receive_ns[start:stop],
        )

    def split_by_arrival(self, period_ns: int, origin_ns: int = 0) -> list[SampleBlock]:
        """Pieces of consecutive samples that arrived in the same `period_ns` window of host time
        counted from origin_ns (period 0: one piece per notification, i.e. per distinct stamp)."""
        stamps = self.host_receive_ns - origin_ns
        keys = stamps // period_ns if period_ns > 0 else stamps
        edges = [0, *(np.flatnonzero(np.diff(keys)) + 1).tolist(), len(self)]
        return [self.rows(a, b) for a, b in itertools.pairwise(edges)]


@dataclass(frozen=True)
class Frame:
    """All placements on one uniform session time base, with gaps explicit.

    time_s: (n,) session time, s, uniform at `rate_hz`.
    acc_m_s2, gyr_rad_s: (n, p, 3) sensor-frame signals, NaN where `valid` is False.
    valid: (n, p) True where the placement had a real sample on both sides of the grid point.
    placements: the p placements, in axis order.
    """

    time_s: np.ndarray
    placements: tuple[Placement, ...]
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    valid: np.ndarray
    rate_hz: float

    @classmethod
    def from_columns(
        cls,
        time_s: np.ndarray,
        placements: tuple[Placement, ...],
        columns: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
        rate_hz: float,
    ) -> Frame:
        """A frame from one (acc (n, 3), gyr (n, 3), valid (n,)) column per placement."""
        return cls(
            time_s=time_s,
            placements=placements,
            acc_m_s2=np.stack([c[0] for c in columns], axis=1),
            gyr_rad_s=np.stack([c[1] for c in columns], axis=1),
            valid=np.stack([c[2] for c in columns], axis=1),
            rate_hz=rate_hz,
        )

    def __post_init__(self) -> None:
        p = len(self.placements)
        time_s = _frozen("time_s", self.time_s, np.float64, ())
        acc = _frozen("acc_m_s2", self.acc_m_s2, np.float64, (p, 3))
        gyr = _frozen("gyr_rad_s", self.gyr_rad_s, np.float64, (p, 3))
        valid = _frozen("valid", self.valid, np.bool_, (p,))
        n = len(time_s)
        if not (len(acc) == len(gyr) == len(valid) == n):
            raise InvalidSamplesError(
                f"frame arrays differ in length: time {n}, acc {len(acc)}, gyr {len(gyr)}, valid {len(valid)}"
            )
        if self.rate_hz <= 0:
            raise InvalidSamplesError(f"frame rate must be positive, got {self.rate_hz}")
        object.__setattr__(self, "time_s", time_s)
        object.__setattr__(self, "acc_m_s2", acc)
        object.__setattr__(self, "gyr_rad_s", gyr)
        object.__setattr__(self, "valid", valid)

    def __len__(self) -> int:
        return len(self.time_s)

    def index(self, placement: Placement) -> int:
        """Axis index of `placement` in this frame's arrays."""
        try:
            return self.placements.index(placement)
        except ValueError:
            raise InvalidSamplesError(f"frame has no {placement.value} sensor") from None

    def acc(self, placement: Placement) -> np.ndarray:
        """(n, 3) accelerometer of one placement, m/s²."""
        return self.acc_m_s2[:, self.index(placement)]

    def gyr(self, placement: Placement) -> np.ndarray:
        """(n, 3) gyroscope of one placement, rad/s."""
        return self.gyr_rad_s[:, self.index(placement)]

    def rows(self, start: int, stop: int) -> Frame:
        """Samples [start, stop) of this frame."""
        return Frame(
            self.time_s[start:stop],
            self.placements,
            self.acc_m_s2[start:stop],
            self.gyr_rad_s[start:stop],
            self.valid[start:stop],
            self.rate_hz,
        )

    @staticmethod
    def concatenate(frames: list[Frame]) -> Frame:
        """Join consecutive frames of the same placements and rate into one."""
        if not frames:
            raise InvalidSamplesError("cannot concatenate an empty list of frames")
        first = frames[0]
        return Frame(
            time_s=np.concatenate([f.time_s for f in frames]),
            placements=first.placements,
            acc_m_s2=np.concatenate([f.acc_m_s2 for f in frames]),
            gyr_rad_s=np.concatenate([f.gyr_rad_s for f in frames]),
            valid=np.concatenate([f.valid for f in frames]),
            rate_hz=first.rate_hz,
        )
