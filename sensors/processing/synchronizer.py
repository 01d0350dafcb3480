"""Put every placement on one uniform session time grid; lost samples become flagged gaps.

A grid point is filled for a placement by linear interpolation between the two samples that
bracket it, only when those two are consecutive on the device (sequence numbers differ by one);
otherwise it is NaN with `valid` False. Nothing is invented across a loss. A grid point is
emitted once every placement has data past it, or once the others have data `max_wait_s` past it
(so a silent sensor cannot stall the others; it shows as a gap instead).

The wait is counted in data time, not arrival time: when the whole process falls behind (a
loaded laptop), every sensor's data come late together and nothing is flagged. When one sensor's
data come in behind the others' by more than the wait (a computer too busy to keep the sensors
level, a sensor that buffers), the wait grows to cover that lateness with a margin, up to
`longest_wait_s`, and the lateness seen fades with time constant `wait_recovery_s`: the live
frames come later but whole. Lateness is counted from where a placement's data continue its own
stream: a clock fit stepping back (times before the placement's newest sample) is not lateness,
and neither is a sensor that starts after the others. Samples that still come after their
frames have gone out (before the wait has grown) are counted (`late_samples`): they are in the
recording's raw data, and flagged as gaps in its frames (a replay reproduces the live frames
exactly).

The grid never runs ahead of time: no frame is emitted past the latest `now_s` a pull was given
plus `longest_wait_s`, the final flush included, so a sample whose session time is far in the
future (a device clock that jumped, in a recording made before the link refused such jumps)
cannot make it allocate a grid up to that time. Such samples are left out of the frames.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from sensors.placements import Placement
from sensors.processing import settings_checks as check
from sensors.processing.errors import SynchronizerError
from sensors.samples import Frame

log = logging.getLogger(__name__)
#: How much more than the lateness seen the wait grows to.
WAIT_MARGIN = 1.5
#: A sample this close to a grid point (s) is on it. Session times are device times less an
#: origin, with ~1e-13 s of rounding: a stream sampled exactly on the grid (an imported file)
#: would otherwise have points whose sample came out a hair early, let out by the frontier's
#: rounding before the next sample is there, flagged as gaps.
ON_GRID_S = 1e-9


@dataclass(frozen=True)
class SynchronizerSettings:
    """rate_hz: output grid rate; max_wait_s: how long (data time, s) to wait for a placement
    behind the others; longest_wait_s: how far that wait may grow when data come late;
    wait_recovery_s: time constant (data time, s) of its return to max_wait_s."""

    rate_hz: float = 100.0
    max_wait_s: float = 0.5
    longest_wait_s: float = 5.0
    wait_recovery_s: float = 20.0

    def __post_init__(self) -> None:
        check.rate("SynchronizerSettings", self.rate_hz)
        check.duration("SynchronizerSettings", "max_wait_s", self.max_wait_s, allow_zero=True)
        check.duration("SynchronizerSettings", "longest_wait_s", self.longest_wait_s, allow_zero=True)
        check.duration("SynchronizerSettings", "wait_recovery_s", self.wait_recovery_s)


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

        A grid time on a sample (within `ON_GRID_S`) takes it; one between two consecutive
        samples interpolates them; anything else (before the first sample, after the last, or
        across a sequence jump) is a gap.
        """
        n, m = len(grid), len(self.t)
        if m == 0:
            return np.full((n, 3), np.nan), np.full((n, 3), np.nan), np.zeros(n, dtype=bool)
        before = np.searchsorted(self.t, grid + ON_GRID_S, side="right") - 1  # last at or before
        k = np.maximum(before, 0)  # (≤ m - 1 already)
        after = np.minimum(k + 1, m - 1)
        t_k = self.t[k]
        started = before >= 0
        exact = started & (np.abs(t_k - grid) <= ON_GRID_S)
        between = started & (before + 1 < m) & (self.sequence[after] - self.sequence[k] == 1) & ~exact
        # Interpolated at every grid point at once (the few points that are not between two
        # consecutive samples are discarded): the same operations on the same operands per point,
        # (1 - w) * before + w * after, worked out in place in the gathered rows.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            w = (grid - t_k) / (self.t[after] - t_k)
            acc, gyr = (_between(rows, k, after, 1 - w, w) for rows in (self.acc, self.gyr))
        if not between.all():
            keep, take = between[:, None], exact[:, None]
            acc = np.where(keep, acc, np.where(take, self.acc[k], np.nan))
            gyr = np.where(keep, gyr, np.where(take, self.gyr[k], np.nan))
        return acc, gyr, exact | between

    def trim_before(self, t: float) -> None:
        """Drop samples no longer needed for grid times ≥ t (keeps the one just before t)."""
        keep_from = max(int(np.searchsorted(self.t, t, side="right")) - 1, 0)
        if keep_from:
            self.t = self.t[keep_from:]
            self.sequence = self.sequence[keep_from:]
            self.acc = self.acc[keep_from:]
            self.gyr = self.gyr[keep_from:]


def _between(
    rows: np.ndarray, k: np.ndarray, after: np.ndarray, w0: np.ndarray, w1: np.ndarray
) -> np.ndarray:
    """w0 * rows[k] + w1 * rows[after] (n, 3) for rows (m, 3), indices k, after (n,) and weights
    w0, w1 (n,), without temporaries beyond the two gathered arrays."""
    out = rows.take(k, axis=0)
    out *= w0[:, None]
    later = rows.take(after, axis=0)
    later *= w1[:, None]
    out += later
    return out


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
        self._newest_s = -math.inf  # newest sample time of any placement
        self._behind_s = 0.0  # how far (s) a placement's data have come behind the others, fading
        self._waited_at_s = -math.inf  # data time the wait was last relaxed at
        self._pulled_at_s = -math.inf  # latest session time a pull was given
        self.late_samples = 0

    @property
    def wait_s(self) -> float:
        """How long (s of data time) the synchroniser now waits for a placement behind the others."""
        s = self.settings
        return min(max(s.max_wait_s, WAIT_MARGIN * self._behind_s), s.longest_wait_s)

    def push(
        self,
        placement: Placement,
        session_time_s: np.ndarray,
        sequence: np.ndarray,
        acc_m_s2: np.ndarray,
        gyr_rad_s: np.ndarray,
        note_lateness: bool = True,
    ) -> None:
        """Add samples (n,) times in s, (n,) sequence, (n, 3) acc m/s², (n, 3) gyr rad/s.
        note_lateness=False: blocks held at the start and sent on together (`start_hold`), which
        are in time, whatever order they came in."""
        if placement not in self._buffers:
            raise SynchronizerError(f"synchroniser was not set up for a {placement.value} sensor")
        if len(session_time_s) == 0:
            return
        times = np.asarray(session_time_s, dtype=float)
        if self._next_index is None:
            self._next_index = math.ceil(float(times[0]) * self.settings.rate_hz)
        elif note_lateness:
            self._note_lateness(placement, times)
        self._newest_s = max(self._newest_s, float(times[-1]))
        self._buffers[placement].append(
            times,
            np.asarray(sequence, dtype=np.int64),
            np.asarray(acc_m_s2, dtype=float),
            np.asarray(gyr_rad_s, dtype=float),
        )

    def _note_lateness(self, placement: Placement, times: np.ndarray) -> None:
        """Track how far behind the others this placement's data come, and wait that long (with
        a margin); count samples for grid points already emitted."""
        assert self._next_index is not None
        emitted_until_s = (self._next_index - 1) / self.settings.rate_hz
        self.late_samples += int(np.count_nonzero(times <= emitted_until_s))
        waited = self.wait_s
        # Data that start before this placement's own newest sample are not late: its clock fit
        # stepped back (a sensor whose first notifications came stamped late, in a burst).
        first_s = max(float(times[0]), self._buffers[placement].latest_s)
        self._behind_s = max(self._behind_s, self._newest_s - first_s)
        if self.wait_s > waited + 0.25:
            log.warning(
                "at %.1f s %s data came %.2f s behind the others; live frames now wait up to %.1f s",
                self._newest_s,
                placement.value,
                self._behind_s,
                self.wait_s,
            )

    def _relax_wait(self) -> None:
        """Let the lateness seen fade with data time, and the wait with it (down to max_wait_s)."""
        if math.isfinite(self._waited_at_s):
            elapsed = max(self._newest_s - self._waited_at_s, 0.0)
            self._behind_s *= math.exp(-elapsed / self.settings.wait_recovery_s)
        self._waited_at_s = self._newest_s

    def pull(self, now_s: float) -> Frame | None:
        """Every grid point that is ready at session time `now_s` (s), as one frame (or None)."""
        self._relax_wait()
        if math.isfinite(now_s):
            self._pulled_at_s = max(self._pulled_at_s, now_s)
        deadline = min(self._newest_s, now_s) - self.wait_s
        frontier = min(max(b.latest_s, deadline) for b in self._buffers.values())
        return self._emit_until(min(frontier, self._time_allows_s()))

    def flush(self) -> Frame | None:
        """At the end of a stream: emit up to the newest sample of any placement (no further than
        the latest pull's time plus `longest_wait_s`, when there was a pull)."""
        newest = max(b.latest_s for b in self._buffers.values())
        return self._emit_until(min(newest, self._time_allows_s()))

    def _time_allows_s(self) -> float:
        """The furthest session time a frame may be emitted at, s (inf before the first pull)."""
        if not math.isfinite(self._pulled_at_s):
            return math.inf
        return self._pulled_at_s + self.settings.longest_wait_s

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
        return Frame.from_columns(grid, self.placements, columns, rate)
