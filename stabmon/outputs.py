"""`stabmon export` and `stabmon report`: recordings turned into files for other people and tools."""

from __future__ import annotations

import argparse
from pathlib import Path

from gui.model.settings import default_settings_path, load_settings
from recordings import read_recording
from recordings.analysis import replay
from recordings.compare import SessionFacts, compare_results, find_baseline, library_for
from recordings.export_bids import DatasetInfo, export_bids
from recordings.export_csv import export_csv
from recordings.protocol_results import visit_of
from recordings.reader import Recording
from recordings.references import reference_set
from recordings.report import build_report, subject_history
from recordings.subjects import load_subject
from sensors.processing.analysis import AnalysisResult, analyze
from sensors.processing.errors import ProcessingError
from stabmon.arguments import add_data_dir_argument
from stabmon.console import progress_callback
from stabmon.review import _load_mdc, analyze_with_progress


def add_commands(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="export recordings as CSV or Motion-BIDS")
    export.add_argument("files", nargs="+", type=Path, metavar="FILE")
    export.add_argument("--format", choices=("csv", "bids"), required=True)
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
    report.add_argument("file", type=Path, metavar="FILE")
    report.add_argument(
        "--baseline",
        type=Path,
        help="baseline session to compare with (default: the subject's first session of the drill "
        "in the same condition, as the review window picks it)",
    )
    report.add_argument("--mdc", type=Path, help="JSON object of measure name → the clinic's MDC95")
    report.add_argument(
        "--references", type=Path, action="append", default=[], help="a clinic's reference-value file"
    )
    report.add_argument("--clinic", help="clinic name (default: from the dashboard settings)")
    report.add_argument("--clinician", help="clinician (default: from the dashboard settings)")
    report.add_argument("-o", "--out", type=Path, required=True, help="report file, .html or .pdf")
    add_data_dir_argument(report)
    report.set_defaults(handler=run_report)


def run_export(args: argparse.Namespace) -> int:
    for k, path in enumerate(args.files, start=1):
        recording = read_recording(path)
        label = f"[{k}/{len(args.files)}] {path.name}" if len(args.files) > 1 else path.name
        session = replay(recording, progress=progress_callback(label))
        if args.format == "csv":
            try:
                measures: AnalysisResult | None = analyze(session.collector.session_data(), recording.drill)
            except ProcessingError as error:
                print(f"  {path.name}: no measures ({error})")
                measures = None
            written = export_csv(recording, args.out, measures)
        else:
            info = DatasetInfo(
                tuple(args.author), args.license, args.institution, args.institution_address, args.department
            )
            written = export_bids(recording, session.collector, args.out, info)
        print(f"{path.name}: {len(written)} files in {args.out}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    suffix = args.out.suffix.lower()
    if suffix not in (".html", ".pdf"):
        raise ValueError(f"report file must end in .html or .pdf, got {args.out.name!r}")
    recording = read_recording(args.file)
    session = replay(recording, progress=progress_callback(recording.path.name))
    measures = analyze(session.collector.session_data(), recording.drill)
    library = library_for(recording, args.data_dir)
    references = reference_set(args.references)
    subject = load_subject(library.root, recording.subject_id)
    comparison, note = None, ""
    if args.baseline is not None:
        baseline: Recording | None = read_recording(args.baseline)
        note = f"baseline: {args.baseline.name}"
    else:
        entry, note = find_baseline(library, recording)
        baseline = read_recording(entry.path) if entry is not None else None
    if baseline is not None:
        comparison = compare_results(
            analyze_with_progress(baseline, f"baseline {baseline.path.name}"),
            measures,
            _load_mdc(args.mdc) if args.mdc else None,
            references=references,
            demographics=subject.demographics,
            facts=(SessionFacts.of(baseline), SessionFacts.of(recording)),
        )
    history = subject_history(
        library,
        recording,
        measures,
        lambda path, k, n: analyze_with_progress(read_recording(path), f"history [{k}/{n}] {path.name}"),
    )
    visit = visit_of(
        library,
        recording,
        measures,
        lambda path: analyze_with_progress(read_recording(path), f"visit {path.name}"),
    )
    settings = load_settings(default_settings_path())
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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    written = report.write_pdf(args.out) if suffix == ".pdf" else report.write_html(args.out)
    print(f"Report written to {written}")
    return 0
