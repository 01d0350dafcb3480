"""Put every placement on one uniform session time grid; lost samples become flagged gaps.

A grid point is filled for a placement by linear interpolation between the two samples that
bracket it, only when those two are consecutive on the device (sequence numbers differ by one);
otherwise it is NaN with `valid` False. Nothing is invented across a loss. A grid point is
emitted once every placement has data past it, or once `max_wait_s` has passed since it (so a
silent sensor cannot stall the others; it shows as a gap instead).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sensors.placements import Placement
from sensors.processing.errors import SynchronizerError
from sensors.samples import Frame


@dataclass(frozen=True)
class SynchronizerSettings:
    """rate_hz: output grid rate; max_wait_s: how long to wait for a late placement."""

    rate_hz: float = 100.0
    max_wait_s: float = 0.5


class _Buffer:
    """Received samples of one placement not yet behind the emitted grid."""

    def __init__(self) -> None:
        self.t = np.zeros(0)
        self.sequence = np.zeros(0, dtype=np.int64)
        self.acc = np.zeros((0, 3))
        self.gyr = np.zeros((0, 3))

    def append(self, t: np.ndarray, sequence: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> None:
        if len(self.t):  # a clock refit may step time back a little: keep it increasing
            t = np.maximum(t, self.t[-1] + 1e-7)
        t = np.maximum.accumulate(t)
        self.t = np.concatenate([self.t, t])
        self.sequence = np.concatenate([self.sequence, sequence])
        self.acc = np.concatenate([self.acc, acc])
        self.gyr = np.concatenate([self.gyr, gyr])

    @property
    def latest_s(self) -> float:
        return float(self.t[-1]) if len(self.t) else -math.inf

    def sample(self, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(acc (n, 3), gyr (n, 3), valid (n,)) at grid times (n,).

        A grid time exactly on a sample takes it; one between two consecutive samples
        interpolates them; anything else (before the first sample, after the last, or across a
        sequence jump) is a gap.
        """
        n, m = len(grid), len(self.t)
        acc = np.full((n, 3), np.nan)
        gyr = np.full((n, 3), np.nan)
        if m == 0:
            return acc, gyr, np.zeros(n, dtype=bool)
        before = np.searchsorted(self.t, grid, side="right") - 1  # last sample at or before
        k = np.clip(before, 0, m - 1)
        exact = (before >= 0) & (self.t[k] == grid)
        after = np.minimum(k + 1, m - 1)
        between = (before >= 0) & (before + 1 < m) & (self.sequence[after] - self.sequence[k] == 1) & ~exact
        acc[exact], gyr[exact] = self.acc[k[exact]], self.gyr[k[exact]]
        lo, hi = k[between], after[between]
        w = ((grid[between] - self.t[lo]) / (self.t[hi] - self.t[lo]))[:, None]
        acc[between] = (1 - w) * self.acc[lo] + w * self.acc[hi]
        gyr[between] = (1 - w) * self.gyr[lo] + w * self.gyr[hi]
        return acc, gyr, exact | between

    def trim_before(self, t: float) -> None:
        """Drop samples no longer needed for grid times ≥ t (keeps the one just before t)."""
        keep_from = max(int(np.searchsorted(self.t, t, side="right")) - 1, 0)
        if keep_from:
            self.t = self.t[keep_from:]
            self.sequence = self.sequence[keep_from:]
            self.acc = self.acc[keep_from:]
            self.gyr = self.gyr[keep_from:]


class Synchronizer:
    """Streams of (session time, samples) per placement in, `Frame`s on a uniform grid out."""

    def __init__(
        self, placements: tuple[Placement, ...], settings: SynchronizerSettings | None = None
    ) -> None:
        if not placements:
            raise SynchronizerError("the synchroniser needs at least one placement")
        self.settings = settings or SynchronizerSettings()
        self.placements = tuple(placements)
        self.reset()

    def reset(self) -> None:
        self._buffers = {p: _Buffer() for p in self.placements}
        self._next_index: int | None = None  # grid index of the next point to emit

    def push(
        self,
        placement: Placement,
        session_time_s: np.ndarray,
        sequence: np.ndarray,
        acc_m_s2: np.ndarray,
        gyr_rad_s: np.ndarray,
    ) -> None:
        """Add samples (n,) times in s, (n,) sequence, (n, 3) acc m/s², (n, 3) gyr rad/s."""
        if placement not in self._buffers:
            raise SynchronizerError(f"synchroniser was not set up for a {placement.value} sensor")
        if len(session_time_s) == 0:
            return
        if self._next_index is None:
            self._next_index = math.ceil(float(session_time_s[0]) * self.settings.rate_hz)
        self._buffers[placement].append(
            np.asarray(session_time_s, dtype=float),
            np.asarray(sequence, dtype=np.int64),
            np.asarray(acc_m_s2, dtype=float),
            np.asarray(gyr_rad_s, dtype=float),
        )

    def pull(self, now_s: float) -> Frame | None:
        """Every grid point that is ready at session time `now_s`, as one frame (or None)."""
        deadline = now_s - self.settings.max_wait_s
        frontier = min(max(b.latest_s, deadline) for b in self._buffers.values())
        return self._emit_until(frontier)

    def flush(self) -> Frame | None:
        """At the end of a stream: emit up to the newest sample of any placement."""
        return self._emit_until(max(b.latest_s for b in self._buffers.values()))

    def _emit_until(self, frontier_s: float) -> Frame | None:
        if self._next_index is None or not math.isfinite(frontier_s):
            return None
        rate = self.settings.rate_hz
        last_index = math.floor(frontier_s * rate + 1e-9)
        if last_index < self._next_index:
            return None
        grid = np.arange(self._next_index, last_index + 1) / rate
        columns = [self._buffers[p].sample(grid) for p in self.placements]
        self._next_index = last_index + 1
        for buffer in self._buffers.values():
            buffer.trim_before(self._next_index / rate)
        return Frame(
            time_s=grid,
            placements=self.placements,
            acc_m_s2=np.stack([c[0] for c in columns], axis=1),
            gyr_rad_s=np.stack([c[1] for c in columns], axis=1),
            valid=np.stack([c[2] for c in columns], axis=1),
            rate_hz=rate,
        )
