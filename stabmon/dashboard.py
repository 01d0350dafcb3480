"""`stabmon dashboard`: its arguments here; Qt is imported only when it runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from stabmon.arguments import subject_id


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The dashboard's options."""
    parser.add_argument("--simulate", action="store_true", help="start with virtual sensors")
    parser.add_argument("--subject", type=subject_id, help="pseudonymous subject id (never a name)")
    parser.add_argument(
        "--data-dir", type=Path, help="session library folder (default: remembered, else the platform's)"
    )
    parser.add_argument("--protocols", type=Path, help="a folder of the clinic's own protocol files (*.toml)")
    parser.add_argument("--settings", type=Path, help="settings file (default: the user's config folder)")
    parser.add_argument(
        "--run", metavar="PROTOCOL", help="start this protocol (file name without .toml) at once"
    )
    parser.add_argument("--patient-view", action="store_true", help="open the patient view too")
    parser.add_argument(
        "--quit-when-done", action="store_true", help="close when the --run protocol ends (for demos)"
    )
    parser.add_argument(
        "--screenshot", type=Path, help="with --quit-when-done: save the window to this PNG first"
    )


def run(args: argparse.Namespace) -> int:
    from gui.app import run as run_dashboard

    return run_dashboard(args)
