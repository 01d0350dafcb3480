"""The dashboard's settings as the clinic session's configuration."""

from __future__ import annotations

import logging
from pathlib import Path

from gui.model.clinic import ClinicConfig
from gui.model.settings import DashboardSettings
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
