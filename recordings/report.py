"""The clinical report of one session. Page 1 is a summary a clinician reads in a minute: protocol
and condition, the key measures with their reference comparison and change since the baseline,
patient-reported outcomes and flags; then the details (every measure with its spread and each
repetition, the full comparison, reference values, data quality) and the plots, ending with the
trends over the subject's earlier sessions of the same drill and condition (`report_history`).

Rendered as self-contained HTML (`report_html`) or PDF (`report_pdf`); names, units and
resolution come from the measures catalogue, reference values from the reference file."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from matplotlib.figure import Figure

from recordings import atomic, report_plots
from recordings.analysis import ReplayedSession
from recordings.catalogue import catalogue
from recordings.compare import ChangeRow, Comparison, MdcBasis, Verdict
from recordings.coverage import lost_samples
from recordings.data_notes import data_notes
from recordings.derived import measured_angles
from recordings.measure_table import MeasureRow, repetition_rows, session_rows
from recordings.protocol_results import ProtocolSummary
from recordings.reader import Recording
from recordings.references import ReferenceSet, bundled_references
from recordings.report_history import HistoryPoint, trend_figure
from recordings.report_table import Table
from recordings.report_visit import visit_tables
from recordings.subjects import Subject
from sensors.drills import DrillFamily, drill_family
from sensors.events import EventKind
from sensors.processing.analysis import AnalysisResult, SessionData, perturbation_events, task_window

#: The heading of the banner (HTML) or block (PDF) above the summary listing what is missing.
MISSING_TITLE = "Data are missing from this recording: the measures cover only the rest"
#: Packet loss above this share of a sensor's samples is flagged, %.
LOSS_FLAG_PCT = 5.0
_WORSE = (Verdict.WORSE, Verdict.POSSIBLY_WORSE)
_MDC_NOTE = (
    "MDC95 from a published test–retest study where the reference file has one, else the clinic's, "
    "else the spread of this session's repetitions — a lower bound (day-to-day sensor placement is "
    "not in it), so a change beyond it alone is only 'possibly' real. SEM = MDC95/(1.96·√2). The "
    "repetitions' spread is the error of their mean, so that mean is judged; a whole-recording "
    "value beside it, or one that grows with the recording's length, is not."
)


@dataclass
class ClinicalReport:
    """Everything a report shows; `report_html.to_html` and `report_pdf.write_pdf` render it."""

    title: str
    header: list[tuple[str, str]]
    summary: Table
    flags: list[str]
    outcomes: list[tuple[str, str]]
    details: list[Table]
    measures: AnalysisResult
    figures: list[tuple[str, Figure]] = field(default_factory=list)
    comparison: Comparison | None = None
    footer: str = ""
    #: What is missing from the recording, where and why (`recordings.data_notes`): the banner
    #: above everything else; empty for a complete recording.
    missing: list[str] = field(default_factory=list)

    def to_html(self) -> str:
        from recordings.report_html import to_html

        return to_html(self)

    def write_html(self, path: Path) -> Path:
        return atomic.write_text(path, self.to_html())

    def write_pdf(self, path: Path) -> Path:
        from recordings.report_pdf import write_pdf

        return write_pdf(self, path)


def local_time(created_utc: str | datetime) -> str:
    """'2026-11-28 10:15 CET (UTC+01:00)' in the computer's time zone."""
    when = datetime.fromisoformat(created_utc) if isinstance(created_utc, str) else created_utc
    local = when.astimezone()
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} (UTC{offset[:3]}:{offset[3:]})"


def _drill_title(recording: Recording) -> str:
    protocol = recording.protocol
    name = str(protocol.get("protocol_name", ""))
    if name:
        reps = protocol.get("repetitions")
        rep = f", repetition {protocol.get('repetition')} of {reps}" if reps and int(reps) > 1 else ""
        return name + rep
    return catalogue().drill_title(recording.drill)


def _summary_table(
    measures: AnalysisResult,
    comparison: Comparison | None,
    recording: Recording,
    subject: Subject,
    references: ReferenceSet,
) -> tuple[Table, list[str]]:
    """The key measures with reference and change; flags they raise."""
    flags: list[str] = []
    rows, flagged = [], set()
    for k, row in enumerate(session_rows(measures, key_only=True)):
        standings = references.standings(
            measures.drill,
            row.measure.name,
            row.measure.value,
            subject.demographics,
            recording.condition,
            row.lower_bound,
        )
        ref_text = "; ".join(s.short for s in standings) or references.missing_text(
            measures.drill, row.measure.name
        )
        change = comparison.judged_row(row.measure.name) if comparison else None
        change_text = f"{change.change_text}: {change.verdict.value}" if change else "—"
        if change is not None and change.name != row.measure.name:  # judged by its repetitions' mean
            own = comparison.row(row.measure.name) if comparison else change
            change_text = f"{own.change_text}: judged by its mean of {change.info.repetitions}"
            change = None
        rows.append((row.name, row.text, ref_text, change_text))
        for s in standings:
            if s.outside:
                flagged.add(k)
                flags.append(f"{row.name} {s.text} — {s.reference.source}")
        if change and change.verdict in _WORSE:
            flagged.add(k)
            flags.append(f"{row.name}: {change.verdict.value} since the baseline ({change.change_text})")
        if not math.isfinite(row.measure.value):
            flags.append(f"{row.name}: {row.text}")
    note = (
        "Reference: where the result falls in the named population. Change: against the MDC95 "
        "(see the comparison below for where each MDC comes from)."
    )
    table = Table(
        "Key measures",
        ("measure", "result", "reference", "change since baseline"),
        rows,
        (0.25, 0.2, 0.35, 0.2),
        "summary",
        frozenset(flagged),
        note,
    )
    return table, flags


def _details(
    measures: AnalysisResult,
    comparison: Comparison | None,
    recording: Recording,
    references: ReferenceSet,
    subject: Subject,
) -> list[Table]:
    tables = []
    rows = session_rows(measures)
    tables.append(
        Table(
            "All measures",
            ("measure", "result", "meaning", "source"),
            [(r.name, r.text, r.info.meaning, r.info.source) for r in rows],
            (0.26, 0.2, 0.36, 0.18),
            "measures",
            data=[{"name": r.measure.name, "repetition": "", "value": repr(r.measure.value)} for r in rows],
        )
    )
    reps = repetition_rows(measures)
    if reps:
        tables.append(_repetition_table(measures, reps))
    if comparison is not None:
        judged = [r for r in comparison.rows if r.info.judged]  # counts are bookkeeping
        tables.append(
            Table(
                "Change since the baseline",
                ("measure", "baseline", "re-test", "change", "MDC95", "SEM", "verdict", "MDC from"),
                [(*r.cells[:5], r.sem_text, r.cells[5], _basis_text(r)) for r in judged],
                (0.2, 0.09, 0.09, 0.13, 0.08, 0.08, 0.1, 0.23),
                "comparison",
                frozenset(k for k, r in enumerate(judged) if r.verdict in _WORSE),
                _MDC_NOTE,
                data=[{"name": r.name} for r in judged],
            )
        )
    used = [
        (catalogue().info(measures.drill, r.measure).name, r.kind, r.population, r.source)
        for r in references.references
        if any(r.applies(measures.drill, m.name, subject.demographics) for m in measures.measures)
    ]
    if used:
        tables.append(
            Table(
                "Reference values used",
                ("measure", "kind", "population", "source"),
                list(dict.fromkeys(used)),
                (0.25, 0.09, 0.33, 0.33),
                "references",
                note=f"From {', '.join(references.versions)}; a clinic can add its own file (--references).",
            )
        )
    quality = []
    lost_of = lost_samples(recording)  # a sensor's silences count as lost (recordings.coverage)
    for p, samples in recording.samples.items():
        lost = lost_of[p]
        total = len(samples) + lost
        quality.append(
            (p.value, f"{len(samples)} samples", f"{100 * lost / total if total else 0:.1f} % lost")
        )
    tables.append(Table("Data quality", ("sensor", "samples", "lost"), quality, (0.3, 0.35, 0.35), "quality"))
    return tables


def _repetition_table(measures: AnalysisResult, reps: dict[int, list[MeasureRow]]) -> Table:
    """Each repetition in its own column, measures in rows, the mean ± SD last."""
    numbers = sorted(reps)
    info = catalogue().info(measures.drill, reps[numbers[0]][0].measure.name)
    shown = numbers[:8]  # wider tables do not fit a page: the rest are in the CSV export
    keys = list(dict.fromkeys(r.measure.name for k in numbers for r in reps[k]))
    cells = {(k, r.measure.name): r for k in numbers for r in reps[k]}
    means = {r.measure.name.removeprefix("mean_"): r for r in session_rows(measures)}
    rows: list[tuple[str, ...]] = []
    data: dict[tuple[int, int], dict[str, str]] = {}
    for row, key in enumerate(keys):
        row_info = catalogue().info(measures.drill, key)
        values = [cells[k, key].value_text if (k, key) in cells else "—" for k in shown]
        mean = means.get(key)
        spread = mean.text.split(" (")[0] if mean and mean.measure.name.startswith("mean_") else ""
        rows.append((row_info.label, *values, spread))
        data |= {
            (row, col): {"name": key, "repetition": str(k), "value": repr(cells[k, key].measure.value)}
            for col, k in enumerate(shown, start=1)
            if (k, key) in cells
        }
    label_w = 0.3
    col_w = (1 - label_w - 0.18) / len(shown)
    note = f"{len(numbers) - len(shown)} more in the CSV export." if len(numbers) > len(shown) else ""
    title = f"Each {info.repetition} (mean ± SD in the last column)"
    columns = ("measure", *(f"#{k}" for k in shown), "mean ± SD")
    widths = (label_w, *([col_w] * len(shown)), 0.18)
    return Table(title, columns, rows, widths, "repetitions", note=note, cell_data=data)


def _outcomes(subject: Subject, when: datetime) -> list[tuple[str, str]]:
    visits = subject.visits_until(when.astimezone().date())
    if not visits:
        return [("Patient-reported", "none recorded for this subject (stabmon subject --pain / --odi)")]
    latest = visits[-1]
    rows = [(f"Visit {latest.day:%Y-%m-%d}", latest.describe())]
    if len(visits) > 1:
        rows.append((f"First visit {visits[0].day:%Y-%m-%d}", visits[0].describe()))
    return rows


def _session_figures(data: SessionData, family: DrillFamily, drill: str) -> list[tuple[str, Figure]]:
    """The plots of the session's angles the drill family calls for, with their captions."""
    pushes = any(e.kind is EventKind.PERTURBATION for e in data.events)
    lines = "green lines mark the task" + ("; red lines the perturbations" if pushes else "")
    angles = measured_angles(drill, data)  # a stance's as its measures read them
    figures = [(f"Angles over the session; {lines}", report_plots.angle_traces(angles, data.events))]
    if family.is_stance:
        start, end = task_window(data)
        figures.append(("Trunk sway with its 95 % ellipse", report_plots.sway_plot(angles, start + 1.0, end)))
    bends = family is DrillFamily.FORWARD_BEND
    if bends and (fig := report_plots.contribution_curves(data.angles)) is not None:
        figures.append(("Lumbar contribution per bend", fig))
    if family is DrillFamily.PERTURBATIONS and (
        fig := report_plots.perturbation_overlay(data.angles, perturbation_events(data))
    ):
        figures.append(("Trunk response to each perturbation", fig))
    return figures


def build_report(
    session: ReplayedSession,
    measures: AnalysisResult,
    comparison: Comparison | None = None,
    history: list[HistoryPoint] | None = None,
    *,
    subject: Subject | None = None,
    references: ReferenceSet | None = None,
    clinic: str = "",
    clinician: str = "",
    baseline_note: str = "",
    visit: Sequence[ProtocolSummary] = (),
) -> ClinicalReport:
    """Assemble the report of a replayed recording with its measures, an optional comparison
    with the baseline and the subject's sessions of the same drill and condition up to this one."""
    rec = session.recording
    # No angles without a calibration (e.g. a sensor that sent nothing): no plots of them.
    data = session.collector.session_data() if session.collector.calibration is not None else None
    refs = references if references is not None else bundled_references()
    subj = subject or Subject(rec.subject_id)
    created = datetime.fromisoformat(str(rec.attributes["created_utc"]))
    family = drill_family(rec.drill)
    header = [
        ("Subject", _subject_cell(rec.subject_id, subj)),
        ("Protocol", _drill_title(rec)),
        ("Condition", rec.condition.label),
        ("Recorded", local_time(created)),
        ("Clinic", clinic or "not set"),
        ("Clinician", clinician or "not set"),
        ("Length", _length_cell(rec)),
        ("Baseline", _baseline_cell(baseline_note, comparison)),
        *([("Change since baseline", comparison.headline)] if comparison is not None else []),
    ]
    summary, flags = _summary_table(measures, comparison, rec, subj, refs)
    if comparison is not None:
        flags = [f"⚠ {w}" for w in comparison.warnings] + flags
    lost_of = lost_samples(rec)
    for p, samples in rec.samples.items():
        lost = lost_of[p]
        if len(samples) + lost and 100 * lost / (len(samples) + lost) > LOSS_FLAG_PCT:
            flags.append(f"{p.value} sensor lost {100 * lost / (len(samples) + lost):.0f} % of its samples")
    if not rec.calibration_mount_q:
        flags.append("the recording never calibrated: angles and measures may be missing")
    visit_part, visit_flags = visit_tables(visit, rec, refs)
    flags += visit_flags
    figures = _session_figures(data, family, rec.drill) if data is not None else []
    if history and (trend := trend_figure(history, measures, comparison, subj)) is not None:
        figures.append((f"Trend by date — {rec.drill}, {rec.condition.label}; {trend.caption}", trend.figure))
    flags += [note for h in history or () if (note := h.lost_note())]
    title = f"{catalogue().drill_title(rec.drill)} — subject {rec.subject_id}"
    footer = (
        f"stabmon {rec.attributes.get('app_version', '')}; references: {', '.join(refs.versions)}; "
        f"measures catalogue {catalogue().version}; file {rec.path.name}"
    )
    return ClinicalReport(
        title,
        header,
        summary,
        flags,
        _outcomes(subj, created),
        visit_part + _details(measures, comparison, rec, refs, subj),
        measures,
        figures,
        comparison,
        footer,
        data_notes(rec, measures.notes),
    )


def _basis_text(row: ChangeRow) -> str:
    """Where the row's MDC came from, or why it is not judged."""
    if row.basis is MdcBasis.NONE:
        return row.basis_note or "no error estimate"
    return row.basis.value + (f": {row.basis_note}" if row.basis_note else "")


def _length_cell(rec: Recording) -> str:
    """The recorded length, and the planned one when the recording ended early."""
    if rec.ended_early and rec.planned_s is not None:
        return f"{rec.duration_s:.0f} s of {rec.planned_s:.0f} s planned (ended early)"
    return f"{rec.duration_s:.0f} s"


def _subject_cell(subject_id: str, subject: Subject) -> str:
    """'P-014 (age 40-49, female)', or '(age band and sex not given)'."""
    d = subject.demographics
    return f"{subject_id} ({d.label if d.age_band or d.sex else 'age band and sex not given'})"


def _baseline_cell(note: str, comparison: Comparison | None) -> str:
    """The baseline row's value: the file compared with, or why there is none (the row is
    labelled "Baseline", so the note's own "baseline: " is not repeated)."""
    if not note:
        return "compared" if comparison else "none"
    return note.removeprefix("baseline: ")
