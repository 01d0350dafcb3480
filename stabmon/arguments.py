"""Arguments several subcommands share, and the argument types that check values at the command
line, before they reach a settings object, a file name or C code."""

from __future__ import annotations

import argparse
import math
import os
import re
from datetime import date
from pathlib import Path

from recordings.errors import InvalidSubjectIdError
from recordings.library import default_data_dir
from recordings.schema import check_subject_id
from sensors.value_checks import MAX_RATE_HZ


def add_data_dir_argument(parser: argparse.ArgumentParser) -> None:
    """--data-dir: the session library folder (default: the platform's user data folder)."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"session library folder (default: {default_data_dir()})",
    )


def add_mdc_argument(parser: argparse.ArgumentParser) -> None:
    """--mdc (compare, report): the clinic's MDC95 values, read by `stabmon.analyses.load_mdc`."""
    parser.add_argument(
        "--mdc",
        metavar="JSON|FILE",
        help="the clinic's MDC95 of each measure: a JSON object of measure key → number, given inline "
        """('{"angle_rms_ap": 0.2}') or as the path of a .json file holding it""",
    )


def existing_data_dir(data_dir: Path | None) -> Path | None:
    """A --data-dir given to a command that reads the library: it must be a folder that exists
    (ValueError naming it); None (the default library) passes."""
    if data_dir is None:
        return None
    if not data_dir.exists():
        raise ValueError(f"--data-dir {data_dir}: no such folder")
    if not data_dir.is_dir():
        raise ValueError(f"--data-dir {data_dir}: a file, not a folder")
    return data_dir


def writable_folder(folder: Path, option: str) -> Path:
    """The folder a command will write into, created now if missing (parents too), so that a
    wrong one is said before any sensor connects: ValueError naming `option` and the folder."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{option} {folder}: a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"{option} {folder}: cannot create the folder ({error.strerror or error})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {folder}: no permission to write there")
    return folder


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def rate_hz(text: str) -> float:
    """A rate in Hz: a finite number > 0 and ≤ MAX_RATE_HZ."""
    value = _finite(text)
    if not 0 < value <= MAX_RATE_HZ:
        raise argparse.ArgumentTypeError(f"rate {text} Hz must be above 0 and at most {MAX_RATE_HZ:g} Hz")
    return value


def seconds(text: str) -> float:
    """A duration in s: a finite number > 0 and at most a day."""
    from sensors.processing.settings_checks import MAX_DURATION_S  # loads the processing package

    value = _finite(text)
    if not 0 < value <= MAX_DURATION_S:
        raise argparse.ArgumentTypeError(f"{text} s must be above 0 and at most {MAX_DURATION_S:g} s")
    return value


def positive_factor(text: str) -> float:
    """A scale factor: a finite number > 0 (at most 100)."""
    value = _finite(text)
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"factor {text} must be above 0 and at most 100")
    return value


def subject_id(text: str) -> str:
    """A pseudonymous subject id: a code of letters, digits and '-' with at least one digit
    (`recordings.schema.check_subject_id`, the check the dashboard makes too)."""
    try:
        return check_subject_id(text)
    except InvalidSubjectIdError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def visit_date(text: str) -> date:
    """A calendar date written YYYY-MM-DD (e.g. 2026-03-14); anything else is refused by name."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"{text} is not a date (YYYY-MM-DD)")


def drill_name(text: str) -> str:
    """A drill of the catalogue (`stabmon drills`); anything else, a path above all, is refused."""
    from sensors.simulator import DRILL_NAMES  # only when the argument is given: keeps startup light

    if text not in DRILL_NAMES:
        raise argparse.ArgumentTypeError(f"unknown drill {text!r}; known drills: {', '.join(DRILL_NAMES)}")
    return text
