"""`stabmon analyze`, `compare`, `sessions` and `recover`: work on recordings after the session."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TextIO

from recordings import read_recording
from recordings.analysis import analyze_recording
from recordings.compare import Comparison, compare_results
from recordings.errors import RecordingError
from recordings.library import SessionLibrary
from recordings.reader import Recording
from recordings.recovery import recover
from sensors.processing.analysis import AnalysisResult
from sensors.processing.errors import ProcessingError
from stabmon.arguments import add_data_dir_argument, subject_id
from stabmon.console import format_measures, progress_callback


def add_commands(commands: argparse._SubParsersAction) -> None:
    analyze = commands.add_parser("analyze", help="measures of one or more recordings")
    analyze.add_argument("files", nargs="+", type=Path, metavar="FILE")
    analyze.add_argument("--repetitions", action="store_true", help="also list each repetition")
    analyze.set_defaults(handler=run_analyze)

    compare = commands.add_parser(
        "compare", help="a re-test against the baseline: change of each measure against its MDC"
    )
    compare.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="BASELINE RETEST, or just RETEST to use the subject's first session of that drill",
    )
    compare.add_argument(
        "--mdc", type=Path, help="JSON object of measure name → MDC95 from a test-retest study"
    )
    add_data_dir_argument(compare)
    compare.set_defaults(handler=run_compare)

    sessions = commands.add_parser("sessions", help="list the recordings in the session library")
    sessions.add_argument("--subject", type=subject_id, help="only this pseudonymous subject id")
    sessions.add_argument("--drill", help="only this drill")
    add_data_dir_argument(sessions)
    sessions.set_defaults(handler=run_sessions)

    rec = commands.add_parser("recover", help="make a file left open by a crash readable by every tool")
    rec.add_argument("file", type=Path, metavar="FILE")
    rec.set_defaults(handler=run_recover)


#: What analysing a readable but odd recording can raise; in a batch each is that file's problem.
ANALYSIS_ERRORS = (ProcessingError, ValueError, IndexError, KeyError, ArithmeticError)


def describe(error: Exception) -> str:
    """An error as one line: its own message for ours, with the kind for anything else."""
    text = " ".join(str(error).split())
    return text if isinstance(error, ProcessingError | RecordingError) else f"{type(error).__name__}: {text}"


class CannotAnalyseError(ProcessingError):
    """A readable recording whose analysis failed; the message names the file."""


def analyze_with_progress(recording: Recording, label: str = "") -> AnalysisResult:
    """Analyse one recording, showing progress on stderr; CannotAnalyseError (naming the file) when its
    data do not allow it."""
    try:
        return analyze_recording(recording, progress=progress_callback(label or recording.path.name))
    except ANALYSIS_ERRORS as error:
        raise CannotAnalyseError(f"{recording.path}: cannot analyse ({describe(error)})") from None


def print_problems(recording: Recording, stream: TextIO | None = None) -> None:
    """What the reader had to leave out or assume, one `!` line each (nothing for a sound file),
    on `stream` (default: standard output)."""
    for problem in recording.problems:
        print(f"  ! {recording.path.name}: {problem}", file=stream or sys.stdout)


def run_analyze(args: argparse.Namespace) -> int:
    """Each file in turn; a file that cannot be read or analysed is reported and the rest go on."""
    failed = 0
    for k, path in enumerate(args.files, start=1):
        label = f"[{k}/{len(args.files)}] {path.name}" if len(args.files) > 1 else path.name
        try:
            recording = read_recording(path)
            print(f"{path}  (subject {recording.subject_id}, {recording.duration_s:.0f} s)")
            print_problems(recording)
            result = analyze_with_progress(recording, label)
        except (RecordingError, CannotAnalyseError) as error:
            print(f"stabmon analyze: {error}", file=sys.stderr)
            failed += 1
            continue
        print(format_measures(result, repetitions=args.repetitions))
    if failed and len(args.files) > 1:
        print(f"stabmon analyze: {failed} of {len(args.files)} files could not be analysed", file=sys.stderr)
    return 2 if failed else 0


def run_compare(args: argparse.Namespace) -> int:
    if len(args.files) > 2:
        raise ValueError("compare takes BASELINE RETEST, or RETEST alone")
    retest = read_recording(args.files[-1])
    if len(args.files) == 2:
        baseline = read_recording(args.files[0])
    else:
        entry = SessionLibrary(args.data_dir).baseline(retest.subject_id, retest.drill)
        if entry is None or entry.path.resolve() == retest.path.resolve():
            raise ValueError(
                f"no earlier {retest.drill} session of subject {retest.subject_id} in the library; "
                "name the baseline file"
            )
        baseline = read_recording(entry.path)
    print_problems(baseline, sys.stderr)
    print_problems(retest, sys.stderr)
    if baseline.subject_id != retest.subject_id:
        print(
            f"note: comparing different subjects ({baseline.subject_id} vs {retest.subject_id})",
            file=sys.stderr,
        )
    published = _load_mdc(args.mdc) if args.mdc else None
    comparison = compare_results(
        analyze_with_progress(baseline, f"baseline {baseline.path.name}"),
        analyze_with_progress(retest, f"re-test {retest.path.name}"),
        published,
    )
    unused = sorted(set(published or {}) - {r.name for r in comparison.rows})
    if unused:
        print(
            f"note: --mdc {args.mdc} names measures this {retest.drill} comparison does not have: "
            f"{', '.join(unused)} (check their spelling)",
            file=sys.stderr,
        )
    print(f"Baseline {baseline.path.name}\nRe-test  {retest.path.name}")
    print(format_comparison(comparison))
    return 0


def _load_mdc(path: Path) -> dict[str, float]:
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: cannot read MDC values ({error})") from None
    if not isinstance(values, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values.values()
    ):
        raise ValueError(f"{path}: MDC file must be a JSON object of measure name → number")
    bad = {k: v for k, v in values.items() if not (math.isfinite(v) and v > 0)}
    if bad:
        raise ValueError(f"{path}: an MDC95 must be a positive finite number; not so for {bad}")
    return {str(k): float(v) for k, v in values.items()}


def format_comparison(comparison: Comparison) -> str:
    """The comparison as an aligned text table."""
    lines = [f"{'measure':<34}{'unit':<9}{'baseline':>10}{'re-test':>10}{'change':>10}{'MDC95':>9}  verdict"]
    for r in comparison.rows:
        mdc = f"{r.mdc95:9.3g}" if math.isfinite(r.mdc95) else f"{'—':>9}"
        values = f"{r.baseline:10.4g}{r.retest:10.4g}{r.change:+10.3g}{mdc}"
        lines.append(f"{r.name:<38}{r.unit:<9}{values}  {r.verdict.value}")
    return "\n".join(lines)


def run_sessions(args: argparse.Namespace) -> int:
    library = SessionLibrary(args.data_dir)
    entries = library.sessions(args.subject, args.drill)
    if not entries:
        print(f"No sessions in {library.root}")
        return 0
    print(f"{'created (UTC)':<20}{'subject':<12}{'drill':<24}{'length':>8}  file")
    for e in entries:
        created = e.created_utc.strftime("%Y-%m-%d %H:%M") if e.created_utc else "?"
        length = f"{e.duration_s:7.0f}s" if not e.problem else ""
        problem = f"  ({e.problem})" if e.problem else ""
        print(f"{created:<20}{e.subject_id:<12}{e.drill:<24}{length:>8}  {e.path}{problem}")
    return 0


def run_recover(args: argparse.Namespace) -> int:
    result = recover(args.file)
    samples = sum(len(s) for s in result.recording.samples.values())
    print(
        f"Recovered {args.file}: {samples} samples, {result.recording.duration_s:.1f} s of frames; "
        f"the original is kept as {result.original_kept_at}"
    )
    return 0
