"""The one place a session is assembled from its specification: `open_source` opens the source
(simulator, virtual sensors on an in-process BLE radio, or real sensors; an LSL marker inlet
wrapped around it), `Recording` (from `engine.recording`) starts the recording on it (writer,
sinks, runner) and `scan_sensors` lists the sensors in range as plain values. The CLI, the engine process, the
harnesses, the benchmarks and the tests all assemble sessions here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from engine.recording import OpenedSource, Recording, recording_metadata, recording_path
from engine.spec import SensorListing, SessionSpec, SourceKind
from recordings.lsl import LslMarkerInlet, with_lsl_markers
from sensors.ble.link import BleSource, LinkSettings
from sensors.ble.scan import scan
from sensors.ble.virtual.fleet import attach_fleet, virtual_drill_source
from sensors.ble.virtual.radio import VirtualRadio
from sensors.events import EventKind
from sensors.simulator import DrillOptions, SimulatedSensorSettings, SimulatedSource, fresh_seed, make_drill
from sensors.simulator.drills.base import continued
from sensors.source import Source

__all__ = [
    "OpenedSource",
    "Recording",
    "link_settings",
    "open_source",
    "recording_metadata",
    "recording_path",
    "scan_sensors",
]

log = logging.getLogger(__name__)

#: How long (s) simulated sensors without a radio go on sampling past the drill's script, as real
#: sensors do until the session stops them.
KEEP_SAMPLING_S = 60.0


def link_settings(spec: SessionSpec) -> LinkSettings:
    """The BLE link's settings: the rate from the processing settings, the scan timeout."""
    return LinkSettings(rate_hz=spec.rate_hz, scan_timeout_s=spec.source.scan_timeout_s)


@asynccontextmanager
async def open_source(
    spec: SessionSpec,
    drill: str = "quiet-stance",
    duration_s: float = 30.0,
    *,
    calibration_s: float | None = None,
    dual_task: bool = False,
    task_markers: bool = True,
) -> AsyncIterator[OpenedSource]:
    """Open and start the source of `spec`; closes what it opened on exit. Simulated kinds act
    out `drill` for `duration_s` (s; sensors without a radio go on sampling afterwards), in the
    dual-task condition (sway × `spec.source.dual_task_factor`) when `dual_task`; task_markers:
    also deliver the drill's task start/end markers (False when a protocol marks them)."""
    s = spec.source
    async with AsyncExitStack() as stack:
        opened = await _open(spec, drill, duration_s, calibration_s, dual_task, task_markers, stack)
        await opened.source.start()
        stack.push_async_callback(_stop_quietly, opened.source)
        if spec.lsl.markers:
            kind, _, value = spec.lsl.markers.partition(":")
            inlet = (
                LslMarkerInlet.resolve(type_=value)
                if kind == "type" and value
                else LslMarkerInlet.resolve(name=spec.lsl.markers)
            )
            stack.callback(inlet.close)
            opened.source = with_lsl_markers(opened.source, inlet)
            opened.about["lsl_markers"] = inlet.name
        log.info("opened %s source (%d sensors)", s.kind.value, len(opened.source.sensors))
        yield opened


async def _open(
    spec: SessionSpec,
    drill: str,
    duration_s: float,
    calibration_s: float | None,
    dual_task: bool,
    task_markers: bool,
    stack: AsyncExitStack,
) -> OpenedSource:
    s = spec.source
    if s.kind is SourceKind.BLUETOOTH:
        assignments = s.assignment_map()
        return OpenedSource(
            BleSource(assignments, link_settings(spec)),
            {"source": "bluetooth", "sensors": {p.value: a for p, a in assignments.items()}},
        )
    seed = s.seed if s.seed is not None else fresh_seed()
    factor = s.dual_task_factor if dual_task else 1.0
    options = DrillOptions(duration_s=duration_s, seed=seed, dual_task_factor=factor)
    if calibration_s is not None:
        options = DrillOptions(
            duration_s=duration_s, seed=seed, dual_task_factor=factor, calibration_s=calibration_s
        )
    simulated = make_drill(drill, options)
    events = list(simulated.events())
    if not task_markers:  # the protocol marks the task; the simulated platform or tester the pushes
        events = [e for e in events if e.kind not in (EventKind.TASK_START, EventKind.TASK_END)]
    about: dict[str, Any] = {"seed": seed, "dual_task_factor": factor}
    if s.kind is SourceKind.SIMULATED:
        direct = SimulatedSource(
            continued(simulated, KEEP_SAMPLING_S),
            s.placements,
            SimulatedSensorSettings(rate_hz=spec.rate_hz),
            seed=seed,
            realtime=s.realtime,
            events=events,
        )
        return OpenedSource(direct, {**about, "source": "simulated sensors (no radio)"}, seed)
    radio = VirtualRadio(realtime=s.realtime)
    stack.push_async_callback(radio.close)
    source = await virtual_drill_source(
        radio, simulated, s.placements, s.family, link_settings(spec), seed, events
    )
    return OpenedSource(source, {**about, "source": f"virtual {s.family.value} sensors"}, seed)


async def _stop_quietly(source: Source) -> None:
    """Stop a source (again: the runner stops it at its end; stopping twice is harmless)."""
    try:
        await source.stop()
    except Exception as error:  # a sensor already gone
        log.debug("stopping the source: %s", error)


async def scan_sensors(spec: SessionSpec) -> list[SensorListing]:
    """Supported sensors in range as plain values, strongest first (the virtual ones of `spec`
    when it simulates)."""
    if spec.source.kind is SourceKind.BLUETOOTH:
        found = await scan(spec.source.scan_timeout_s)
    else:
        radio = VirtualRadio(realtime=True)
        try:
            await attach_fleet(radio, make_drill("quiet-stance"), spec.source.placements, spec.source.family)
            found = await scan(min(spec.source.scan_timeout_s, 1.5), radio.backend()[0])
        finally:
            await radio.close()
    return [SensorListing(d.name, d.address, d.family, d.rssi_dbm, d.battery_pct) for d in found]
