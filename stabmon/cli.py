"""The `stabmon` command: argparse subcommands over the packages.

Each subcommand lives in a module of its own, imported only when that command runs (or its
`--help` is asked for): `stabmon analyze` never loads bleak, bumble, matplotlib or Qt, and
`stabmon --help` loads none of the packages but the heap policy every command starts with
(`recordings.c_heap_policy`, which loads nothing else). A module either defines
`add_arguments(parser)` and `run(args)` for one command, or `add_commands(subparsers)` for several.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from recordings.c_heap_policy import give_freed_arrays_back


@dataclass(frozen=True)
class _Command:
    """Where a subcommand is defined: `module` has add_commands(subparsers) when `several`, else
    add_arguments(parser) and run(args)."""

    module: str
    help: str
    several: bool = False


_COMMANDS: dict[str, _Command] = {
    "record": _Command("stabmon.record", "record a session headless to HDF5"),
    "scan": _Command("stabmon.scan", "list the Bluetooth sensors in range"),
    "drills": _Command("stabmon.cli", "list the drills the simulator can run"),
    "dashboard": _Command("stabmon.dashboard", "the clinician's dashboard (Qt window)"),
    "analyze": _Command("stabmon.review", "measures of one or more recordings", several=True),
    "compare": _Command(
        "stabmon.review",
        "a re-test against the baseline: change of each measure against its MDC",
        several=True,
    ),
    "sessions": _Command("stabmon.review", "list the recordings in the session library", several=True),
    "recover": _Command(
        "stabmon.review",
        "make a file left open by a crash readable by every tool; damaged chunks become flagged gaps",
        several=True,
    ),
    "subject": _Command(
        "stabmon.review", "store a subject's demographics and a visit's pain and questionnaire", several=True
    ),
    "visit": _Command(
        "stabmon.review", "a visit's protocol results: means, left/right, McGill ratios", several=True
    ),
    "repack": _Command(
        "stabmon.review", "rewrite a recording in the HDF5 1.10 format older tools read", several=True
    ),
    "consolidate": _Command(
        "stabmon.review",
        "rewrite closed recordings in large chunks: the same data, read faster",
        several=True,
    ),
    "export": _Command("stabmon.outputs", "export recordings as CSV or Motion-BIDS", several=True),
    "report": _Command("stabmon.outputs", "clinical report of a session (HTML or PDF)", several=True),
    "import": _Command("stabmon.lab", "import IMU streams from an XDF file as a recording", several=True),
    "cohort": _Command("stabmon.cohort", "every recording under folders into one tidy measures table"),
}

#: Errors a command reports as one line (exit status 2) instead of a traceback, by module and
#: class name: StabmonError, the root of every error the packages raise, and ValueError. Only
#: classes of modules already imported can have been raised, so none is imported for this.
_REPORTED_ERRORS = (
    ("sensors.errors", "StabmonError"),
    ("builtins", "ValueError"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`stabmon drills` takes no arguments."""


def run(_: argparse.Namespace) -> int:
    """`stabmon drills`: the simulator's drills, one a line."""
    from sensors.simulator import describe_drills

    for name, text in describe_drills().items():
        print(f"{name:<26} {text}")
    return 0


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named in argv (the first word that is one), if any."""
    return next((word for word in argv if word in _COMMANDS), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser, with the full arguments of the command named in argv (all commands' when argv
    is None) and a one-line entry for every other command."""
    parser = argparse.ArgumentParser(prog="stabmon", description="Wearable-IMU stability monitor")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)
    if argv is None:
        wanted = list(_COMMANDS)
    else:
        chosen = _chosen_command(argv)
        wanted = [chosen] if chosen is not None else []
    loaded: set[str] = set()
    for name in wanted:
        command = _COMMANDS[name]
        if command.module in loaded:
            continue
        loaded.add(command.module)
        module = importlib.import_module(command.module)
        if command.several:
            module.add_commands(commands)
        else:
            sub = commands.add_parser(name, help=command.help)
            module.add_arguments(sub)
            sub.set_defaults(handler=module.run)
    for name, command in _COMMANDS.items():
        if name not in commands.choices:
            commands.add_parser(name, help=command.help)
    return parser


def _reported_errors() -> tuple[type[BaseException], ...]:
    return tuple(
        getattr(sys.modules[module], name) for module, name in _REPORTED_ERRORS if module in sys.modules
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    give_freed_arrays_back()  # the heap policy of every command (recordings/c_heap_policy.py)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.handler(args))
    except OSError as error:  # a file or folder the command was given: missing, not allowed, full
        from recordings.disk_room import os_error_line

        print(f"stabmon {args.command}: {os_error_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"stabmon {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if not isinstance(error, _reported_errors()):
            raise
        print(f"stabmon {args.command}: {error}", file=sys.stderr)
        return 2
