"""Who a sensor is: family, radio address, serial number and firmware."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SensorFamily(StrEnum):
    """Protocol family a sensor speaks; decides which codec decodes its notifications."""

    STABMON = "stabmon"
    MOVELLA_DOT = "movella_dot"
    POLAR_PMD = "polar_pmd"
    WITMOTION = "witmotion"
    SIMULATED = "simulated"
    #: Data imported from another system's file (`stabmon import`): no codec; the sensor's own
    #: description (file format, stream name and type, source id) is in `model` and `serial`.
    IMPORTED = "imported"


@dataclass(frozen=True)
class SensorIdentity:
    """Identity of one physical or virtual sensor, recorded with its data."""

    family: SensorFamily
    address: str
    serial: str = ""
    firmware: str = ""
    model: str = ""

    def describe(self) -> str:
        """Short human-readable label, e.g. 'movella_dot D4:22:CD:00:12:34 (fw 2.6.0)'."""
        label = f"{self.family.value} {self.address}"
        return f"{label} (fw {self.firmware})" if self.firmware else label
