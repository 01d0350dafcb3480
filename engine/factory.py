"""The one place a session is assembled from its specification: `open_source` opens the source
(simulator, virtual sensors on a BLE radio — in a radio process of their own in real time, as
real sensors are, or in this process when faster than real time —, or real sensors; an LSL marker inlet
wrapped around it), `open_shared_source` opens one for all the recordings of a protocol (the
link stays up), `Recording` (from `engine.recording`) starts the recording on it (writer, sinks,
runner), `session_runner` a session that records nothing, `record` does a whole recording, and
`scan_sensors` lists the sensors in range as plain values. Faults are injected on purpose only
through `Impairments`. The CLI, the engine process, the harnesses, the benchmarks and the tests
all assemble sessions here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.recording import (
    OpenedSource,
    Recording,
    prepare_writer,
    recording_metadata,
    recording_path,
    session_runner,
)
from engine.segments import SharedSource
from engine.spec import SensorListing, SessionSpec, SourceKind
from engine.stage import SimulatedStage, standing_body
from recordings.lsl import LslMarkerInlet, with_lsl_markers
from sensors.ble.link import BleSource, LinkSettings
from sensors.ble.scan import scan
from sensors.ble.virtual.base import FaultPlan
from sensors.ble.virtual.fleet import attach_fleet
from sensors.ble.virtual.radio import VirtualRadio
from sensors.ble.virtual.radio_process import Attach
from sensors.ble.virtual.remote import RemoteRadio, radio_process_wanted
from sensors.events import EventKind
from sensors.placements import Placement
from sensors.processing.session import SessionReport, SessionSink
from sensors.samples import SampleBlock
from sensors.scripted import with_scripted_events
from sensors.simulator import (
    DrillOptions,
    RadioSettings,
    SimulatedSensorSettings,
    SimulatedSource,
    fresh_seed,
    make_drill,
)
from sensors.simulator.drills.base import Drill, continued
from sensors.source import Source, host_clock

__all__ = [
    "Impairments",
    "OpenedSource",
    "Recorded",
    "Recording",
    "link_settings",
    "open_shared_source",
    "open_source",
    "prepare_writer",
    "record",
    "recording_metadata",
    "recording_path",
    "scan_sensors",
    "session_runner",
]

log = logging.getLogger(__name__)

#: How long (s) simulated sensors without a radio go on sampling past the drill's script, as real
#: sensors do until the session stops them.
KEEP_SAMPLING_S = 60.0


@dataclass(frozen=True)
class Impairments:
    """What a test, the soak or the fuzzer injects into simulated sensors on purpose; never part
    of a specification (a user does not ask for faults, and they are not stored). radio: the
    simulated radio's losses and delays, one for all sensors or per placement (both simulated
    kinds); faults: wrong or missing notifications per placement (virtual BLE sensors only);
    keep_sent: virtual sensors keep every block they sent (`OpenedSource.fleet`), to check a
    recording against, each in a new `sent_log()` (and the blocks sent malformed in another): a
    compact log keeps an hour-long soak's ground truth small; send_log: virtual sensors in a
    radio process log when they sent each block (`RemoteRadio.send_log`; the latency benchmark
    times the transport to this process with it)."""

    radio: RadioSettings | Mapping[Placement, RadioSettings] | None = None
    faults: Mapping[Placement, FaultPlan] = field(default_factory=dict)
    keep_sent: bool = False
    sent_log: Callable[[], list[SampleBlock]] = list
    send_log: bool = False

    def sensor_settings(
        self, rate_hz: float, placements: Iterable[Placement]
    ) -> dict[Placement, SimulatedSensorSettings]:
        """Each placement's simulated sensor at `rate_hz` (Hz) on its impaired radio."""
        out = {}
        for placement in placements:
            radio = self.radio.get(placement) if isinstance(self.radio, Mapping) else self.radio
            out[placement] = SimulatedSensorSettings(rate_hz=rate_hz, radio=radio or RadioSettings())
        return out


def link_settings(spec: SessionSpec) -> LinkSettings:
    """The BLE link's settings: the rate from the processing settings, the scan timeout and
    how long a silent sensor is tried before it is reported lost."""
    return LinkSettings(
        rate_hz=spec.rate_hz,
        scan_timeout_s=spec.source.scan_timeout_s,
        give_up_after_s=spec.source.give_up_after_s,
    )


@asynccontextmanager
async def open_source(
    spec: SessionSpec,
    drill: str | Drill = "quiet-stance",
    duration_s: float = 30.0,
    *,
    calibration_s: float | None = None,
    dual_task: bool = False,
    task_markers: bool = True,
    impairments: Impairments | None = None,
    delivery_s: float | None = None,
    keep_sampling_s: float = KEEP_SAMPLING_S,
) -> AsyncIterator[OpenedSource]:
    """Open and start the source of `spec`; closes what it opened on exit. Simulated kinds act
    out `drill` for `duration_s` (s; sensors without a radio go on sampling afterwards), in the
    dual-task condition (sway × `spec.source.dual_task_factor`) when `dual_task`; a `Drill`
    made by the caller is acted out as it is (its own duration and seed). task_markers: also
    deliver the drill's task start/end markers (False when a protocol marks them);
    impairments: faults injected on purpose (tests, soak, fuzzing); delivery_s: simulated sensors
    without a radio, not in real time, deliver one block per sensor per this much arrival time
    (s; default 0.1; 0.02 is about one BLE notification's worth, as a live session's file holds);
    keep_sampling_s: how long (s) they go on sampling past the drill's script, as real sensors do
    until the session stops them (0: the source ends with the script, the whole performance and
    nothing after it, for a session run to the source's end)."""
    s = spec.source
    async with AsyncExitStack() as stack:
        opened = await _open(
            spec,
            drill,
            duration_s,
            calibration_s,
            dual_task,
            task_markers,
            impairments or Impairments(),
            stack,
            delivery_s,
            keep_sampling_s,
        )
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
    drill: str | Drill,
    duration_s: float,
    calibration_s: float | None,
    dual_task: bool,
    task_markers: bool,
    impairments: Impairments,
    stack: AsyncExitStack,
    delivery_s: float | None = None,
    keep_sampling_s: float = KEEP_SAMPLING_S,
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
    if isinstance(drill, Drill):
        simulated = drill
        factor = drill.options.dual_task_factor
    else:
        options = DrillOptions(
            duration_s=duration_s, seed=seed, dual_task_factor=factor, sway_scale=s.sway_scale
        )
        if calibration_s is not None:
            options = replace(options, calibration_s=calibration_s)
        simulated = make_drill(drill, options)
    events = list(simulated.events())
    if not task_markers:  # the protocol marks the task; the simulated platform or tester the pushes
        events = [e for e in events if e.kind not in (EventKind.TASK_START, EventKind.TASK_END)]
    about: dict[str, Any] = {"seed": seed, "dual_task_factor": factor}
    if simulated.options.sway_scale != 1.0:  # the simulated patient's, not the condition's
        about["sway_scale"] = simulated.options.sway_scale
    sensor_settings = impairments.sensor_settings(spec.rate_hz, s.placements)
    if s.kind is SourceKind.SIMULATED:
        direct = SimulatedSource(
            continued(simulated, keep_sampling_s),
            s.placements,
            sensor_settings,
            seed=seed,
            realtime=s.realtime,
            events=events,
            **({} if delivery_s is None else {"delivery_s": delivery_s}),
        )
        return OpenedSource(direct, {**about, "source": "simulated sensors (no radio)"}, seed)
    fleet: Mapping[Placement, Any]
    radio: VirtualRadio | RemoteRadio
    attach = Attach(
        simulated,
        s.placements,
        s.family,
        sensor_settings,
        seed,
        dict(impairments.faults),
        keep_sent=impairments.keep_sent,
        send_log=impairments.send_log,
    )
    if s.realtime and radio_process_wanted():  # the sensors in a process of their own
        radio = await RemoteRadio.start(attach)
        stack.push_async_callback(radio.close)
        fleet = radio.fleet
    else:  # tests and fast runs: on this process's loop (world time stepped with the host's pace)
        radio = VirtualRadio(realtime=s.realtime)
        stack.push_async_callback(radio.close)
        fleet = await attach.attach_to(radio)
    if impairments.keep_sent:  # before the source starts: the sensors send once subscribed
        for sensor in fleet.values():
            sensor.sent_blocks, sensor.spoiled_blocks = impairments.sent_log(), impairments.sent_log()
    ble = BleSource(
        {p: sensor.address for p, sensor in fleet.items()},
        link_settings(spec),
        backend=radio.backend(),
        clock=radio.clock,
    )
    source = with_scripted_events(ble, events)
    return OpenedSource(source, {**about, "source": f"virtual {s.family.value} sensors"}, seed, dict(fleet))


@asynccontextmanager
async def open_shared_source(
    spec: SessionSpec, drill: str = "quiet-stance", impairments: Impairments | None = None
) -> AsyncIterator[tuple[OpenedSource, SharedSource]]:
    """The source of a protocol, connected once for all its recordings (`SharedSource.segment`
    per recording; a `Cue` has simulated sensors act out that recording's drill), closed on exit.
    Simulated sensors stand still until cued; their clocks and counters run on between cues.
    impairments: as for `open_source` (simulated kinds)."""
    if spec.source.kind is SourceKind.BLUETOOTH:
        async with open_source(spec, drill) as opened:
            shared = SharedSource(opened.source)
            try:
                yield opened, shared
            finally:
                await shared.close()
        return
    seed = spec.source.seed if spec.source.seed is not None else fresh_seed()
    spec = replace(spec, source=replace(spec.source, seed=seed))
    body = standing_body(seed, spec.processing.calibration_s)
    async with open_source(spec, body, impairments=impairments) as opened:
        fleet = list(opened.fleet.values())
        source = opened.source
        radio = fleet[0].radio if fleet else None

        def world_origin_ns() -> int:  # host time of the body's time 0
            return int(radio.origin_ns) if radio is not None else source.host_origin_ns

        # The body the sensors sample: here, or in the radio process (cued through its channel).
        performer = radio.body if isinstance(radio, RemoteRadio) else body
        stage = SimulatedStage(spec, performer, seed, world_origin_ns, host_clock(source))
        shared = SharedSource(source, stage, paced=spec.source.realtime)
        try:
            yield opened, shared
        finally:
            await shared.close()


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


@dataclass
class Recorded:
    """A finished recording made by `record`: the session's report, its file, the source it
    was made on (closed by now) and the recording (its runner and writer)."""

    report: SessionReport
    path: Path
    opened: OpenedSource
    recording: Recording


async def record(
    spec: SessionSpec,
    subject_id: str,
    path: Path,
    drill: str | Drill | None = None,
    drill_s: float | None = None,
    *,
    sinks: Iterable[SessionSink] = (),
    impairments: Impairments | None = None,
    notes: str = "",
    protocol: Mapping[str, Any] | None = None,
    store_angles: bool = False,
    consolidate: bool = True,
    delivery_s: float | None = None,
) -> Recorded:
    """Record one session of `spec` into `path`, as `stabmon record` does: open the source
    (simulated kinds act out `drill`, default the specification's, for `drill_s` s, default its
    duration), start the recording with `sinks`, run it to the specification's duration or the
    source's end, close the file. The file names the drill acted out; the processing settings
    are the specification's as given (`processing.drill` empty: upright angles, every live
    measure). protocol: stored with the source's details in protocol_json; store_angles: also
    store the derived angles; consolidate: rewrite the closed file in large chunks (`Recording`);
    delivery_s: see `open_source`."""
    name = drill if isinstance(drill, str) else drill.name if drill is not None else spec.processing.drill
    name = name or "quiet-stance"
    length = drill_s if drill_s is not None else spec.processing.duration_s or 30.0
    prepare_writer(spec)
    async with open_source(
        spec, drill or name, length, impairments=impairments, delivery_s=delivery_s
    ) as opened:
        metadata = recording_metadata(spec, subject_id, opened, notes, protocol)
        metadata = replace(metadata, drill=name, store_angles=store_angles)
        recording = Recording(spec, opened.source, metadata, Path(path), sinks, consolidate=consolidate)
        report = await recording.run()
    return Recorded(report, Path(path), opened, recording)
