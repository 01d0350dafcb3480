"""`stabmon analyze`, `compare`, `sessions`, `recover`, `repack` and `consolidate`: work on recordings
after the session."""

from __future__ import annotations

import argparse
import math
import sys
from datetime import date
from pathlib import Path

from recordings.subjects import (
    AGE_BANDS,
    SEXES,
    Demographics,
    Visit,
    load_subject,
    record_visit,
    set_demographics,
    set_sensor_height,
)
from stabmon.arguments import (
    add_data_dir_argument,
    add_mdc_argument,
    existing_data_dir,
    subject_id,
    visit_date,
)
from stabmon.comparing import run_compare

# What each command works with (the analysis, the comparison, the library, visits, recovery) is
# imported by the command that uses it: `stabmon sessions` reads the library without loading the
# analysis, and `stabmon analyze` loads only what it needs.


def add_commands(commands: argparse._SubParsersAction) -> None:
    analyze = commands.add_parser("analyze", help="measures of one or more recordings")
    analyze.add_argument("files", nargs="+", type=Path, metavar="FILE", help="a session recording (.h5)")
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
    add_mdc_argument(compare)
    add_data_dir_argument(compare)
    compare.set_defaults(handler=run_compare)

    sessions = commands.add_parser("sessions", help="list the recordings in the session library")
    sessions.add_argument("--subject", type=subject_id, help="only this pseudonymous subject id")
    sessions.add_argument("--drill", help="only this drill")
    add_data_dir_argument(sessions)
    sessions.set_defaults(handler=run_sessions)

    subject = commands.add_parser(
        "subject",
        help="a subject's optional demographics (age band, sex), pelvic sensor height and a visit's pain "
        "and ODI/RMDQ total",
    )
    subject.add_argument(
        "subject_id", metavar="SUBJECT", type=subject_id, help="pseudonymous subject id, e.g. P-014"
    )
    subject.add_argument(
        "--age-band", choices=AGE_BANDS, help="age band in years, chooses the normal ranges: %(choices)s"
    )
    subject.add_argument(
        "--sex",
        choices=SEXES,
        help="sex, for the norms that differ by sex (e.g. Biering-Sørensen): %(choices)s",
    )
    subject.add_argument(
        "--sensor-height",
        type=float,
        metavar="M",
        help="pelvic sensor's height above the floor standing, metres (stride length and gait speed)",
    )
    subject.add_argument("--pain", type=float, help="pain now, 0–10")
    scores = subject.add_mutually_exclusive_group()
    scores.add_argument("--odi", type=float, help="Oswestry Disability Index total, 0–100 %%")
    scores.add_argument("--rmdq", type=float, help="Roland-Morris Disability Questionnaire total, 0–24")
    subject.add_argument("--date", type=visit_date, help="visit date (default today), YYYY-MM-DD")
    add_data_dir_argument(subject)
    subject.set_defaults(handler=run_subject)

    visit = commands.add_parser(
        "visit",
        help="a visit's protocol results: mean ± SD over repetitions, left/right, McGill ratios",
    )
    visit.add_argument(
        "subject_id", metavar="SUBJECT", type=subject_id, help="pseudonymous subject id, e.g. P-014"
    )
    visit.add_argument("--date", type=visit_date, help="visit date (default today), YYYY-MM-DD")
    visit.add_argument(
        "--references", type=Path, action="append", default=[], help="a clinic's reference-value file"
    )
    add_data_dir_argument(visit)
    visit.set_defaults(handler=run_visit)

    rec = commands.add_parser("recover", help="make a file left open by a crash readable by every tool")
    rec.add_argument("file", type=Path, metavar="FILE", help="the recording a crash left open (.h5)")
    rec.set_defaults(handler=run_recover)

    repack = commands.add_parser(
        "repack", help="rewrite a recording in the HDF5 1.10 format that older HDF5 tools read"
    )
    repack.add_argument("file", type=Path, metavar="FILE", help="the recording to rewrite (.h5)")
    repack.add_argument("-o", "--out", type=Path, help="write here instead of replacing FILE")
    repack.set_defaults(handler=run_repack)

    merge = commands.add_parser(
        "consolidate", help="rewrite closed recordings in 10-s chunks: the same data, read faster"
    )
    merge.add_argument("files", type=Path, nargs="+", metavar="FILE", help="a closed recording (.h5)")
    merge.set_defaults(handler=run_consolidate)


def run_analyze(args: argparse.Namespace) -> int:
    """Each file in turn; a file that cannot be read or analysed is reported and the rest go on."""
    from recordings.analysis import analyze_file
    from recordings.catalogue import catalogue
    from recordings.errors import RecordingError
    from recordings.reader import read_recording
    from stabmon.analyses import ANALYSIS_ERRORS, describe, print_problems
    from stabmon.console import format_measures, progress_callback

    failed = 0
    for k, path in enumerate(args.files, start=1):
        label = f"[{k}/{len(args.files)}] {path.name}" if len(args.files) > 1 else path.name
        try:
            recording, result = analyze_file(path, progress_callback(label))
        except RecordingError as error:
            print(f"stabmon analyze: {error}", file=sys.stderr)
            failed += 1
            continue
        except ANALYSIS_ERRORS as error:
            print_problems(read_recording(path))  # what was wrong with the file may explain it
            print(f"stabmon analyze: {path}: cannot analyse ({describe(error)})", file=sys.stderr)
            failed += 1
            continue
        title = catalogue().drill_title(recording.drill)
        print(
            f"{path}  (subject {recording.subject_id}, {title}, "
            f"{recording.condition.label_after(title)}, {recording.duration_s:.0f} s"
            + (f" of {recording.planned_s:.0f} s planned" if recording.ended_early else "")
            + ")"
        )
        print_problems(recording, result=result)  # the replay's coverage: the file is not read again
        print(format_measures(result, repetitions=args.repetitions))
    if failed and len(args.files) > 1:
        print(f"stabmon analyze: {failed} of {len(args.files)} files could not be analysed", file=sys.stderr)
    return 2 if failed else 0


def run_sessions(args: argparse.Namespace) -> int:
    from recordings.library import SessionLibrary

    library = SessionLibrary(existing_data_dir(args.data_dir))
    entries = library.sessions(args.subject, args.drill)
    if not entries:
        print(f"No sessions in {library.root}")
        return 0
    print(f"{'created (UTC)':<20}{'subject':<12}{'drill':<24}{'condition':<44}{'length':>8}  file")
    for e in entries:
        created = e.created_utc.strftime("%Y-%m-%d %H:%M") if e.created_utc else "?"
        length = f"{e.duration_s:7.0f}s" if not e.problem else ""
        problem = f"  ({e.problem})" if e.problem else ""
        condition = e.condition.label if e.condition else ""
        print(f"{created:<20}{e.subject_id:<12}{e.drill:<24}{condition:<44}{length:>8}  {e.path}{problem}")
    return 0


def run_subject(args: argparse.Namespace) -> int:
    """Store what was given, then show what is stored."""
    from recordings.library import SessionLibrary

    root = SessionLibrary(existing_data_dir(args.data_dir)).root
    if args.age_band or args.sex:
        current = load_subject(root, args.subject_id).demographics
        set_demographics(
            root, args.subject_id, Demographics(args.age_band or current.age_band, args.sex or current.sex)
        )
    if args.sensor_height is not None:
        set_sensor_height(root, args.subject_id, args.sensor_height)
    if args.pain is not None or args.odi is not None or args.rmdq is not None:
        questionnaire, score = ("ODI", args.odi) if args.odi is not None else ("RMDQ", args.rmdq)
        visit = Visit(
            args.date or date.today(),
            args.pain if args.pain is not None else math.nan,
            questionnaire if score is not None else "",
            score if score is not None else math.nan,
        )
        record_visit(root, args.subject_id, visit)
    stored = load_subject(root, args.subject_id)
    print(f"Subject {stored.subject_id}: {stored.demographics.label}")
    if stored.sensor_height is not None:
        print(f"  pelvic sensor height {stored.sensor_height:.3f} m")
    for v in stored.visits:
        print(f"  {v.day:%Y-%m-%d}  {v.describe()}")
    return 0


def run_visit(args: argparse.Namespace) -> int:
    from recordings.library import SessionLibrary
    from recordings.protocol_results import format_visit, summarise, visit_sessions
    from recordings.reader import read_recording
    from recordings.references import reference_set
    from recordings.visit_pool import unreadable_on
    from recordings.visit_runs import split_visits
    from stabmon.analyses import analyze_with_progress

    day = args.date or date.today()
    library = SessionLibrary(existing_data_dir(args.data_dir))
    failed = unreadable_on(library, args.subject_id, day)
    sessions = visit_sessions(
        library, args.subject_id, day, lambda path: analyze_with_progress(read_recording(path)), failed
    )
    for problem in failed:  # named, never silently left out of the visit
        print(f"stabmon visit: {problem}: not in the visit's results", file=sys.stderr)
    if not sessions:
        print(f"No sessions of subject {args.subject_id} on {day} in {library.root}")
        return 2 if failed else 0
    references = reference_set(args.references)
    visits = split_visits(summarise(sessions))
    for k, visit in enumerate(visits, start=1):
        began = min(s.when for summary in visit for s in summary.sessions)
        which = (
            f"visit {day}" if len(visits) == 1 else f"visit {k} of {len(visits)} on {day}, from {began:%H:%M}"
        )
        print(f"Subject {args.subject_id}, {which}")
        print(format_visit(visit, references))
    return 2 if failed else 0


def run_recover(args: argparse.Namespace) -> int:
    from recordings.chunk_recovery import has_damaged_chunks
    from recordings.errors import RecordingError
    from recordings.file_access import check_readable
    from recordings.load import gap_notes
    from recordings.reader import read_recording
    from recordings.recovery import needs_recovery, recover
    from recordings.write_lock import being_recorded

    check_readable(args.file)
    if not being_recorded(args.file) and not needs_recovery(args.file):
        found = read_recording(args.file)  # a file that cannot be read raises here
        damaged = bool(found.damaged) or has_damaged_chunks(args.file)  # recover mends those
        problems = [p for p in found.problems if p not in gap_notes(found.events)]  # (recovered before)
        if problems and not damaged:  # damaged, but not by a crash: recovering would not mend it
            raise RecordingError(
                args.file, "not left open by a crash, so recover cannot mend it: " + "; ".join(problems)
            )
        if not damaged:
            print(f"{args.file}: closed properly, not left open by a crash; nothing to recover")
            return 0
    result = recover(args.file)
    for note in gap_notes(result.recording.events):  # what was done about damaged chunks
        if result.original_kept_at.name in note:
            print(f"{args.file}: {note}")
    samples = sum(len(s) for s in result.recording.samples.values())
    print(
        f"Recovered {args.file}: {samples} samples, {result.recording.duration_s:.1f} s of frames; "
        f"the original is kept as {result.original_kept_at}"
    )
    return 0


def run_repack(args: argparse.Namespace) -> int:
    from recordings.atomic import check_writable
    from recordings.repack import KEPT_SUFFIX, repack  # only this command needs it

    if args.out is not None:  # said of the user's file, before anything is read
        check_writable(args.out, "the repacked file")
    written = repack(args.file, args.out)
    kept = "" if args.out else f"; the original is kept as {args.file}{KEPT_SUFFIX}"
    print(f"Repacked {args.file} in the HDF5 1.10 format as {written}{kept}")
    return 0


def run_consolidate(args: argparse.Namespace) -> int:
    """Each file in turn; one that cannot be consolidated is reported (and left as it was)."""
    from recordings.consolidate import consolidate  # only this command needs it
    from recordings.errors import RecordingError

    failed = 0
    for path in args.files:
        try:
            done = consolidate(path)
        except RecordingError as error:
            print(f"stabmon consolidate: {error}", file=sys.stderr)
            failed += 1
            continue
        if not done.rewritten:
            print(f"{path}: nothing to gain (already in large chunks, or too short), left as it is")
            continue
        print(
            f"{path}: {done.chunks_before} → {done.chunks_after} chunks, "
            f"{done.bytes_before / 1e6:.1f} → {done.bytes_after / 1e6:.1f} MB"
        )
    return 2 if failed else 0
