"""The small interface every data source implements: simulator, BLE link, HDF5 replay.

A source is started, streams `SourceItem`s (sample blocks, status changes and events) from an
async iterator, reports live health per sensor, and is stopped. Nothing downstream knows which
kind of source it reads. A source that holds samples back (a BLE link's decoders) also offers
`drain()` and `awaits_frames(arrived_by_ns)` (see `drain` and `awaits_frames` below), so that a
stopped session records them.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from sensors.events import Event
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.samples import SampleBlock


class LinkState(StrEnum):
    """Connection state of one sensor."""

    CONNECTING = "connecting"
    STREAMING = "streaming"
    RECONNECTING = "reconnecting"
    LOST = "lost"
    STOPPED = "stopped"


@dataclass(frozen=True)
class StatusChange:
    """A sensor changed state; `host_time_ns` is the host monotonic clock when it did."""

    placement: Placement
    state: LinkState
    host_time_ns: int
    message: str = ""


@dataclass(frozen=True)
class SensorHealth:
    """Live health of one sensor, as shown to the clinician.

    rate_hz: the sensor's rate (Hz) as a user can trust it (`sensors.health.SensorRate`: the
    nominal rate unless steadily off it; NaN before any data); loss_fraction: share of samples lost
    over the health window (0–1); latency_s: mean notification delay beyond the fastest one;
    drift_ppm: device clock rate error; battery_pct: NaN when unknown; rssi_dbm: received signal
    strength when it was last measured (the scan), NaN when unknown; last_packet_age_s: time
    since the last notification. What the link kept out of the session, since it started:
    decode_errors (malformed notifications), duplicates and out_of_order (blocks dropped),
    rejected_blocks / rejected_samples (implausible data), restarts (counter epochs spliced in),
    clock_resets_s: session times (s; NaN when unknown) of those restarts the sensor reported as
    its clock being reset (a reboot; a Polar clock set or stepped back).
    data_until_s: session time (s) of the sensor's last data while none has come for more than
    `sensors.health.SILENCE_WARNING_S` (NaN while data flow, or when the source cannot say).
    overdue_s: how long (s) its next data are overdue: the time since its last block beyond what
    its own blocks span (a Polar's ~1.4-s frames are no silence); NaN when the source cannot say.
    """

    placement: Placement
    state: LinkState
    rate_hz: float = 0.0
    loss_fraction: float = 0.0
    latency_s: float = math.nan
    drift_ppm: float = math.nan
    battery_pct: float = math.nan
    last_packet_age_s: float = math.inf
    samples_received: int = 0
    samples_lost: int = 0
    rssi_dbm: float = math.nan
    decode_errors: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    rejected_blocks: int = 0
    rejected_samples: int = 0
    restarts: int = 0
    clock_resets_s: tuple[float, ...] = ()
    data_until_s: float = math.nan
    overdue_s: float = math.nan


SourceItem = SampleBlock | StatusChange | Event


@runtime_checkable
class Source(Protocol):
    """What the session runner needs of a source of sensor data."""

    @property
    def sensors(self) -> Mapping[Placement, SensorIdentity]:
        """The sensors this source delivers, by placement."""
        ...

    @property
    def host_origin_ns(self) -> int:
        """Host monotonic time (ns) that session time 0 corresponds to; set by `start`."""
        ...

    async def start(self) -> None:
        """Connect and start streaming; `stream()` yields from then on."""
        ...

    async def stop(self) -> None:
        """Stop streaming and release the sensors; `stream()` then ends."""
        ...

    def stream(self) -> AsyncIterator[SourceItem]:
        """Sample blocks, status changes and events, in arrival order, until stopped or done."""
        ...

    def health(self) -> Mapping[Placement, SensorHealth]:
        """Current health of every sensor."""
        ...


def drains(source: object) -> bool:
    """Whether a source holds samples back to give up at its end (`drain`): its stream, once it
    is stopped, ends after what it had queued (read it to its end, then drain it)."""
    return getattr(source, "drain", None) is not None


def drain(source: object) -> list[SourceItem]:
    """What a stopped source still holds (samples its decoders held back, said where they could
    not be judged), from its `drain()` if it has one (a BLE link and its wrappers), else none.
    Called once the source is stopped, before the session's last frames are made."""
    method = getattr(source, "drain", None)
    return list(method()) if method is not None else []


def awaits_frames(source: object, arrived_by_ns: int) -> bool:
    """Whether a source holds samples that arrived by host time `arrived_by_ns` (ns) and that
    data still on their way would complete (a Polar's ACC waiting for its GYRO frame:
    `awaits_frames(arrived_by_ns)` where a source has it), worth reading on for at a stop."""
    method = getattr(source, "awaits_frames", None)
    return bool(method(arrived_by_ns)) if method is not None else False


def host_clock(source: object) -> Callable[[], int]:
    """The host clock (ns) the source stamps with: a BLE link's (possibly a virtual radio's)
    clock, looked up through wrappers, else the monotonic clock."""
    while source is not None:
        clock = getattr(source, "clock", None)
        if clock is not None and hasattr(clock, "now"):
            return clock.now
        source = getattr(source, "source", None)
    return time.monotonic_ns
