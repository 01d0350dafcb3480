"""`stabmon compare`: a re-test against its baseline, each change judged against its MDC95 — a
visit against the baseline visit (each one's repetitions pooled), or two files named."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from stabmon.arguments import existing_data_dir

if TYPE_CHECKING:
    from collections.abc import Sequence

    from recordings.compare import Comparison
    from recordings.reader import Recording


def run_compare(args: argparse.Namespace) -> int:
    from recordings.baseline_order import in_recording_order
    from recordings.compare import SessionFacts, check_comparable, compare_results, library_for
    from recordings.reader import read_recording
    from recordings.visit_pool import baseline_visit, pool_results, run_of, unreadable_beside
    from stabmon.analyses import analyze_with_progress, load_mdc, print_problems

    if len(args.files) > 2:
        raise ValueError("compare takes BASELINE RETEST, or RETEST alone")
    retest = read_recording(args.files[-1])
    retests, notes = [retest], []
    if len(args.files) == 2:  # two files named: each compared alone
        first = read_recording(args.files[0])
        if _same_recording(first, retest):
            raise ValueError(
                f"{first.path} and {retest.path} are the same recording twice: a re-test needs two sessions"
            )
        baseline, retest, swapped = in_recording_order(first, retest)
        baselines, retests = [baseline], [retest]
        if swapped:
            print(swapped, file=sys.stderr)
    else:  # a visit against the baseline visit: each one's repetitions pooled
        library = library_for(retest, existing_data_dir(args.data_dir))
        chosen = baseline_visit(library, retest)
        if not chosen.entries:
            raise ValueError(f"{chosen.note}; name the baseline file to compare with another")
        if chosen.unreadable:  # never silently replaced: the damage is named, the later visit said
            instead = _files_text([e.path for e in chosen.entries])
            notes = [*chosen.unreadable, f"the baseline used instead: {instead}"]
        baselines = [read_recording(e.path) for e in chosen.entries]
        retests = [read_recording(e.path) for e in run_of(library, retest)] or [retest]
        notes += unreadable_beside(library, retest)
        baseline = baselines[0]
    for recording in (*baselines, *retests):
        print_problems(recording, sys.stderr)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    clinic = load_mdc(args.mdc) if args.mdc else None
    facts = (SessionFacts.of(baseline), SessionFacts.of(retest))
    for other in (*baselines, *retests):
        check_comparable(facts[0], SessionFacts.of(other))  # refuses different conditions first
    comparison = compare_results(
        pool_results([analyze_with_progress(b, f"baseline {b.path.name}") for b in baselines]),
        pool_results([analyze_with_progress(r, f"re-test {r.path.name}") for r in retests]),
        clinic,
        facts=facts,
    )
    unused = sorted(name for name in clinic or {} if not comparison.names_measure(name))
    if unused:
        print(
            f"note: --mdc {args.mdc} names measures this {retest.drill} comparison does not have: "
            f"{', '.join(unused)} (check their spelling)",
            file=sys.stderr,
        )
    # The progress lines (stderr) are finished before the table starts (stdout).
    sys.stderr.flush()
    print(f"Baseline {_files_text([b.path for b in baselines])}")
    print(f"Re-test  {_files_text([r.path for r in retests])}")
    print(f"Drill    {retest.drill}, {retest.condition.label}")
    if baseline.subject_id != retest.subject_id:
        # A change is judged within a person: across people it means nothing, so no verdicts.
        print(format_side_by_side(comparison, baseline.subject_id, retest.subject_id), flush=True)
        print(
            f"stabmon compare: {baseline.subject_id} and {retest.subject_id} are different subjects: "
            "their values are shown side by side, not judged (a change is measured within one person)",
            file=sys.stderr,
        )
        return 2
    print(format_comparison(comparison), flush=True)
    return 0


def _same_recording(a: Recording, b: Recording) -> bool:
    """One file named twice, or a copy of it (same subject, drill and start time)."""
    if a.path.resolve() == b.path.resolve():
        return True
    keys = ("subject_id", "drill", "created_utc")
    return all(str(a.attributes.get(k)) == str(b.attributes.get(k)) for k in keys)


def _files_text(paths: Sequence[Path]) -> str:
    """One file's name, or a visit's: 'visit of 3 recordings (repetitions pooled): a.h5, b.h5, c.h5'."""
    if len(paths) == 1:
        return paths[0].name
    return f"visit of {len(paths)} recordings (repetitions pooled): {', '.join(p.name for p in paths)}"


def format_side_by_side(comparison: Comparison, baseline_subject: str, retest_subject: str) -> str:
    """Each measure's values in two sessions of different subjects, with no change or verdict."""
    head = ("measure", f"{baseline_subject} (baseline file)", f"{retest_subject} (re-test file)")
    table = [(r.info.name, *r.cells[1:3]) for r in comparison.rows]
    widths = [max(len(head[k]), *(len(row[k]) for row in table)) for k in range(3)]
    return "\n".join(
        f"{row[0].ljust(widths[0])}  {row[1].rjust(widths[1])}  {row[2].rjust(widths[2])}"
        for row in (head, *table)
    )


#: Measure names longer than this wrap onto further lines of the comparison table.
NAME_WIDTH = 48


def format_comparison(comparison: Comparison) -> str:
    """The comparison as a text table whose columns are as wide as their contents (two spaces
    between them; long measure names wrap), the key-measure headline and warnings first."""
    import textwrap

    lines = [f"  ! {w}" for w in comparison.warnings]
    lines += textwrap.wrap(comparison.headline, 100, subsequent_indent="  ")
    head = ("measure", "baseline", "re-test", "change", "MDC95", "SEM", "verdict (MDC from)")
    table = [(r.info.name, *r.cells[1:5], r.sem_text, r.verdict_text) for r in comparison.rows]
    names = [textwrap.wrap(row[0], NAME_WIDTH) or [""] for row in table]
    widths = [max(len(head[0]), *(len(part) for parts in names for part in parts))]
    widths += [max(len(head[k]), *(len(row[k]) for row in table)) for k in range(1, 6)]

    def line(first: str, cells: tuple[str, ...] | list[str]) -> str:
        numbers = "  ".join(c.rjust(w) for c, w in zip(cells[:5], widths[1:], strict=True))
        return f"{first.ljust(widths[0])}  {numbers}  {cells[5]}".rstrip()

    lines.append(line(head[0], head[1:]))
    for row, parts in zip(table, names, strict=True):
        lines.append(line(parts[0], row[1:]))
        lines += [part for part in parts[1:]]
    return "\n".join(lines)
