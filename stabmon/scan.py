"""`stabmon scan`: list the supported sensors in range, to assign them to placements."""

from __future__ import annotations

import argparse
import asyncio
import math

from sensors.ble.scan import DiscoveredSensor, scan
from sensors.ble.virtual.fleet import VIRTUAL_SENSOR_CLASSES, attach_fleet
from sensors.ble.virtual.radio import VirtualRadio
from sensors.placements import Placement
from sensors.simulator import DrillOptions, make_drill
from stabmon.arguments import seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seconds", type=seconds, default=5.0, help="how long to listen, s (default: %(default)g)"
    )
    parser.add_argument(
        "--simulate", action="store_true", help="scan a virtual radio with one virtual sensor of each family"
    )


def format_sensors(found: list[DiscoveredSensor]) -> str:
    if not found:
        return "No supported sensors found (are they switched on and not connected elsewhere?)"
    lines = [f"{'family':<13}{'name':<24}{'address':<20}{'signal':>8}{'battery':>9}"]
    for f in found:
        battery = "—" if math.isnan(f.battery_pct) else f"{f.battery_pct:.0f} %"
        note = f"  {f.unusable}" if f.unusable else ""
        lines.append(f"{f.family.value:<13}{f.name:<24}{f.address:<20}{f.rssi_dbm:>5} dBm{battery:>9}{note}")
    if any(not f.unusable for f in found):
        lines.append("Assign them with: stabmon record --sensor lumbar=ADDRESS --sensor pelvis=ADDRESS …")
    else:
        lines.append("None of them can be used: stabmon needs sensors with an accelerometer and a gyroscope")
    return "\n".join(lines)


async def _scan(args: argparse.Namespace) -> list[DiscoveredSensor]:
    if not args.simulate:
        return await scan(args.seconds)
    radio = VirtualRadio(realtime=True)
    drill = make_drill("quiet-stance", DrillOptions(duration_s=10.0))
    for placement, family in zip(Placement, VIRTUAL_SENSOR_CLASSES, strict=False):
        await attach_fleet(radio, drill, (placement,), family)
    try:
        return await scan(max(args.seconds, 1.5), radio.backend()[0])
    finally:
        await radio.close()


def run(args: argparse.Namespace) -> int:
    print(format_sensors(asyncio.run(_scan(args))))
    return 0
