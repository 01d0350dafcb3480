"""`stabmon record`: run one session headless and save it to HDF5.

Real sensors: `--sensor lumbar=ADDRESS_OR_NAME --sensor pelvis=…` over the computer's Bluetooth.
`--simulate`: virtual sensors of the chosen protocol family on bumble's in-process radio, reached
through the very same bleak code (only bleak's backend differs); `--fast` runs them faster than
real time; `--no-radio` takes the simulated samples straight, without the link.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from engine.factory import Recording, open_source, prepare_writer, recording_metadata, recording_path
from engine.spec import LslSpec, SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from recordings.analysis import measures_of, replay
from recordings.library import SessionLibrary
from sensors.identity import SensorFamily
from sensors.placements import REQUIRED_PLACEMENTS, Placement, parse_placement
from sensors.processing import SessionSettings
from sensors.processing.errors import ProcessingError
from stabmon.arguments import (
    add_data_dir_argument,
    drill_name,
    positive_factor,
    rate_hz,
    seconds,
    subject_id,
    writable_folder,
)
from stabmon.console import ProgressPrinter, format_measures, format_summary

#: The families virtual sensors speak (not the simulator's own, nor an import's).
SIMULATED_FAMILIES = [
    f.value for f in SensorFamily if f not in (SensorFamily.SIMULATED, SensorFamily.IMPORTED)
]


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
        "--no-radio",
        action="store_true",
        help="with --simulate: the simulated body's samples straight, without the virtual BLE link "
        "(the same body and drill, without the link's timing and loss, for a fraction of the CPU)",
    )
    parser.add_argument(
        "--family", default="stabmon", choices=SIMULATED_FAMILIES, help="protocol the virtual sensors speak"
    )
    parser.add_argument(
        "--drill", default="quiet-stance", type=drill_name, help="drill to run (see `stabmon drills`)"
    )
    parser.add_argument(
        "--seconds",
        type=seconds,
        default=None,
        help="session length in seconds (default: one repetition of the drill's bundled protocol, "
        "calibration + task, e.g. 3 + 30 s for quiet stance, 3 + 14 s for a plank's 10-s hold, "
        "3 + 240 s for Biering-Sørensen)",
    )
    parser.add_argument(
        "--out", type=Path, help="folder to write the session file into (default: the session library)"
    )
    add_data_dir_argument(parser)
    parser.add_argument(
        "--subject",
        default="ANON-000",
        type=subject_id,
        help="pseudonymous subject id, a code with a digit such as P-014, never a name "
        "(default: %(default)s)",
    )
    parser.add_argument("--notes", default="", help="operator notes stored with the session")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="simulator seed (same seed, same data; default: a fresh one, stored in the file)",
    )
    parser.add_argument(
        "--rate", type=rate_hz, default=100.0, help="sensor and frame rate, Hz (default: %(default)g)"
    )
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
        "--sway-scale",
        type=positive_factor,
        default=1.0,
        metavar="FACTOR",
        help="with --simulate: a more (> 1) or less (< 1) unsteady simulated patient, all postural "
        "sway scaled by FACTOR in the same condition (unlike --dual-task), e.g. 2 before and 1 after "
        "treatment; stored in the file's protocol_json as sway_scale",
    )
    parser.add_argument(
        "--fast", action="store_true", help="simulate as fast as possible instead of in real time"
    )
    parser.add_argument(
        "--scan-seconds",
        type=seconds,
        default=5.0,
        help="how long to look for the sensors, s (default: %(default)g)",
    )
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


def run(args: argparse.Namespace) -> int:
    if args.simulate == bool(args.sensor):
        raise ValueError("give either --sensor PLACEMENT=ID for real sensors, or --simulate")
    if args.no_radio and not args.simulate:
        raise ValueError("--no-radio goes with --simulate")
    if args.sway_scale != 1.0 and not args.simulate:
        raise ValueError("--sway-scale goes with --simulate (it changes the simulated patient)")
    if args.seconds is None:
        args.seconds = drill_length_s(args.drill)
    return asyncio.run(_record(args))


def drill_length_s(drill: str) -> float:
    """The length (s) a clinician expects of one recording of `drill`: one repetition of its
    bundled protocol as the dashboard records it (calibration + task), from its single-task
    protocol with the longest task (quiet stance: the 30-s one, not the 20-s quick screen; a hold
    to failure: its cap, so the length never ends a hold a patient would keep up). A drill no
    protocol runs: its simulated script's own length."""
    from gui.model.protocols import load_protocols
    from sensors.simulator import make_drill

    bundled, _ = load_protocols()
    own = [p for p in bundled if p.drill == drill and not p.dual_task]
    if own:
        protocol = max(own, key=lambda p: p.task_s)  # the first of equals
        return protocol.calibration_s + protocol.task_s
    return make_drill(drill).duration_s


def session_spec(args: argparse.Namespace) -> SessionSpec:
    """The session specification the arguments describe (checked: the required placements)."""
    if args.simulate:
        placements = tuple(parse_placement(p) for p in args.placements.split(",") if p.strip())
        twice = sorted({p.value for p in placements if placements.count(p) > 1})
        if twice:
            raise ValueError(f"--placements names {', '.join(twice)} more than once")
        source = SourceSpec(
            kind=SourceKind.SIMULATED if args.no_radio else SourceKind.VIRTUAL_BLE,
            family=SensorFamily(args.family),
            placements=placements,
            seed=args.seed,
            realtime=not args.fast,
            scan_timeout_s=args.scan_seconds,
            dual_task_factor=args.dual_task,
            sway_scale=args.sway_scale,
        )
    else:
        source = SourceSpec(
            kind=SourceKind.BLUETOOTH,
            assignments=tuple(parse_assignments(args.sensor).items()),
            scan_timeout_s=args.scan_seconds,
        )
    spec = SessionSpec(
        source=source,
        lsl=LslSpec(outlet=args.lsl, markers=args.lsl_markers or ""),
        processing=SessionSettings(rate_hz=args.rate, duration_s=args.seconds, drill=args.drill),
    )
    spec.check()
    return spec


def check_output_folder(args: argparse.Namespace) -> None:
    """Create and check the folder the recording goes into (--out, else the library) before any
    sensor connects: a wrong path is said at once, not after the session was recorded."""
    if args.out is not None:
        writable_folder(args.out, "--out")
    else:
        writable_folder(SessionLibrary(args.data_dir).root, "--data-dir")


async def _record(args: argparse.Namespace) -> int:
    spec = session_spec(args)
    check_output_folder(args)
    simulated = spec.source.simulated
    prepare_writer(spec)  # the writer process loads while the sensors connect
    # The drill's markers (task start/end, perturbation pushes) are what the clinician would
    # mark; the simulated drill supplies them at their times.
    async with open_source(
        spec, args.drill, args.seconds, dual_task=simulated and args.dual_task != 1.0
    ) as opened:
        source = opened.source
        if simulated:
            n = len(spec.source.placements)
            if spec.source.kind is SourceKind.SIMULATED:
                print(f"Simulating {n} sensors without a radio (seed {opened.seed})")
            else:
                print(f"Connected {n} virtual {args.family} sensors (seed {opened.seed})")
        else:
            opened.about["condition"] = "single"
            print(f"Connected {len(source.sensors)} sensors")
        if "lsl_markers" in opened.about:
            print(f"  recording markers of LSL stream {opened.about['lsl_markers']!r}")
        metadata = recording_metadata(spec, args.subject, opened, args.notes, {"seconds": args.seconds})
        path = recording_path(metadata, args.data_dir, args.out)
        for placement, identity in source.sensors.items():
            print(f"  {placement.value:<11} {identity.describe()}  {identity.model}")
        print(f"Recording {args.drill} for {args.seconds:.0f} s → {path}")
        if args.lsl:
            imu = ", ".join(f"stabmon-{p.value}" for p in source.sensors)
            print(f"Publishing on LSL: {imu} (IMU), stabmon-angles, stabmon-markers")
        # Nothing of the session is kept in memory: its summary and measures come from the file.
        progress = ProgressPrinter(source, args.seconds, nominal_rate_hz=args.rate)
        recording = Recording(spec, source, metadata, path, [progress])
        report = await recording.run()  # whatever happens, everything received so far is on disk
    saved = read_recording(path, derived=False)
    collector = replay(saved, running_measures=False).collector
    recorded = {p: len(block) for p, block in saved.samples.items()}
    print(format_summary(report, collector.summary(), args.rate, recorded))
    try:  # the subject's stored settings (sensor height: stride length, gait speed) as analyze uses
        print(format_measures(measures_of(collector, saved)))
    except ProcessingError as error:
        print(f"Measures: not available ({error})")
    print(f"Saved {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0
