"""Core types of stabmon: placements, sensor identity, sample blocks, frames, events, sources.

numpy only; the BLE layer (`sensors.ble`) and the processing (`sensors.processing`) build on it.
"""

from sensors.events import Event, EventKind
from sensors.identity import SensorFamily, SensorIdentity
from sensors.placements import REQUIRED_PLACEMENTS, Placement, nominal_mount, parse_placement
from sensors.samples import Frame, SampleBlock
from sensors.source import LinkState, SensorHealth, Source, SourceItem, StatusChange

__all__ = [
    "REQUIRED_PLACEMENTS",
    "Event",
    "EventKind",
    "Frame",
    "LinkState",
    "Placement",
    "SampleBlock",
    "SensorFamily",
    "SensorHealth",
    "SensorIdentity",
    "Source",
    "SourceItem",
    "StatusChange",
    "nominal_mount",
    "parse_placement",
]
