"""The dashboard's settings: shown in the panels, collected from them, and as the clinic
session's configuration."""

from __future__ import annotations

import logging
from pathlib import Path

from gui.model.clinic import ClinicConfig
from gui.model.protocols import DrillProtocol
from gui.model.settings import DashboardSettings
from gui.panels import DrillPanel, SensorPanel
from sensors.identity import SensorFamily
from sensors.placements import Placement, parse_placement

log = logging.getLogger(__name__)


def clinic_config(settings: DashboardSettings) -> ClinicConfig:
    """The session configuration the settings describe; unknown placement names are skipped
    (and logged)."""
    assignments: dict[Placement, str] = {}
    for name, sensor_id in settings.assignments.items():
        try:
            assignments[parse_placement(name)] = sensor_id
        except ValueError:
            continue
    placements = []
    for name in settings.placements:
        try:
            placements.append(parse_placement(name))
        except ValueError:
            log.warning("settings: unknown placement %r ignored", name)
    return ClinicConfig(
        subject_id=settings.subject_id,
        placements=tuple(placements),
        data_dir=Path(settings.data_dir) if settings.data_dir else None,
        simulate=settings.simulate,
        family=SensorFamily(settings.family),
        assignments=assignments,
        rate_hz=settings.rate_hz,
        lsl=settings.lsl,
        virtual_link=settings.virtual_link,
    )


def show_settings(settings: DashboardSettings, sensors: SensorPanel, drill: DrillPanel) -> None:
    """Set the panels as the settings say (unknown placements and sensors are skipped)."""
    sensors.set_mode(settings.simulate, settings.virtual_link)
    sensors.family.setCurrentText(settings.family)
    sensors.lsl.setChecked(settings.lsl)
    for placement_name, sensor_id in settings.assignments.items():
        try:
            sensors.assign[parse_placement(placement_name)].setCurrentText(sensor_id)
        except (ValueError, KeyError):
            continue
    drill.select(settings.protocol)
    drill.zone.setValue(settings.zone_radius_deg)
    drill.sound.setChecked(settings.sound)


def collect_settings(
    settings: DashboardSettings,
    subject_id: str,
    sensors: SensorPanel,
    drill: DrillPanel,
    zone_radius_deg: float,
) -> None:
    """Put the panels' choices into `settings` (the stance zone's radius, deg, as the clinician
    last set it)."""
    settings.subject_id = subject_id.strip()
    settings.simulate = sensors.simulate
    settings.virtual_link = sensors.virtual_link
    settings.family = sensors.family.currentText()
    settings.assignments = {p.value: v for p, v in sensors.assignments().items()}
    protocol: DrillProtocol | None = drill.current()
    settings.protocol = protocol.key if protocol else ""
    settings.zone_radius_deg = zone_radius_deg
    settings.sound = drill.sound.isChecked()
    settings.lsl = sensors.lsl.isChecked()
