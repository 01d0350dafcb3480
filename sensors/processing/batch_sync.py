"""The `Synchronizer` over a whole recorded stream at once: the frames it emitted live, bit for bit.

Live, blocks are pushed in arrival order and after each one `pull` emits every grid point that is
ready. A grid point's value for a placement depends only on whether that placement's data had
reached it when it was emitted: if so, it is interpolated from the same two samples as with all
data in hand (later samples come later in time), otherwise it is a gap. So the batched version
works out, per block, up to which grid point the live synchroniser had emitted (from each block's
first and last sample times, its host stamp and the wait), interpolates every grid point with all
samples, and makes a gap of each (point, placement) the placement's data had not reached when
the point went out. The end is the live flush: everything up to the newest sample of any sensor.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sensors.placements import Placement
from sensors.processing.synchronizer import ON_GRID_S, WAIT_MARGIN, SynchronizerSettings, _Buffer
from sensors.samples import Frame

#: Rows of samples that can be sliced (an array, or an HDF5 dataset read a slice at a time).
ArrayRows = Any


#: Blocks whose schedule is worked out at once (bounds the temporaries: ~0.5 MB each).
_SCHEDULE_BLOCKS = 65_536


@dataclass(frozen=True)
class ArrivalBlocks:
    """Blocks in arrival order: placement_index (k,) into the placements, rows (k,) samples, and
    now_s (k,) the session time (s) the runner had reached after each (its newest host stamp);
    released_at: the block after which the runner sent on the blocks it held at the start
    (`start_hold`): those before it were pushed then, none counted late, and pulled only after it."""

    placement_index: np.ndarray
    rows: np.ndarray
    now_s: np.ndarray
    released_at: int = 0


def monotonic_times(times: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One placement's session times (n,) s as the synchroniser's buffer keeps them, delivered in
    blocks of `rows` (k,): each block at least 0.1 µs after the one before, then non-decreasing."""
    times = np.asarray(times, dtype=float)
    bounds = np.concatenate([[0], np.cumsum(rows)]).astype(np.int64)
    firsts, lasts = bounds[:-1], bounds[1:] - 1
    inside = np.ones(len(times), dtype=bool)
    inside[firsts] = False  # steps inside a block
    increasing = np.all(np.diff(times)[inside[1:]] > 0)
    ahead = times[firsts[1:]] > times[lasts[:-1]] + 1e-7
    if increasing and ahead.all():
        return times
    out = times.copy()
    previous = -math.inf
    for b in range(len(firsts)):  # the live rule, block by block (only where a clock refit stepped back)
        a, z = firsts[b], lasts[b] + 1
        block = out[a:z]
        if b > 0:
            block = np.maximum(block, previous + 1e-7)
        out[a:z] = np.maximum.accumulate(block)
        previous = float(out[z - 1])
    return out


class BatchSynchronizer:
    """The live synchroniser's frames for a whole arrival sequence. times: per placement (n_p,)
    session times s as the clock mapping gave them; samples in arrival order."""

    def __init__(
        self,
        placements: tuple[Placement, ...],
        times: Mapping[Placement, np.ndarray],
        sequence: Mapping[Placement, ArrayRows],
        acc_m_s2: Mapping[Placement, ArrayRows],
        gyr_rad_s: Mapping[Placement, ArrayRows],
        blocks: ArrivalBlocks,
        settings: SynchronizerSettings | None = None,
    ) -> None:
        self.placements = tuple(placements)
        self.settings = settings or SynchronizerSettings()
        self.blocks = blocks
        self.late_samples = 0
        self._rows = {p: (sequence[p], acc_m_s2[p], gyr_rad_s[p]) for p in self.placements}
        self._t: dict[Placement, np.ndarray] = {}
        rows_of = {}
        for k, p in enumerate(self.placements):
            rows_of[p] = blocks.rows[blocks.placement_index == k]
            self._t[p] = monotonic_times(times[p], rows_of[p])
        self._schedule({p: np.asarray(times[p], dtype=float) for p in self.placements}, rows_of)

    def _schedule(self, raw: Mapping[Placement, np.ndarray], rows_of: Mapping[Placement, np.ndarray]) -> None:
        """Per block: the last grid index emitted after it, and each placement's newest sample.
        Memory: the two results ((k,) int64 and (k, p) float64) and three (k,) float64 arrays
        while it runs; the rest is worked out `_SCHEDULE_BLOCKS` blocks at a time."""
        s, b = self.settings, self.blocks
        k = len(b.rows)
        first_raw, last_raw = np.empty(k), np.empty(k)
        latest = np.full((k, len(self.placements)), -math.inf)  # fixed newest sample, per placement
        for j, p in enumerate(self.placements):
            mine = np.flatnonzero(b.placement_index == j)
            ends = np.cumsum(rows_of[p])
            first_raw[mine] = raw[p][ends - rows_of[p]]
            last_raw[mine] = raw[p][ends - 1]
            latest[mine, j] = self._t[p][ends - 1]
            del mine, ends
        np.maximum.accumulate(latest, axis=0, out=latest)
        newest = np.maximum.accumulate(last_raw)
        # Lateness counts from where a block continues its placement's own stream (the live rule).
        own_before = np.full(k, -math.inf)
        own_before[1:] = latest[np.arange(k - 1), b.placement_index[1:]]
        continues = np.maximum(first_raw, own_before)
        del own_before
        lateness = newest[:-1] - continues[1:]
        held = max(min(b.released_at, k - 1), 0)
        lateness[:held] = -math.inf  # the held blocks were pushed without noting lateness
        wait = self._waits(continues, last_raw, newest, lateness, held)
        del continues
        del lateness, last_raw
        self.first_index = math.ceil(float(first_raw[0]) * s.rate_hz)
        emitted = np.empty(k, dtype=np.int64)
        carry = self.first_index - 1
        for a in range(0, k, _SCHEDULE_BLOCKS):
            z = min(a + _SCHEDULE_BLOCKS, k)
            part_wait = wait if np.ndim(wait) == 0 else np.asarray(wait)[a:z]
            deadline = np.minimum(newest[a:z], b.now_s[a:z]) - part_wait
            frontier = np.min(np.maximum(latest[a:z], deadline[:, None]), axis=1)
            last_index = np.full(z - a, -(2**62), dtype=np.int64)
            finite = np.isfinite(frontier)
            last_index[finite] = np.floor(frontier[finite] * s.rate_hz + 1e-9).astype(np.int64)
            np.maximum.accumulate(np.maximum(last_index, carry), out=emitted[a:z])
            carry = int(emitted[z - 1])
        emitted[:held] = self.first_index - 1  # no pull until the held blocks had all gone in
        del newest, first_raw
        # Samples that came for grid points already out (counted as the live runner counts them).
        for j, p in enumerate(self.placements):
            mine = np.flatnonzero(b.placement_index == j)
            before = mine - 1  # the block before each of this placement's blocks
            out_before = np.where(before >= 0, emitted[np.maximum(before, 0)], self.first_index - 1)
            threshold = out_before / s.rate_hz
            threshold[mine == 0] = -math.inf  # the first block sets the grid; nothing is out yet
            starts = (np.cumsum(rows_of[p]) - rows_of[p]).astype(np.int64)  # none: a sensor that sent nothing
            lowest = np.minimum.reduceat(raw[p], starts) if len(starts) else starts
            for block in np.flatnonzero(lowest <= threshold):  # blocks with any late sample (rare)
                a = int(starts[block])
                late = raw[p][a : a + int(rows_of[p][block])] <= threshold[block]
                self.late_samples += int(np.count_nonzero(late))
        flush = max(float(t[-1]) if len(t) else -math.inf for t in self._t.values())
        self.last_index = max(int(emitted[-1]), math.floor(flush * s.rate_hz + 1e-9))
        self._emitted = emitted
        self._latest = latest

    def _waits(
        self,
        first_raw: np.ndarray,
        last_raw: np.ndarray,
        newest: np.ndarray,
        lateness: np.ndarray,
        held: int = 0,
    ) -> np.ndarray | float:
        """The wait (s) after each block (first_raw: where each block continues its placement's
        stream, s): max_wait_s while no placement ever came later than the wait allows (the
        usual case), else the live rule block by block."""
        s = self.settings
        if len(lateness) == 0 or WAIT_MARGIN * float(np.max(lateness)) <= s.max_wait_s <= s.longest_wait_s:
            return s.max_wait_s
        waits = np.empty(len(first_raw))
        behind, waited_at, newest_s = 0.0, -math.inf, -math.inf
        for k, (first, last) in enumerate(zip(first_raw.tolist(), last_raw.tolist(), strict=True)):
            if k > held:
                behind = max(behind, newest_s - first)
            newest_s = max(newest_s, last)
            if math.isfinite(waited_at):
                behind *= math.exp(-max(newest_s - waited_at, 0.0) / s.wait_recovery_s)
            waited_at = newest_s
            waits[k] = min(max(s.max_wait_s, WAIT_MARGIN * behind), s.longest_wait_s)
        return waits

    def frames(self, chunk_s: float = 60.0) -> Iterator[Frame]:
        """The frames, `chunk_s` of grid at a time (the pipeline's result does not depend on it)."""
        for start, stop in self.chunk_bounds(chunk_s):
            yield self.frame(start, stop)

    def chunk_bounds(self, chunk_s: float = 60.0) -> list[tuple[int, int]]:
        """Grid index ranges [start, stop) of the frames `frames(chunk_s)` gives."""
        step = max(1, round(chunk_s * self.settings.rate_hz))
        return [
            (start, min(start + step, self.last_index + 1))
            for start in range(self.first_index, self.last_index + 1, step)
        ]

    def row_sources(self) -> dict[Placement, tuple[ArrayRows, ...]]:
        """What the frames read rows from, per placement: (sequence, acc, gyr)."""
        return dict(self._rows)

    def _window(self, placement: Placement, grid: np.ndarray) -> _Buffer:
        """The samples grid points (m,) can need: from the last at or before the first point to
        the first after the last point (the live buffer holds at least these)."""
        t = self._t[placement]
        lo = max(int(np.searchsorted(t, grid[0], side="right")) - 1, 0)
        hi = min(int(np.searchsorted(t, grid[-1], side="right")) + 1, len(t))
        sequence, acc, gyr = self._rows[placement]
        window = _Buffer()
        window.t = t[lo:hi]
        window.sequence = np.asarray(sequence[lo:hi], dtype=np.int64)
        window.acc = np.asarray(acc[lo:hi], dtype=float)
        window.gyr = np.asarray(gyr[lo:hi], dtype=float)
        return window

    def frame(self, start: int, stop: int) -> Frame:
        """The frame of grid indices [start, stop)."""
        grid, acc, gyr, valid = self.frame_arrays(start, stop)
        return Frame(grid, self.placements, acc, gyr, valid, self.settings.rate_hz)

    def frame_arrays(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The arrays of `frame(start, stop)`: grid times (n,) s, acc (n, p, 3), gyr (n, p, 3)
        and valid (n, p), C-contiguous, without the frame's validating copies."""
        rate = self.settings.rate_hz
        grid = np.arange(start, stop) / rate
        # The block after which each grid point went out (len(blocks): in the final flush).
        emitted_at = np.searchsorted(self._emitted, np.arange(start, stop), side="left")
        in_flush = emitted_at >= len(self._emitted)
        columns = []
        for j, p in enumerate(self.placements):
            acc, gyr, valid = self._window(p, grid).sample(grid)
            reached = np.full(len(grid), math.inf)
            reached[~in_flush] = self._latest[emitted_at[~in_flush], j]
            not_yet = grid > reached + ON_GRID_S  # a sample on the point had reached it
            acc[not_yet], gyr[not_yet], valid[not_yet] = np.nan, np.nan, False
            columns.append((acc, gyr, valid))
        return (
            grid,
            np.stack([c[0] for c in columns], axis=1),
            np.stack([c[1] for c in columns], axis=1),
            np.stack([c[2] for c in columns], axis=1),
        )
