"""The small interface every data source implements: simulator, BLE link, HDF5 replay.

A source is started, streams `SourceItem`s (sample blocks, status changes and events) from an
async iterator, reports live health per sensor, and is stopped. Nothing downstream knows which
kind of source it reads.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Mapping
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
