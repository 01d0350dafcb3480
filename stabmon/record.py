"""`stabmon record`: run one session headless and save it to HDF5.

Real sensors: `--sensor lumbar=ADDRESS_OR_NAME --sensor pelvis=…` over the computer's Bluetooth.
`--simulate`: virtual sensors of the chosen protocol family on bumble's in-process radio, reached
through the very same bleak code (only bleak's backend differs); `--fast` runs them faster than
real time.
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

from recordings import RecordingSink, RecordingWriter, SessionMetadata, read_recording, session_file_name
from recordings.analysis import replay
from recordings.library import SessionLibrary
from recordings.lsl import LslMarkerInlet, LslOutletSink, with_lsl_markers
from sensors.ble.link import BleSource, LinkSettings
from sensors.ble.virtual.fleet import virtual_drill_source
from sensors.ble.virtual.radio import VirtualRadio
from sensors.identity import SensorFamily
from sensors.placements import REQUIRED_PLACEMENTS, Placement, parse_placement
from sensors.processing import SessionRunner, SessionSettings, SessionSink
from sensors.processing.errors import ProcessingError
from sensors.scripted import WithEvents
from sensors.simulator import DrillOptions, fresh_seed, make_drill
from stabmon.arguments import add_data_dir_argument, drill_name, positive_factor, rate_hz, seconds, subject_id
from stabmon.console import ProgressPrinter, format_measures, format_summary

SIMULATED_FAMILIES = [f.value for f in SensorFamily if f is not SensorFamily.SIMULATED]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sensor",
        action="append",
        default=[],
        metavar="PLACEMENT=ID",
        help="a real sensor for a placement, by address or advertised name (repeat for each)",
    )
    parser.add_argument("--simulate", action="store_true", help="use virtual sensors on a simulated body")
    parser.add_argument(
        "--family", default="stabmon", choices=SIMULATED_FAMILIES, help="protocol the virtual sensors speak"
    )
    parser.add_argument(
        "--drill", default="quiet-stance", type=drill_name, help="drill to run (see `stabmon drills`)"
    )
    parser.add_argument("--seconds", type=seconds, default=30.0, help="session length in seconds")
    parser.add_argument(
        "--out", type=Path, help="folder to write the session file into (default: the session library)"
    )
    add_data_dir_argument(parser)
    parser.add_argument(
        "--subject", default="anonymous", type=subject_id, help="pseudonymous subject id (never a name)"
    )
    parser.add_argument("--notes", default="", help="operator notes stored with the session")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="simulator seed (same seed, same data; default: a fresh one, stored in the file)",
    )
    parser.add_argument("--rate", type=rate_hz, default=100.0, help="sensor and frame rate, Hz")
    parser.add_argument(
        "--placements",
        default=",".join(p.value for p in REQUIRED_PLACEMENTS),
        help="with --simulate: comma-separated placements (" + ", ".join(p.value for p in Placement) + ")",
    )
    parser.add_argument(
        "--dual-task",
        type=positive_factor,
        default=1.0,
        metavar="FACTOR",
        help="simulate the dual-task condition: sway scaled by FACTOR",
    )
    parser.add_argument(
        "--fast", action="store_true", help="simulate as fast as possible instead of in real time"
    )
    parser.add_argument("--scan-seconds", type=seconds, default=5.0, help="how long to look for the sensors")
    parser.add_argument(
        "--lsl", action="store_true", help="publish raw IMU, angles and markers on the Lab Streaming Layer"
    )
    parser.add_argument(
        "--lsl-markers",
        metavar="NAME",
        help="record the markers of this LSL stream: by name, or type:TYPE (e.g. type:Markers)",
    )


def parse_assignments(values: list[str]) -> dict[Placement, str]:
    """{placement: sensor id} from PLACEMENT=ID arguments."""
    assignments: dict[Placement, str] = {}
    for value in values:
        placement, sep, sensor_id = value.partition("=")
        if not sep or not sensor_id.strip():
            raise ValueError(f"--sensor takes PLACEMENT=ID (e.g. lumbar=D4:22:CD:00:12:34), got {value!r}")
        key = parse_placement(placement)
        if key in assignments:
            raise ValueError(f"--sensor gives {key.value} twice")
        assignments[key] = sensor_id.strip()
    return assignments


def _check_placements(placements: tuple[Placement, ...]) -> None:
    twice = sorted({p.value for p in placements if placements.count(p) > 1})
    if twice:
        raise ValueError(f"--placements names {', '.join(twice)} more than once")
    for required in REQUIRED_PLACEMENTS:
        if required not in placements:
            raise ValueError(f"a session needs a {required.value} sensor ({required.anatomical_site})")


def run(args: argparse.Namespace) -> int:
    if args.simulate == bool(args.sensor):
        raise ValueError("give either --sensor PLACEMENT=ID for real sensors, or --simulate")
    return asyncio.run(_record(args))


async def _record(args: argparse.Namespace) -> int:
    settings = SessionSettings(rate_hz=args.rate, duration_s=args.seconds, drill=args.drill)
    link = LinkSettings(rate_hz=args.rate, scan_timeout_s=args.scan_seconds)
    async with AsyncExitStack() as stack:
        if args.simulate:
            placements = tuple(parse_placement(p) for p in args.placements.split(",") if p.strip())
            _check_placements(placements)
            radio = VirtualRadio(realtime=not args.fast)
            stack.push_async_callback(radio.close)
            seed = args.seed if args.seed is not None else fresh_seed()
            options = DrillOptions(duration_s=args.seconds, seed=seed, dual_task_factor=args.dual_task)
            drill = make_drill(args.drill, options)
            # The drill's markers (task start/end, perturbation pushes) are what the clinician
            # would mark; the simulated drill supplies them at their times.
            source: BleSource | WithEvents = await virtual_drill_source(
                radio, drill, placements, SensorFamily(args.family), link, seed=seed
            )
            protocol = {
                "source": f"virtual {args.family} sensors",
                "seed": seed,
                "dual_task_factor": args.dual_task,
            }
            what = f"{len(placements)} virtual {args.family} sensors (seed {seed})"
        else:
            assignments = parse_assignments(args.sensor)
            _check_placements(tuple(assignments))
            source = BleSource(assignments, link)
            protocol = {
                "source": "bluetooth",
                "sensors": {p.value: s for p, s in assignments.items()},
                "condition": "single",
            }
            what = f"{len(assignments)} sensors"
        metadata = SessionMetadata(
            subject_id=args.subject,
            drill=args.drill,
            settings=settings,
            operator_notes=args.notes,
            protocol={**protocol, "seconds": args.seconds},
        )
        if args.out is not None:
            token = metadata.session_condition.file_token
            path = args.out / session_file_name(metadata.subject_id, args.drill, metadata.created_utc, token)
        else:
            path = SessionLibrary(args.data_dir).path_for(
                metadata.subject_id, args.drill, metadata.created_utc, metadata.session_condition
            )
        inlet = None
        if args.lsl_markers:
            kind, _, value = args.lsl_markers.partition(":")
            by_type = kind == "type" and value
            inlet = (
                LslMarkerInlet.resolve(type_=value)
                if by_type
                else LslMarkerInlet.resolve(name=args.lsl_markers)
            )
        print(f"Connecting {what}…")
        await source.start()
        if inlet is not None:
            stack.callback(inlet.close)
            source = with_lsl_markers(source, inlet)
            print(f"  recording markers of LSL stream {inlet.name!r}")
        writer = RecordingWriter(path, metadata, source.sensors)
        stack.callback(writer.close)  # whatever happens, everything received so far is on disk
        for placement, identity in source.sensors.items():
            print(f"  {placement.value:<11} {identity.describe()}  {identity.model}")
        print(f"Recording {args.drill} for {args.seconds:.0f} s → {path}")
        # Nothing of the session is kept in memory: its summary and measures come from the file.
        sinks: list[SessionSink] = [RecordingSink(writer), ProgressPrinter(source, args.seconds)]
        if args.lsl:
            sinks.append(LslOutletSink(source.sensors, args.rate))
            print("  publishing on LSL: stabmon-<placement> (IMU), stabmon-angles, stabmon-markers")
        report = await SessionRunner(source, sinks, settings).run()  # start() again is a no-op
    collector = replay(read_recording(path, derived=False), running_measures=False).collector
    print(format_summary(report, collector.summary()))
    try:
        print(format_measures(collector.analysis(args.drill)))
    except ProcessingError as error:
        print(f"Measures: not available ({error})")
    print(f"Saved {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0
