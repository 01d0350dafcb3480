"""`stabmon import`: sessions recorded by other systems (XDF) into the session library."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.imports import import_xdf
from recordings import read_recording
from recordings.atomic import check_writable
from sensors.placements import parse_placement
from stabmon.arguments import add_data_dir_argument, drill_name, rate_hz, subject_id


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("import", help="import IMU streams from an XDF file as a recording")
    parser.add_argument("file", type=Path, metavar="FILE.xdf", help="the XDF file holding the IMU streams")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="STREAM=PLACEMENT",
        help="placement of a stream (repeat)",
    )
    parser.add_argument(
        "--subject", required=True, type=subject_id, help="pseudonymous subject id (never a name)"
    )
    parser.add_argument(
        "--drill", required=True, type=drill_name, help="the drill the recording shows (see `stabmon drills`)"
    )
    parser.add_argument(
        "--task",
        choices=("single", "dual", "cognitive"),
        default="single",
        help="the task condition it was recorded in (default: single task; the file does not say)",
    )
    parser.add_argument("--rate", type=rate_hz, default=100.0, help="frame rate of the imported session, Hz")
    parser.add_argument("--out", type=Path, help="folder for the new file (default: the session library)")
    parser.add_argument(
        "--allow-truncated",
        action="store_true",
        help="import the readable part of a file that was cut short or is damaged (refused otherwise)",
    )
    add_data_dir_argument(parser)
    parser.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    if args.out is not None:  # before the XDF file is read
        check_writable(args.out, "the imported recording", folder=True)
    mapping = {}
    for value in args.map:
        name, sep, placement = value.rpartition("=")
        if not sep or not name:
            raise ValueError(f"--map takes STREAM=PLACEMENT, got {value!r}")
        mapping[name] = parse_placement(placement)
    path = import_xdf(
        args.file,
        args.subject,
        args.drill,
        mapping,
        args.rate,
        args.out,
        args.data_dir,
        args.allow_truncated,
        task=args.task,
    )
    recording = read_recording(path)
    print(f"Imported {args.file} → {path}")
    for placement, sensor in recording.sensors.items():
        source_id = f", source id {sensor.serial}" if sensor.serial else ""
        print(f"  {placement.value:<10}{sensor.model}{source_id}")
    recorded = recording.protocol.get("recorded_utc", "")
    when = "recorded " + recorded if recorded[:1].isdigit() else f"recording time {recorded}"
    print(f"  {when}; {recording.condition.label}")
    return 0
