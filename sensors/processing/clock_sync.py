"""Map a sensor's device clock onto the host clock (session time), drift and offset fitted online.

Each notification gives a pair (device time of its newest sample, host receive time). The delay
between them is a constant floor plus random radio and scheduling latency, so the host time of a
sample is estimated from the *lower envelope* of these pairs: per bin of device time the pair with
the least delay is kept, a line host = a + b·device is fitted through those minima by least
squares, and the line is lowered until no minimum lies below it. The fit is redone whenever a
bin closes, so drift is tracked online.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from sensors.processing import settings_checks as check


@dataclass(frozen=True)
class ClockSyncSettings:
    """bin_s: device-time bin for the envelope minima; window_bins: how many recent bins fit;
    max_drift_ppm: fits beyond this (no real crystal drifts so far) are clipped to it."""

    bin_s: float = 1.0
    window_bins: int = 900
    max_drift_ppm: float = 300.0

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


class ClockSync:
    """Device time → session time for one sensor. `step` is causal: it uses the fit as it stands."""

    def __init__(self, host_origin_ns: int, settings: ClockSyncSettings | None = None) -> None:
        self.settings = settings or ClockSyncSettings()
        self.host_origin_ns = host_origin_ns
        self.state = ClockSyncState()

    def reset(self) -> None:
        self.state = ClockSyncState()

    def step(self, device_time_s: np.ndarray, host_receive_ns: np.ndarray) -> np.ndarray:
        """Session times (n,), s, of samples with device times (n,) s received at host_receive_ns (n,)."""
        device_time_s = np.asarray(device_time_s, dtype=float)
        host_receive_ns = np.asarray(host_receive_ns, dtype=np.int64)
        if len(device_time_s) == 0:
            return np.zeros(0)
        state = self.state
        if math.isnan(state.device_ref_s):
            state.device_ref_s = float(device_time_s[0])
        host_s = (host_receive_ns - self.host_origin_ns) * 1e-9
        # Anchor of each notification: its newest sample.
        ends = np.flatnonzero(np.diff(host_receive_ns, append=host_receive_ns[-1] + 1))
        device = device_time_s[ends] - state.device_ref_s
        offset = host_s[ends] - device
        refit = self._add_minima(device, offset)
        if refit or math.isnan(state.intercept):
            self._fit()
        mapped_anchor = state.intercept + (1.0 + state.slope) * device
        state.recent_delay_s = float(np.mean(host_s[ends] - mapped_anchor))
        return state.intercept + (1.0 + state.slope) * (device_time_s - state.device_ref_s)

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
            closed_d, closed_o = device[:-1], offset[:-1]
            limit = self.settings.max_drift_ppm * 1e-6
            slope = float(np.clip(np.polyfit(closed_d, closed_o, 1)[0], -limit, limit))
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
    def latency_s(self) -> float:
        """Mean delay of the latest notifications beyond the fastest ones, s."""
        return self.state.recent_delay_s
