"""What the commands that analyse recordings share: analysing with progress, the errors an
analysis may raise as one line, a reader's problems, a clinic's MDC file. Imported by those
commands only (`stabmon sessions` or `subject` never load the analysis)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TextIO

from recordings.analysis import analyze_recording
from recordings.catalogue import catalogue
from recordings.data_notes import data_notes
from recordings.errors import RecordingError
from recordings.reader import Recording
from sensors.processing.analysis import AnalysisResult
from sensors.processing.errors import ProcessingError
from stabmon.console import progress_callback

#: What analysing a readable but odd recording can raise; in a batch each is that file's problem.
ANALYSIS_ERRORS = (ProcessingError, ValueError, IndexError, KeyError, ArithmeticError)


def describe(error: Exception) -> str:
    """An error as one line: its own message for ours, with the kind for anything else."""
    text = " ".join(str(error).split())
    return text if isinstance(error, ProcessingError | RecordingError) else f"{type(error).__name__}: {text}"


class CannotAnalyseError(ProcessingError):
    """A readable recording whose analysis failed; the message names the file, `reason` says why
    without it (the message itself when not given)."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


def analyze_with_progress(recording: Recording, label: str = "") -> AnalysisResult:
    """Analyse one recording, showing progress on stderr; CannotAnalyseError (naming the file) when its
    data do not allow it."""
    try:
        return analyze_recording(recording, progress=progress_callback(label or recording.path.name))
    except ANALYSIS_ERRORS as error:
        why = describe(error)
        raise CannotAnalyseError(f"{recording.path}: cannot analyse ({why})", why) from None


def print_problems(
    recording: Recording, stream: TextIO | None = None, result: AnalysisResult | None = None
) -> None:
    """What is missing from the recording (`recordings.data_notes`: what the reader had to leave
    out or assume, each sensor that sent nothing for a while, whether the recording ended early),
    one `!` line each (nothing for a sound, complete file), on `stream` (default: standard
    output). With the recording's analysis `result`, its notes say the sensors' silences (from
    the replay's data: the file is not read again) and the part of the task measured."""
    for note in data_notes(recording, result.notes if result is not None else None):
        print(f"  ! {recording.path.name}: {note}", file=stream or sys.stdout)


def load_mdc(value: str | Path) -> dict[str, float]:
    """A clinic's MDC95 values (measure key → positive number) from --mdc's `value`: a JSON object
    inline (text starting with "{") or the path of a JSON file holding one; ValueError naming the
    value or file and what is wrong with it."""
    text = str(value).strip()
    inline = text.startswith("{")
    where = f"--mdc {text}" if inline else str(value)
    try:
        values = json.loads(text if inline else Path(value).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{where}: cannot read MDC values ({error})") from None
    if not isinstance(values, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values.values()
    ):
        raise ValueError(f"{where}: MDC values must be a JSON object of measure name → number")
    bad = {k: v for k, v in values.items() if not (math.isfinite(v) and v > 0)}
    if bad:
        raise ValueError(f"{where}: an MDC95 must be a positive finite number; not so for {bad}")
    known = {key for _, key in catalogue().entries}
    unknown = sorted(k for k in values if k not in known and k.removeprefix("mean_") not in known)
    if unknown:
        raise ValueError(
            f"{where}: no measure is named {', '.join(map(repr, unknown))} (MDC names are the measure "
            "keys, the `key` column of an exported _measures.csv, e.g. 'angle_ellipse_area_95')"
        )
    return {str(k): float(v) for k, v in values.items()}
