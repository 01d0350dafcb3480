"""Sample counting for a sensor that sends neither counter nor time (WitMotion): each packet is the
next sample, as WitMotion's own resolver takes it, and samples are counted as lost only when the
packet rate falls short of the nominal rate for a long time, never for one late burst.

Each notification has a *delay*: its host arrival time minus the nominal time of its newest
sample (count / rate after the first arrival). Over a radio link the delays sit on a floor (the
least latency) plus jitter: the connection interval, the host's scheduling. The floor is a lower
envelope that drops at once to a faster notification and rises by itself no faster than
`floor_rise_ppm` (a sensor crystal a little slow). Then:

- a notification within `late_s` of the floor is on time: its packets are the next samples;
- a later one is held, with those after it, until the stream shows why it was late:
  - a held notification comes back to the floor: the late ones were a backlog (a stalled host, a
    busy radio) delivered in a burst. Nothing was lost; all are released as consecutive samples;
  - the delays stay above the floor for `confirm_s` of host time without coming down (a backlog
    drains, a loss does not): samples were lost before the first held notification, as many as
    the lowest recent delay lies above the least delay just before the hold (rounded to samples),
    placed before the first held notification from which every delay bears that loss (two losses
    in one hold are told apart the same way). The held packets are released across the gap.
    After `max_hold_s` they are released in any case.

So the gap lands where the loss happened, and a burst of late notifications adds nothing. The
price: after a real loss the sensor's samples reach the session `confirm_s` late, once. Host times
are not mapped here: device time is count / rate and the session's clock fit (lower envelope of
host stamps, `sensors.processing.clock_sync`) maps it as for every other family.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class PacketTimingSettings:
    """rate_hz: the nominal sample rate; late_s: how far above the floor a notification is late
    (beyond the radio's jitter); confirm_s: host time for which late notifications must stay late
    to be a loss; max_hold_s: longest anything is held (within the 5 s the session's synchroniser
    waits for a sensor behind the others, `SynchronizerSettings.longest_wait_s`); floor_rise_ppm:
    how fast the floor may rise by itself, s per s × 1e6 (a slow crystal; a faster rise is a loss;
    3× the clock fit's own limit, `ClockSyncSettings.max_drift_ppm`)."""

    rate_hz: float
    late_s: float = 0.05
    confirm_s: float = 2.0
    max_hold_s: float = 4.0
    floor_rise_ppm: float = 1000.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate_hz) and self.rate_hz > 0):
            raise ValueError(f"sample rate must be a positive number of Hz, got {self.rate_hz}")
        if not 0 < self.confirm_s <= self.max_hold_s:
            raise ValueError(f"confirm_s {self.confirm_s} s must be positive and at most max_hold_s")


@dataclass
class _Held(Generic[T]):
    items: list[T]
    host_s: float


class PacketTiming(Generic[T]):
    """Counts one sensor's packets into samples (see the module docstring). `arrive` takes the
    packets of one notification and gives back the samples it releases, with their counters."""

    def __init__(self, settings: PacketTimingSettings) -> None:
        self.settings = settings
        self.lost_samples = 0  # samples counted as lost
        self.losses = 0  # times a loss was found
        self.unjudged_samples = 0  # released by `drain` before their delays were confirmed
        self._origin_ns: int | None = None
        self._count = 0  # samples accounted for: released, and lost
        self._floor_s = math.inf
        self._floor_at_s = 0.0
        self._held: list[_Held[T]] = []
        self._settled: deque[tuple[float, float]] = deque()  # (host s, delay s), last confirm_s

    @property
    def held(self) -> int:
        """Packets held back, waiting for the stream to show whether samples were lost."""
        return sum(len(h.items) for h in self._held)

    def arrive(self, items: list[T], host_ns: int) -> tuple[np.ndarray, list[T]]:
        """(counters (m,) int64, items (m,)) released by this notification of `items` received at
        host_ns: none while held, or more than it brought when it ends a hold."""
        if not items:
            return np.zeros(0, np.int64), []
        if self._origin_ns is None:
            self._origin_ns = host_ns
        host_s = (host_ns - self._origin_ns) * 1e-9
        self._held.append(_Held(list(items), host_s))
        s = self.settings
        floor = self._floor(host_s)
        delays = self._delays()
        if delays[-1] <= floor + s.late_s:
            return self._release({}, host_s)
        span_s = host_s - self._held[0].host_s
        since = host_s - s.confirm_s / 2
        recent = [(d, h.host_s) for d, h in zip(delays, self._held, strict=True) if h.host_s >= since]
        # The level is read from notifications that came over a while, not from one burst.
        spread = recent[-1][1] - recent[0][1] >= s.confirm_s / 4
        if (span_s >= s.confirm_s and spread and self._levelled(delays)) or span_s >= s.max_hold_s:
            return self._release_judged(min(d for d, _ in recent), floor, host_s)
        return np.zeros(0, np.int64), []

    def drain(self) -> tuple[np.ndarray, list[T]]:
        """(counters (m,) int64, items (m,)) of every packet held, released now: the stream ended
        (the session stopped, the sensor went away) before the delays could show for confirm_s
        whether the late ones followed a loss. Judged as after max_hold_s, by the least delay
        of the hold (a backlog not yet drained then reads as a loss); `unjudged_samples` counts
        the samples released so."""
        if not self._held:
            return np.zeros(0, np.int64), []
        host_s = self._held[-1].host_s
        sequence, items = self._release_judged(min(self._delays()), self._floor(host_s), host_s)
        self.unjudged_samples += len(items)
        return sequence, items

    def _release_judged(self, least_s: float, floor: float, host_s: float) -> tuple[np.ndarray, list[T]]:
        """Release every held packet across the loss that a least delay of `least_s` (s) shows."""
        rate = self.settings.rate_hz
        # Like against like: the least delay after the loss against the least over as long a
        # while before the hold (the least of a longer history lies lower: its loss is biased).
        before = self._level_before(floor)
        lost = max(round((least_s - before) * rate), 0)
        delays = self._delays()
        gap_at = self._gap_at(lost, before, len(delays))
        lost = max(round((min(delays[gap_at:]) - before) * rate), 0)
        return self._release(self._gaps(lost, before, len(delays)), host_s)

    def _floor(self, host_s: float) -> float:
        """The floor as it may stand by now (risen by at most floor_rise_ppm since last set), s."""
        if not math.isfinite(self._floor_s):
            return math.inf
        return self._floor_s + self.settings.floor_rise_ppm * 1e-6 * max(host_s - self._floor_at_s, 0.0)

    def _level_before(self, floor: float) -> float:
        """The least delay, s, of the notifications released within confirm_s before the hold
        (the floor when there were none)."""
        start = self._held[0].host_s - self.settings.confirm_s
        while self._settled and self._settled[0][0] < start:
            self._settled.popleft()
        return min((d for _, d in self._settled), default=floor)

    def _delays(self, gaps: dict[int, int] | None = None) -> list[float]:
        """Each held notification's delay, s, if gaps[k] samples were lost before held
        notification k."""
        rate = self.settings.rate_hz
        gaps = gaps or {}
        newest = self._count - 1
        out = []
        for k, held in enumerate(self._held):
            newest += len(held.items) + gaps.get(k, 0)
            out.append(held.host_s - newest / rate)
        return out

    def _gap_at(self, lost: int, level: float, end: int) -> int:
        """Where `lost` samples were lost among the first `end` held notifications: before the
        first from which every delay is about as long as the loss makes it (above `level`, s, the
        least delay before the hold, by the loss less half of it or of late_s: the least delays of
        two stretches of a link differ by a few ms; the late ones before the gap came before it)."""
        loss_s = lost / self.settings.rate_hz
        needed = level + loss_s - min(self.settings.late_s, loss_s) / 2
        delays = self._delays()
        at = end
        while at > 0 and delays[at - 1] >= needed:
            at -= 1
        return min(at, end - 1)

    def _gaps(self, lost: int, level: float, end: int) -> dict[int, int]:
        """{held notification: samples lost before it} for `lost` samples lost among the first
        `end` held notifications. Two losses in one hold: the notifications before the later
        loss's gap, if they came over a while and lie level above `level` (s), had a loss of
        their own, found the same way."""
        at = self._gap_at(lost, level, end)
        s = self.settings
        first, last = self._held[0].host_s, self._held[at - 1].host_s if at else 0.0
        if at == 0 or last - first < s.confirm_s / 4:
            return {at: lost}
        delays = self._delays()[:at]
        middle = (first + last) / 2
        later = min(d for d, h in zip(delays, self._held, strict=False) if h.host_s >= middle)
        earlier = round((later - level) * s.rate_hz)
        if later - level <= s.late_s or not 0 < earlier < lost:
            return {at: lost}
        return {**self._gaps(earlier, level, at), at: lost - earlier}

    def _levelled(self, delays: list[float]) -> bool:
        """Whether the held delays stopped coming down: the lowest of the later half of the hold
        is no more than late_s below the lowest of the earlier half (a draining backlog keeps
        coming down; after a loss they stay level)."""
        middle = (self._held[0].host_s + self._held[-1].host_s) / 2
        early = [d for d, h in zip(delays, self._held, strict=True) if h.host_s < middle]
        late = [d for d, h in zip(delays, self._held, strict=True) if h.host_s >= middle]
        return not early or min(late) >= min(early) - self.settings.late_s

    def _release(self, gaps: dict[int, int], host_s: float) -> tuple[np.ndarray, list[T]]:
        """Release every held packet, gaps[k] samples lost before held notification k."""
        delays = self._delays(gaps)
        self._floor_s = min(self._floor(host_s), *delays)
        self._floor_at_s = host_s
        self._settled.extend((held.host_s, d) for held, d in zip(self._held, delays, strict=True))
        while self._settled and self._settled[0][0] < host_s - self.settings.confirm_s:
            self._settled.popleft()
        lost_before = np.zeros(sum(len(held.items) for held in self._held), np.int64)
        starts = np.cumsum([0] + [len(held.items) for held in self._held[:-1]])
        for k, samples in gaps.items():
            lost_before[starts[k]] += samples
        items = [item for held in self._held for item in held.items]
        sequence = self._count + np.arange(len(items), dtype=np.int64) + np.cumsum(lost_before)
        lost = sum(gaps.values())
        self._count += len(items) + lost
        self._held = []
        for samples in gaps.values():
            if samples:
                self.losses += 1
                self.lost_samples += samples
                log.info(
                    "%d samples lost (the packet rate fell short of %g Hz)", samples, self.settings.rate_hz
                )
        return sequence, items
