"""`stabmon record`: run one session headless and save it to HDF5."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from recordings import RecordingSink, RecordingWriter, SessionMetadata, session_file_name
from recordings.library import SessionLibrary
from sensors.placements import REQUIRED_PLACEMENTS, parse_placement
from sensors.processing import SessionRunner, SessionSettings
from sensors.processing.collector import SessionCollector
from sensors.processing.errors import ProcessingError
from sensors.simulator import DrillOptions, SimulatedSensorSettings, SimulatedSource, make_drill
from stabmon.arguments import add_data_dir_argument
from stabmon.console import ProgressPrinter, format_measures, format_summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--simulate", action="store_true", help="use virtual sensors on a simulated body")
    parser.add_argument("--drill", default="quiet-stance", help="drill to run (see `stabmon drills`)")
    parser.add_argument("--seconds", type=float, default=30.0, help="session length in seconds")
    parser.add_argument(
        "--out", type=Path, help="folder to write the session file into (default: the session library)"
    )
    add_data_dir_argument(parser)
    parser.add_argument("--subject", default="anonymous", help="pseudonymous subject id (never a name)")
    parser.add_argument("--notes", default="", help="operator notes stored with the session")
    parser.add_argument("--seed", type=int, default=0, help="simulator seed (same seed, same data)")
    parser.add_argument("--rate", type=float, default=100.0, help="sensor and frame rate, Hz")
    parser.add_argument(
        "--placements",
        default=",".join(p.value for p in REQUIRED_PLACEMENTS),
        help="comma-separated placements (lumbar, pelvis, thorax, left_thigh, right_thigh)",
    )
    parser.add_argument(
        "--dual-task",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="simulate the dual-task condition: sway scaled by FACTOR",
    )
    parser.add_argument(
        "--fast", action="store_true", help="simulate as fast as possible instead of in real time"
    )


def run(args: argparse.Namespace) -> int:
    if not args.simulate:
        print(
            "stabmon record: real sensors need the BLE layer, which this version does not have yet; "
            "use --simulate for virtual sensors",
            file=sys.stderr,
        )
        return 2
    placements = tuple(parse_placement(p) for p in args.placements.split(",") if p.strip())
    for required in REQUIRED_PLACEMENTS:
        if required not in placements:
            raise ValueError(f"--placements must include {required.value}")
    options = DrillOptions(duration_s=args.seconds, seed=args.seed, dual_task_factor=args.dual_task)
    drill = make_drill(args.drill, options)
    source = SimulatedSource(
        drill, placements, SimulatedSensorSettings(rate_hz=args.rate), seed=args.seed, realtime=not args.fast
    )
    settings = SessionSettings(rate_hz=args.rate, duration_s=args.seconds)
    metadata = SessionMetadata(
        subject_id=args.subject,
        drill=args.drill,
        settings=settings,
        operator_notes=args.notes,
        protocol={
            "source": "simulator",
            "seed": args.seed,
            "seconds": args.seconds,
            "dual_task_factor": args.dual_task,
        },
    )
    if args.out is not None:
        path = args.out / session_file_name(metadata.subject_id, args.drill, metadata.created_utc)
    else:
        path = SessionLibrary(args.data_dir).path_for(metadata.subject_id, args.drill, metadata.created_utc)
    writer = RecordingWriter(path, metadata, source.sensors)
    collector = SessionCollector()
    print(
        f"Recording {args.drill} for {args.seconds:.0f} s from {len(placements)} simulated sensors → {path}"
    )
    sinks = [RecordingSink(writer), collector, ProgressPrinter(source, args.seconds)]
    runner = SessionRunner(source, sinks, settings)
    try:
        report = asyncio.run(runner.run())
    finally:
        writer.close()  # whatever happened, everything received so far is on disk
    print(format_summary(report, collector.summary()))
    try:
        print(format_measures(collector.analysis(args.drill)))
    except ProcessingError as error:
        print(f"Measures: not available ({error})")
    size_kb = path.stat().st_size / 1024
    print(f"Saved {path} ({size_kb:.0f} KiB)")
    return 0
