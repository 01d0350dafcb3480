"""Hold the first blocks until every sensor's clock mapping has settled, then map them at once.

A host stamp is an upper bound on a sample's time: a notification arrives after it was sent,
never before. When a recording's first notifications come in a burst (a host busy at the start
delivers a backlog at once), the clock fit (`ClockSync`) first takes that late arrival as the
sensor's offset and lowers it, notification by notification, as the backlog drains. Mapped
block by block, the backlog's seconds of device time were squeezed into the moment it arrived,
and the synchroniser left them out of the frames. So the runner holds every block until each
sensor that has sent data has had its mapping still (moved by no more than `SETTLE_TOLERANCE_S`)
for `SETTLE_S` of host time and over blocks spanning `SETTLE_S` of its device time (after a
stall, one late block says nothing yet), and then maps the held blocks with the fit as it stands:
the backlog gets the device clock's own spacing. It waits up to `limit_s` (host time after the first block)
for a sensor that has sent nothing, and releases a mapping that never settles after twice that
(logged).

`release_block` works out, from a recorded stream, after which block the live runner released
what it held, and the held blocks' session times, so a replay does exactly what the runner did.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import numpy as np

from sensors.placements import Placement
from sensors.processing.clock_sync import ClockSync, ClockSyncSettings

log = logging.getLogger(__name__)

#: How long (s of host time) a sensor's mapping must stay still before its blocks are released.
SETTLE_S = 1.0
#: A mapping lowered by more than this (s) since it was last still has not settled.
SETTLE_TOLERANCE_S = 0.02


class StartHold:
    """Decides, block by block, when the blocks held at the start may go: feed it each block
    after its clock has stepped (`note`); `ready` says whether to release."""

    def __init__(self, placements: tuple[Placement, ...], limit_s: float) -> None:
        self.placements = placements
        self.limit_s = limit_s
        self._level: dict[Placement, float] = {}  # mapping offset (s) when last still
        self._moved_s: dict[Placement, float] = {}  # host time (s) the mapping last moved
        self._moved_device_s: dict[Placement, float] = {}  # device time (s) of the block it moved at
        self._newest_device_s: dict[Placement, float] = {}  # newest block's device time (s)
        self._first_s = math.nan
        self.released = False

    def note(self, placement: Placement, clock: ClockSync, device_last_s: float, host_s: float) -> None:
        """A block of `placement` arrived at host time `host_s` (s); its clock has stepped; the
        block's newest sample has device time `device_last_s` (s)."""
        if math.isnan(self._first_s):
            self._first_s = host_s
        level = float(clock.map(np.array([device_last_s]))[0]) - device_last_s
        previous = self._level.get(placement)
        if previous is None or abs(previous - level) > SETTLE_TOLERANCE_S:
            self._level[placement] = level
            self._moved_s[placement] = host_s
            self._moved_device_s[placement] = device_last_s
        self._newest_device_s[placement] = device_last_s

    def ready(self, now_s: float) -> bool:
        """Whether the held blocks may go at host time `now_s` (s)."""
        if math.isnan(self._first_s):
            return False
        settled = all(
            now_s - moved >= SETTLE_S and self._newest_device_s[p] - self._moved_device_s[p] >= SETTLE_S
            for p, moved in self._moved_s.items()
        )
        waited = now_s - self._first_s
        if settled and (len(self._moved_s) == len(self.placements) or waited >= self.limit_s):
            return True
        if waited >= 2 * self.limit_s:
            log.warning(
                "sensor clocks still settling %.1f s after the first data; their first times may be late",
                waited,
            )
            return True
        return False


def release_block(
    placements: tuple[Placement, ...],
    placement_index: np.ndarray,
    rows: np.ndarray,
    device_time_s: Mapping[Placement, np.ndarray],
    host_receive_ns: Mapping[Placement, np.ndarray],
    host_origin_ns: int,
    now_s: np.ndarray,
    clock: ClockSyncSettings,
    limit_s: float,
) -> tuple[int, dict[Placement, np.ndarray]]:
    """The block (index into the arrival order) after which the live runner released the
    blocks held at the start (the last block if it never did before the end), and the held
    samples' session times per placement (the first rows of each, s). now_s (k,): the session
    time the runner had reached after each block (s). The device and host rows are read only
    up to the release. A damaged file whose times are not one per sample: (0, {}), nothing held."""
    clocks = {p: ClockSync(host_origin_ns, clock) for p in placements}
    hold = StartHold(placements, limit_s)
    read = dict.fromkeys(placements, 0)
    release = len(rows) - 1
    for k, (which, n) in enumerate(zip(placement_index.tolist(), rows.tolist(), strict=True)):
        p = placements[which]
        a, z = read[p], read[p] + n
        device = np.asarray(device_time_s[p][a:z], dtype=float)
        host = np.asarray(host_receive_ns[p][a:z], dtype=np.int64)
        if device.ndim != 1 or host.shape != device.shape or len(device) == 0:
            log.warning("%s times of a block are not one per sample; the start is taken as not held", p.value)
            return 0, {}
        clocks[p].step(device, host)
        read[p] = z
        hold.note(p, clocks[p], float(device[-1]), (int(host[-1]) - host_origin_ns) * 1e-9)
        if hold.ready(float(now_s[k])):
            release = k
            break
    held = {
        p: clocks[p].map(np.asarray(device_time_s[p][: read[p]], dtype=float)) if read[p] else np.zeros(0)
        for p in placements
    }
    return release, held
