"""Set up virtual sensors of one family on a virtual radio, one per placement, for a drill."""

from __future__ import annotations

from collections.abc import Mapping

from sensors.ble.virtual.base import FaultPlan, VirtualSensor
from sensors.ble.virtual.dot_sensor import DotVirtualSensor
from sensors.ble.virtual.polar_sensor import PolarVirtualSensor
from sensors.ble.virtual.radio import VirtualRadio
from sensors.ble.virtual.stabmon_sensor import StabmonVirtualSensor
from sensors.ble.virtual.wit_sensor import WitVirtualSensor
from sensors.identity import SensorFamily
from sensors.placements import Placement
from sensors.simulator.drills.base import Drill
from sensors.simulator.sensor import SimulatedSensorSettings

VIRTUAL_SENSOR_CLASSES: dict[SensorFamily, type[VirtualSensor]] = {
    SensorFamily.STABMON: StabmonVirtualSensor,
    SensorFamily.MOVELLA_DOT: DotVirtualSensor,
    SensorFamily.POLAR_PMD: PolarVirtualSensor,
    SensorFamily.WITMOTION: WitVirtualSensor,
}


def virtual_address(placement: Placement, family: SensorFamily) -> str:
    """A stable address per placement and family (DOTs in Movella's D4:22:CD range)."""
    index = list(Placement).index(placement) + 1
    prefix = {SensorFamily.MOVELLA_DOT: "D4:22:CD:00", SensorFamily.POLAR_PMD: "A0:9E:1A:00"}.get(
        family, "C0:5A:B1:00"
    )
    return f"{prefix}:{0x10 * list(SensorFamily).index(family):02X}:{index:02X}"


async def attach_fleet(
    radio: VirtualRadio,
    drill: Drill,
    placements: tuple[Placement, ...],
    family: SensorFamily = SensorFamily.STABMON,
    settings: SimulatedSensorSettings | Mapping[Placement, SimulatedSensorSettings] | None = None,
    seed: int = 0,
    faults: Mapping[Placement, FaultPlan] | None = None,
    keep_sent: bool = False,
) -> dict[Placement, VirtualSensor]:
    """Attach one advertising virtual sensor per placement; returns them by placement."""
    cls = VIRTUAL_SENSOR_CLASSES[family]
    fleet = {}
    for placement in placements:
        sensor_settings = settings.get(placement) if isinstance(settings, Mapping) else settings
        sensor = cls(
            radio,
            virtual_address(placement, family),
            drill,
            placement,
            sensor_settings,
            seed=seed,
            faults=(faults or {}).get(placement),
            keep_sent=keep_sent,
        )
        await sensor.attach()
        fleet[placement] = sensor
    return fleet
