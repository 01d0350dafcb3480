"""Arguments several subcommands share."""

from __future__ import annotations

import argparse
from pathlib import Path

from recordings.library import default_data_dir


def add_data_dir_argument(parser: argparse.ArgumentParser) -> None:
    """--data-dir: the session library folder (default: the platform's user data folder)."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"session library folder (default: {default_data_dir()})",
    )
