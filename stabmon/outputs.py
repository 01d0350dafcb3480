"""`stabmon export` and `stabmon report`: recordings turned into files for other people and tools."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from gui.model.settings import default_settings_path, load_settings
from recordings import read_recording
from recordings.analysis import ReplayedSession, measures_of, replay
from recordings.atomic import check_writable
from recordings.baseline_order import check_baseline_before
from recordings.compare import SessionFacts, compare_results, library_for
from recordings.disk_room import os_error_line
from recordings.errors import RecordingError
from recordings.export_bids import DatasetInfo, export_bids
from recordings.export_csv import export_csv
from recordings.protocol_results import visit_of
from recordings.reader import Recording
from recordings.references import reference_set
from recordings.report import build_report
from recordings.report_cache import FileAnalyses
from recordings.report_history import subject_history
from recordings.subjects import subject_beside
from recordings.visit_pool import baseline_visit, pool_results, run_of, unreadable_beside
from sensors.processing.analysis import AnalysisResult
from sensors.processing.errors import ProcessingError
from stabmon.analyses import (
    ANALYSIS_ERRORS,
    CannotAnalyseError,
    analyze_with_progress,
    describe,
    load_mdc,
    print_problems,
)
from stabmon.arguments import add_data_dir_argument, add_mdc_argument
from stabmon.console import progress_callback


def add_commands(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="export recordings as CSV or Motion-BIDS")
    export.add_argument("files", nargs="+", type=Path, metavar="FILE", help="a session recording (.h5)")
    export.add_argument(
        "--format",
        choices=("csv", "bids"),
        required=True,
        help="csv: one set of CSV files per recording; bids: a Motion-BIDS dataset",
    )
    export.add_argument(
        "-o", "--out", type=Path, required=True, help="folder for CSV files, or the BIDS dataset folder"
    )
    bids = export.add_argument_group("Motion-BIDS dataset details (written when given)")
    bids.add_argument("--author", action="append", default=[], help="an author (repeat for each)")
    bids.add_argument("--license", help="the dataset's license, e.g. CC-BY-4.0")
    bids.add_argument("--institution", help="institution in charge of the equipment")
    bids.add_argument("--institution-address", help="its address")
    bids.add_argument("--department", help="its department")
    export.set_defaults(handler=run_export)

    report = commands.add_parser("report", help="clinical report of a session (HTML or PDF)")
    report.add_argument("file", type=Path, metavar="FILE", help="the session recording to report (.h5)")
    report.add_argument(
        "--baseline",
        type=Path,
        help="baseline session to compare with (default: the subject's first session of the drill "
        "in the same condition, as the review window picks it)",
    )
    add_mdc_argument(report)
    report.add_argument(
        "--references", type=Path, action="append", default=[], help="a clinic's reference-value file"
    )
    report.add_argument("--clinic", help="clinic name (default: from the dashboard settings)")
    report.add_argument("--clinician", help="clinician (default: from the dashboard settings)")
    report.add_argument("-o", "--out", type=Path, required=True, help="report file, .html or .pdf")
    add_data_dir_argument(report)
    report.set_defaults(handler=run_report)


def run_export(args: argparse.Namespace) -> int:
    """Each file in turn; a file that cannot be read is reported and the rest go on."""
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"-o {args.out} is an existing file; export writes into a folder")
    check_writable(args.out, "the export", folder=True)  # before any file is replayed
    failed = 0
    for k, path in enumerate(args.files, start=1):
        label = f"[{k}/{len(args.files)}] {path.name}" if len(args.files) > 1 else path.name
        try:
            recording = read_recording(path)
            print_problems(recording)
            session = replay(recording, progress=progress_callback(label))
        except RecordingError as error:
            print(f"stabmon export: {error}", file=sys.stderr)
            failed += 1
            continue
        except ANALYSIS_ERRORS as error:
            print(f"stabmon export: {path}: cannot replay ({describe(error)})", file=sys.stderr)
            failed += 1
            continue
        try:
            info = DatasetInfo(
                tuple(args.author), args.license, args.institution, args.institution_address, args.department
            )
            written = _export_one(recording, session, args.format, args.out, info)
        except ANALYSIS_ERRORS as error:
            print(f"stabmon export: {path}: cannot export ({describe(error)})", file=sys.stderr)
            failed += 1
            continue
        except OSError as error:  # a full disk: this file's export leaves nothing; the rest would fail too
            untried = len(args.files) - k
            rest = f"; {untried} more not tried" if untried else ""
            print(
                f"stabmon export: {os_error_line(error)}; {path.name} not exported, none of its files "
                f"left in {args.out}{rest}",
                file=sys.stderr,
            )
            return 2
        print(f"{path.name}: {len(written)} files in {args.out}")
    return 2 if failed else 0


def _export_one(
    recording: Recording, session: ReplayedSession, kind: str, out: Path, info: DatasetInfo
) -> list[Path]:
    """Write one replayed recording as CSV files or into a BIDS dataset (with the study's `info`);
    the files written."""
    if kind == "bids":
        return export_bids(recording, session.collector, out, info)
    try:
        measures: AnalysisResult | None = measures_of(session.collector, recording)
    except ANALYSIS_ERRORS as error:
        print(f"  {recording.path.name}: no measures ({describe(error)})")
        measures = None
    return export_csv(recording, out, measures)


def _analysed(analyses: FileAnalyses, paths: list[Path], side: str) -> tuple[list[AnalysisResult], list[str]]:
    """The measures of a visit's files that could be analysed, and a note for each that could not
    ("baseline x.h5 could not be analysed (why)")."""
    results, failed = [], []
    for path in paths:
        try:
            results.append(analyses.result(path, f"{side} {path.name}"))
        except (CannotAnalyseError, RecordingError) as error:
            failed.append(f"{side} {path.name} could not be analysed ({error})")
    return results, failed


def _history_entry(analyses: FileAnalyses) -> Callable[[Path, int, int], AnalysisResult]:
    """The measures of an earlier session for the report's trend, from the command's `analyses`;
    one that cannot be read or analysed is left out of the trend with a note here, and its error
    raised for `subject_history` to name it in the report."""

    def entry(path: Path, k: int, n: int) -> AnalysisResult:
        try:
            return analyses.result(path, f"history [{k}/{n}] {path.name}")
        except (RecordingError, CannotAnalyseError) as error:
            print(f"note: {error}; left out of the trend", file=sys.stderr)
            raise

    return entry


def run_report(args: argparse.Namespace) -> int:
    suffix = args.out.suffix.lower()
    if suffix not in (".html", ".pdf"):
        raise ValueError(f"report file must end in .html or .pdf, got {args.out.name!r}")
    if args.out.is_dir():
        raise ValueError(f"-o {args.out} is a folder; give the report's file name")
    check_writable(args.out, "the report")  # before the analyses
    clinic_mdc = load_mdc(args.mdc) if args.mdc else None  # a wrong file is said before the analysis
    recording = read_recording(args.file)
    print_problems(recording, sys.stderr)
    # Every other file of the subject is read and analysed at most once for this report, though
    # the baseline, the trend and the visit may each ask for it.
    analyses = FileAnalyses(analyze_with_progress)
    if args.baseline is not None:  # a later one is refused before the analysis
        check_baseline_before(analyses.read(args.baseline), recording)
    try:
        session = replay(recording, progress=progress_callback(recording.path.name))
    except ANALYSIS_ERRORS as error:
        raise CannotAnalyseError(f"{recording.path}: cannot analyse ({describe(error)})") from None
    try:
        measures = measures_of(session.collector, recording, session.coverage)
    except ProcessingError as error:  # e.g. a sensor that sent nothing: a report that says so
        why = f"no measures ({describe(error)})"
        print(f"  ! {recording.path.name}: {why}", file=sys.stderr)
        measures = AnalysisResult(recording.drill, (), notes=(*session.coverage.lines(), why))
    analyses.remember(recording.path, measures)
    library = library_for(recording, args.data_dir)
    references = reference_set(args.references)
    subject = subject_beside(recording.path, recording.subject_id, library.root)
    comparison, note = None, ""
    if args.baseline is not None:  # one file named: compared with the reported file alone
        baseline: Recording | None = analyses.read(args.baseline)
        note = f"baseline: {args.baseline.name}"
        baseline_files, retest_files, lost = [args.baseline], [recording.path], []
    else:  # the baseline visit the library picks against this file's visit, repetitions pooled
        chosen = baseline_visit(library, recording)
        note, baseline = chosen.note, None
        baseline_files = [e.path for e in chosen.entries]
        retest_files = [e.path for e in run_of(library, recording)] or [recording.path]
        lost = unreadable_beside(library, recording)
        if baseline_files:
            try:
                baseline = analyses.read(baseline_files[0])
                print_problems(baseline, sys.stderr)
            except RecordingError as error:
                note = f"baseline {baseline_files[0].name} could not be read ({error.problem})"
    if baseline is not None and baseline.subject_id != recording.subject_id:
        note = (
            f"baseline {baseline.path.name} is of subject {baseline.subject_id}, not {recording.subject_id}: "
            "not compared (a change is measured within one person)"
        )
        baseline = None
    if baseline is not None:
        if args.baseline is not None:  # the named file must be analysed
            analyses.result(args.baseline, f"baseline {args.baseline.name}")
        baseline_results, failed = _analysed(analyses, baseline_files, "baseline")
        retest_results, retest_failed = _analysed(analyses, retest_files, "visit")
        pooled = (
            [f"re-test: this visit's {len(retest_results)} recordings, pooled"]
            if len(retest_results) > 1
            else []
        )
        note = "; ".join([note, *failed, *retest_failed, *lost, *pooled])
        if not baseline_results:
            baseline = None
    if baseline is not None:
        comparison = compare_results(
            pool_results(baseline_results),
            pool_results(retest_results),
            clinic_mdc,
            references=references,
            demographics=subject.demographics,
            facts=(SessionFacts.of(baseline), SessionFacts.of(recording)),
        )
    history = subject_history(library, recording, measures, _history_entry(analyses))
    visit = visit_of(library, recording, measures, lambda path: analyses.result(path, f"visit {path.name}"))
    settings = load_settings(default_settings_path())
    try:
        report = build_report(
            session,
            measures,
            comparison,
            history,
            subject=subject,
            references=references,
            clinic=args.clinic if args.clinic is not None else settings.clinic,
            clinician=args.clinician if args.clinician is not None else settings.clinician,
            baseline_note=note,
            visit=visit,
        )
    except ANALYSIS_ERRORS as error:
        raise CannotAnalyseError(f"{recording.path}: cannot build the report ({describe(error)})") from None
    written = report.write_pdf(args.out) if suffix == ".pdf" else report.write_html(args.out)
    print(f"Report written to {written}")
    return 0
