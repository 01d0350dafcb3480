"""The `stabmon` command: argparse subcommands over the packages."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from recordings.errors import InvalidSubjectIdError, RecordingError
from recordings.lsl import LslError
from recordings.xdf_import import XdfImportError
from sensors.errors import SensorsError
from sensors.processing.errors import ProcessingError
from sensors.simulator import describe_drills
from stabmon import dashboard as dashboard_command
from stabmon import lab, outputs, record, review, scan


def _drills(_: argparse.Namespace) -> int:
    for name, text in describe_drills().items():
        print(f"{name:<26} {text}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stabmon", description="Wearable-IMU stability monitor")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record", help="record a session headless to HDF5")
    record.add_arguments(rec)
    rec.set_defaults(handler=record.run)
    scanner = commands.add_parser("scan", help="list the Bluetooth sensors in range")
    scan.add_arguments(scanner)
    scanner.set_defaults(handler=scan.run)
    drills = commands.add_parser("drills", help="list the drills the simulator can run")
    drills.set_defaults(handler=_drills)
    dashboard = commands.add_parser("dashboard", help="the clinician's dashboard (Qt window)")
    dashboard_command.add_arguments(dashboard)
    dashboard.set_defaults(handler=dashboard_command.run)
    review.add_commands(commands)
    outputs.add_commands(commands)
    lab.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.handler(args))
    except (
        SensorsError,
        ProcessingError,
        RecordingError,
        InvalidSubjectIdError,
        LslError,
        XdfImportError,
        ValueError,
    ) as error:
        print(f"stabmon {args.command}: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a file or folder the command was given: missing, not allowed, full
        where = f"{error.filename}: " if error.filename else ""
        print(f"stabmon {args.command}: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"stabmon {args.command}: interrupted", file=sys.stderr)
        return 130
