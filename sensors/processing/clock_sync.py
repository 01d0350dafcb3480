"""Map a sensor's device clock onto the host clock (session time), drift and offset fitted online.

Each notification gives a pair (device time of its newest sample, host receive time). The delay
between them is a constant floor plus random radio and scheduling latency, so the host time of a
sample is estimated from the *lower envelope* of these pairs: per bin of device time the pair with
the least delay is kept, a line host = a + b·device is fitted by least squares through the
minima on the lower envelope (a bin whose every notification came late, as a backlog does, lies
far above its neighbours and is left out: `on_envelope`), and the line is lowered until no
minimum lies below it. The fit is redone whenever a bin closes, so drift is tracked online; in
between, a notification that came faster than the line allows lowers it at once.

A device clock that jumps (a sensor that rebooted, a corrupt timestamp in an old recording) is
never trusted across the jump: when a notification's device time runs ahead of the fit by more
than `max_jump_s`, or steps back and falls behind it by more than that (late data that move on
do not count), the fit starts again from that notification (`restarts` counts it),
so session times stay within the host clock's reach and nothing downstream sees a jump.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from numpy.linalg import _umath_linalg

from sensors.processing import settings_checks as check

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClockSyncSettings:
    """bin_s: device-time bin for the envelope minima; window_bins: how many recent bins fit;
    max_drift_ppm: fits beyond this (no real crystal drifts so far) are clipped to it;
    max_jump_s: an offset this far from the fit is a jump of the device clock: the fit restarts."""

    bin_s: float = 1.0
    window_bins: int = 900
    max_drift_ppm: float = 300.0
    max_jump_s: float = 5.0

    def __post_init__(self) -> None:
        check.duration("ClockSyncSettings", "bin_s", self.bin_s)
        check.count("ClockSyncSettings", "window_bins", self.window_bins, 3, 1_000_000)
        check.number("ClockSyncSettings", "max_drift_ppm", self.max_drift_ppm, 0.0, 1e5, low_inclusive=True)


@dataclass
class ClockSyncState:
    """Minima per bin: bin index → (device time s, host − device s)."""

    minima: OrderedDict[int, tuple[float, float]] = field(default_factory=OrderedDict)
    slope: float = 0.0  # host − device drift rate, s/s (drift_ppm = −slope·1e6 for host = ref)
    intercept: float = math.nan
    device_ref_s: float = math.nan  # device times are taken relative to this, for precision
    recent_delay_s: float = math.nan
    newest_device_s: float = -math.inf  # newest anchor's device time, s (absolute)


class ClockSync:
    """Device time → session time for one sensor. `step` is causal: it uses the fit as it stands."""

    def __init__(self, host_origin_ns: int, settings: ClockSyncSettings | None = None) -> None:
        self.settings = settings or ClockSyncSettings()
        self.host_origin_ns = host_origin_ns
        self.state = ClockSyncState()
        self.restarts = 0

    def reset(self) -> None:
        self.state = ClockSyncState()
        self.restarts = 0

    def step(self, device_time_s: np.ndarray, host_receive_ns: np.ndarray) -> np.ndarray:
        """Session times (n,), s, of samples with device times (n,) s received at host_receive_ns (n,)."""
        device_time_s = np.asarray(device_time_s, dtype=float)
        host_receive_ns = np.asarray(host_receive_ns, dtype=np.int64)
        if len(device_time_s) == 0:
            return np.zeros(0)
        if not np.all(np.isfinite(device_time_s)):
            device_time_s = np.where(np.isfinite(device_time_s), device_time_s, np.nan)
            device_time_s = _filled(device_time_s)
        host_s = (host_receive_ns - self.host_origin_ns) * 1e-9
        # Anchor of each notification: its newest sample (where the stamp changes, and the last).
        changes = np.flatnonzero(host_receive_ns[1:] != host_receive_ns[:-1])
        last = len(host_receive_ns) - 1
        ends = np.append(changes, last) if len(changes) else np.array([last])
        if self._jumped(device_time_s[ends], host_s[ends]):
            self.restarts += 1
            log.warning(
                "device clock jumped by %.4g s against the host clock; the clock fit starts again",
                float(np.max(np.abs(self._residual(device_time_s[ends], host_s[ends])))),
            )
            self.state = ClockSyncState()
        state = self.state
        if math.isnan(state.device_ref_s):
            state.device_ref_s = float(device_time_s[0])
        state.newest_device_s = max(state.newest_device_s, float(device_time_s[ends[-1]]))
        device = device_time_s[ends] - state.device_ref_s
        offset = host_s[ends] - device
        refit = self._add_minima(device, offset)
        if refit or math.isnan(state.intercept):
            self._fit()
        # Between refits the line is lowered to any anchor below it: host stamps are upper
        # bounds, so no sample is mapped after it arrived.
        state.intercept = min(state.intercept, float(np.min(offset - state.slope * device)))
        mapped_anchor = state.intercept + (1.0 + state.slope) * device
        state.recent_delay_s = float(np.mean(host_s[ends] - mapped_anchor))
        return state.intercept + (1.0 + state.slope) * (device_time_s - state.device_ref_s)

    def map(self, device_time_s: np.ndarray) -> np.ndarray:
        """Session times (n,) s of device times (n,) s with the fit as it stands (no step)."""
        state = self.state
        return state.intercept + (1.0 + state.slope) * (
            np.asarray(device_time_s, dtype=float) - state.device_ref_s
        )

    def _residual(self, device_time_s: np.ndarray, host_s: np.ndarray) -> np.ndarray:
        """Host time (s) minus the fit's mapping of these device times (n,) s."""
        state = self.state
        return host_s - (state.intercept + (1.0 + state.slope) * (device_time_s - state.device_ref_s))

    def _jumped(self, device_time_s: np.ndarray, host_s: np.ndarray) -> bool:
        """Whether these anchors say the device clock jumped: ahead of the host clock by more than
        max_jump_s (nothing arrives before it is sampled), or stepped back and now behind it by
        more than that. Data that merely arrive late (a sensor flushing its buffer) move forward
        on the device clock and do not count."""
        if math.isnan(self.state.intercept):
            return False
        limit = self.settings.max_jump_s
        with np.errstate(invalid="ignore", over="ignore"):
            residual = self._residual(device_time_s, host_s)
            ahead = ~(residual >= -limit)
            stepped_back = (residual > limit) & (device_time_s < self.state.newest_device_s)
        return bool(np.any(ahead | stepped_back))

    def _add_minima(self, device: np.ndarray, offset: np.ndarray) -> bool:
        """Fold anchors into per-bin minima; True when a new bin was opened."""
        minima = self.state.minima
        bins = np.floor(device / self.settings.bin_s).astype(np.int64)
        opened = False
        for b, d, o in zip(bins.tolist(), device.tolist(), offset.tolist(), strict=True):
            current = minima.get(b)
            if current is None:
                minima[b] = (d, o)
                opened = True
                while len(minima) > self.settings.window_bins:
                    minima.popitem(last=False)
            elif o < current[1]:
                minima[b] = (d, o)
        return opened

    def _fit(self) -> None:
        state = self.state
        points = np.array(list(state.minima.values()))
        device, offset = points[:, 0], points[:, 1]
        # Only closed bins carry a trustworthy minimum; the newest is still filling.
        if len(points) >= 3 and device[-2] - device[0] >= 2 * self.settings.bin_s:
            closed_d, closed_o = device[None, :-1], offset[None, :-1]
            limit = self.settings.max_drift_ppm * 1e-6
            slope = float(envelope_slopes(closed_d, closed_o, limit)[0])
            state.slope = slope
            state.intercept = float(np.min(closed_o - slope * closed_d))
        else:
            state.slope = 0.0
            state.intercept = float(np.min(offset))

    @property
    def drift_ppm(self) -> float:
        """Device clock rate error in ppm (positive: the device clock runs fast)."""
        return -self.state.slope / (1.0 + self.state.slope) * 1e6

    @property
    def at_limit(self) -> bool:
        """Whether the drift fit is clipped at ±max_drift_ppm: no real crystal drifts that far, so
        the host stamps did not allow a fit (the mapping's timing is doubtful)."""
        return abs(self.state.slope) >= self.settings.max_drift_ppm * 1e-6 * (1 - 1e-9) > 0

    @property
    def latency_s(self) -> float:
        """Mean delay of the latest notifications beyond the fastest ones, s."""
        return self.state.recent_delay_s


#: A bin minimum this far (s) above what its neighbours allow (at the drift limit) came late:
#: it is left out of the slope's fit.
LATE_MINIMUM_S = 0.01


def on_envelope(device: np.ndarray, offset: np.ndarray, limit: float) -> np.ndarray:
    """Which bin minima (k, m) lie on the lower envelope: no more than LATE_MINIMUM_S above the
    lowest bound any other minimum of the row puts on them, with the drift at most `limit`
    (s/s). Minima of bins a backlog filled (a burst at the start, a stalled host) are far above."""
    ahead = np.minimum.accumulate(offset - limit * device, axis=1) + limit * device
    behind = (np.minimum.accumulate((offset + limit * device)[:, ::-1], axis=1))[:, ::-1] - limit * device
    return offset - np.minimum(ahead, behind) <= LATE_MINIMUM_S


def polyfit_slopes(x: np.ndarray, y: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Slopes (k,) of `np.polyfit(x[i], y[i], 1)` for each row of x, y (k, m): polyfit's own
    scaling and LAPACK least-squares call, for all rows at once; `keep` (k, m): only those points
    (the others' rows are zero, which leaves the least-squares line the same)."""
    k, m = x.shape
    lhs = np.empty((k, m, 2))
    lhs[:, :, 0] = x
    lhs[:, :, 1] = 1.0
    rhs = np.array(y, dtype=float)
    if keep is not None:
        lhs[~keep] = 0.0
        rhs[~keep] = 0.0
    scale = np.sqrt((lhs * lhs).sum(axis=1))
    lhs /= scale[:, None, :]
    solution, _, _, _ = _umath_linalg.lstsq(
        lhs, rhs[:, :, None], m * np.finfo(float).eps, signature="ddd->ddid"
    )
    return solution[:, 0, 0] / scale[:, 0]


def envelope_slopes(device: np.ndarray, offset: np.ndarray, limit: float) -> np.ndarray:
    """Drift slopes (k,) s/s of rows of bin minima (k, m): least squares through the minima on the
    lower envelope (`on_envelope`), clipped to ±limit; 0 where fewer than two are on it."""
    keep = on_envelope(device, offset, limit)
    enough = keep.sum(axis=1) >= 2
    slopes = np.zeros(len(device))
    if enough.any():
        slopes[enough] = np.clip(polyfit_slopes(device[enough], offset[enough], keep[enough]), -limit, limit)
    return slopes


def _filled(values: np.ndarray) -> np.ndarray:
    """NaN entries (n,) replaced by the nearest finite value before them (or after, at the start);
    all zeros if none is finite."""
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros_like(values)
    index = np.where(finite, np.arange(len(values)), 0)
    np.maximum.accumulate(index, out=index)
    first = int(np.argmax(finite))
    index[:first] = first
    return values[index]
