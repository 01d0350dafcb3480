"""The clinical report of one session: header, data quality, plots, measures, change since the
baseline and the trend over the subject's sessions. Rendered as self-contained HTML (plots
embedded as PNG) or as PDF (matplotlib's PDF backend, one figure per page)."""

from __future__ import annotations

import base64
import html
import io
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from recordings import atomic, report_plots, schema
from recordings.analysis import ReplayedSession, analyze_recording
from recordings.compare import Comparison, Verdict
from recordings.library import SessionLibrary
from recordings.reader import Recording, read_recording
from sensors.processing.analysis import (
    AnalysisResult,
    Measure,
    drill_family,
    perturbation_instants,
    task_window,
)
from sensors.processing.errors import ProcessingError

#: Measures whose trend over sessions the report plots, per drill family.
TREND_MEASURES: dict[str, tuple[str, ...]] = {
    "quiet-stance": ("acc_rms_ap", "angle_rms_ap"),
    "single-leg": ("acc_rms_ml", "angle_rms_ml"),
    "perturbations": ("mean_peak_displacement", "mean_time_to_stabilisation"),
    "forward-bend": ("mean_lumbar_contribution_end_range", "mean_trunk_flexion"),
    "sit-to-stand": ("mean_flexion_duration", "mean_trunk_flexion"),
    "gait": ("cadence", "step_time_symmetry_index"),
    "plank": ("held", "drift"),
    "side-plank": ("held", "drift"),
    "bird-dog": ("held", "drift"),
    "bridge": ("held", "drift"),
    "biering-sorensen": ("held", "drift"),
}
_STANCE = {"quiet-stance", "single-leg"}


@dataclass
class ClinicalReport:
    """Everything a report shows; `to_html` and `write_pdf` render it."""

    title: str
    header: list[tuple[str, str]]
    quality: list[tuple[str, str]]
    measures: AnalysisResult
    figures: list[tuple[str, Figure]] = field(default_factory=list)
    comparison: Comparison | None = None

    def to_html(self) -> str:
        parts = [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{html.escape(self.title)}</h1>",
            _pairs_table(self.header, "session"),
            "<h2>Data quality</h2>",
            _pairs_table(self.quality, "quality"),
        ]
        if self.comparison is not None:
            parts += ["<h2>Change since the baseline</h2>", _comparison_table(self.comparison)]
        parts += ["<h2>Measures</h2>", _measures_table(self.measures)]
        for caption, figure in self.figures:
            parts.append(
                f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{_png(figure)}'>"
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
        parts.append(f"<footer>stabmon {html.escape(schema.app_version())}</footer></body></html>")
        return "\n".join(parts)

    def write_html(self, path: Path) -> Path:
        return atomic.write_text(path, self.to_html())

    def write_pdf(self, path: Path) -> Path:
        with (
            atomic.replacing(path) as partial,
            PdfPages(partial, metadata={"Title": self.title, "Creator": "stabmon"}) as pdf,
        ):
            pdf.savefig(self._summary_page())
            if self.comparison is not None:
                pdf.savefig(self._comparison_page())
            for _, figure in self.figures:
                pdf.savefig(figure)
        return path

    def _summary_page(self) -> Figure:
        fig = Figure(figsize=(8.27, 11.69))
        fig.text(0.06, 0.96, self.title, fontsize=15, weight="bold", va="top")
        lines = [
            line
            for k, v in self.header + self.quality
            for line in textwrap.wrap(f"{k}: {v}", 95, subsequent_indent="    ")
        ]
        fig.text(0.06, 0.92, "\n".join(lines), fontsize=8.5, va="top", family="monospace")
        rows = [
            [m.name.replace("_", " "), _number(m.value), m.unit]
            for m in self.measures.measures
            if m.repetition is None
        ]
        top = 0.9 - 0.015 * len(lines)
        ax = fig.add_axes((0.06, 0.04, 0.88, max(top - 0.06, 0.2)))
        ax.axis("off")
        ax.set_title("Measures", loc="left", fontsize=11)
        table = ax.table(
            cellText=rows, colLabels=["measure", "value", "unit"], loc="upper left", cellLoc="left"
        )
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        table.scale(1.0, 1.2)
        return fig

    def _comparison_page(self) -> Figure:
        assert self.comparison is not None
        fig = Figure(figsize=(8.27, 11.69))
        ax = fig.add_axes((0.04, 0.04, 0.92, 0.9))
        ax.axis("off")
        ax.set_title("Change since the baseline (MDC95: minimal detectable change)", loc="left", fontsize=11)
        rows = [
            [
                r.name.replace("_", " "),
                _number(r.baseline),
                _number(r.retest),
                _number(r.change),
                _number(r.mdc95),
                r.verdict.value,
            ]
            for r in self.comparison.rows
        ]
        table = ax.table(
            cellText=rows,
            colLabels=["measure", "baseline", "re-test", "change", "MDC95", "verdict"],
            colWidths=[0.33, 0.1, 0.1, 0.1, 0.1, 0.27],
            loc="upper left",
            cellLoc="left",
        )
        table.auto_set_font_size(False)
        table.set_fontsize(7.5)
        for k, r in enumerate(self.comparison.rows, start=1):
            if r.verdict is Verdict.REAL:
                table[k, 5].set_facecolor("#fde2c8")
        return fig


def build_report(
    session: ReplayedSession,
    measures: AnalysisResult,
    comparison: Comparison | None = None,
    history: list[tuple[datetime, AnalysisResult]] | None = None,
) -> ClinicalReport:
    """Assemble the report of a replayed recording with its measures, an optional comparison
    with the baseline and the measures of the subject's earlier sessions of the drill."""
    rec = session.recording
    data = session.collector.session_data()
    angles = data.angles
    family = drill_family(rec.drill)
    header = [
        ("Subject", rec.subject_id),
        ("Drill", rec.drill),
        ("Recorded (UTC)", str(rec.attributes["created_utc"]).replace("T", " ")[:19]),
        ("Length", f"{rec.duration_s:.1f} s"),
        (
            "Sensors",
            "; ".join(f"{p.value}: {s.model} {s.serial} (fw {s.firmware})" for p, s in rec.sensors.items()),
        ),
        (
            "Calibration",
            f"neutral stance at {rec.calibration_time_s:.1f} s" if rec.calibration_mount_q else "none",
        ),
        ("File", rec.path.name),
    ]
    if rec.attributes.get("operator_notes"):
        header.append(("Notes", str(rec.attributes["operator_notes"])))
    quality = []
    for p, samples in rec.samples.items():
        lost = int(rec.lost_before[p].sum())
        total = len(samples) + lost
        quality.append((p.value, f"{len(samples)} samples, {100 * lost / total if total else 0:.1f} % lost"))
    figures = [
        (
            "Angles over the session; red lines mark perturbations, green the task",
            report_plots.angle_traces(angles, data.events),
        )
    ]
    if family in _STANCE:
        start, end = task_window(data)
        figures.append(("Trunk sway with its 95 % ellipse", report_plots.sway_plot(angles, start + 1.0, end)))
    if family == "forward-bend" and (fig := report_plots.contribution_curves(angles)) is not None:
        figures.append(("Lumbar contribution per bend", fig))
    if family == "perturbations" and (
        fig := report_plots.perturbation_overlay(angles, perturbation_instants(data))
    ):
        figures.append(("Trunk response to each perturbation", fig))
    if history:
        names = TREND_MEASURES.get(family, ())
        series = {n: [(d, r.value(n)) for d, r in history if _has(r, n)] for n in names}
        units = {m.name: m.unit for m in measures.measures}
        if (fig := report_plots.trend(series, units)) is not None:
            figures.append(("Trend over the subject's sessions of this drill", fig))
    title = f"stabmon session report — subject {rec.subject_id}, {rec.drill}"
    return ClinicalReport(title, header, quality, measures, figures, comparison)


def _has(result: AnalysisResult, name: str) -> bool:
    return any(m.name == name and m.repetition is None and math.isfinite(m.value) for m in result.measures)


def _number(value: float) -> str:
    return "—" if not math.isfinite(value) else f"{value:.4g}"


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _pairs_table(pairs: list[tuple[str, str]], css_id: str) -> str:
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in pairs)
    return f"<table id='{css_id}' class='pairs'>{rows}</table>"


def _measures_table(result: AnalysisResult) -> str:
    """Session-level measures in table#measures, then each repetition in table#repetitions
    (folded away: a clinician reads the session values first)."""
    session = [m for m in result.measures if m.repetition is None]
    reps = [m for m in result.measures if m.repetition is not None]
    head = "<tr><th>group</th><th>measure</th><th>rep.</th><th>value</th><th>unit</th><th>source</th></tr>"
    out = f"<table id='measures'>{head}{''.join(map(_measure_row, session))}</table>"
    if reps:
        out += (
            f"<details><summary>Each repetition ({len({m.repetition for m in reps})})</summary>"
            f"<table id='repetitions'>{head}{''.join(map(_measure_row, reps))}</table></details>"
        )
    return out


def _measure_row(m: Measure) -> str:
    rep = "" if m.repetition is None else str(m.repetition)
    return (
        f"<tr data-name='{html.escape(m.name)}' data-repetition='{rep}' data-value='{m.value!r}'>"
        f"<td>{html.escape(m.group)}</td><td>{html.escape(m.name.replace('_', ' '))}</td><td>{rep}</td>"
        f"<td class='num'>{_number(m.value)}</td><td>{html.escape(m.unit)}</td>"
        f"<td class='src'>{html.escape(m.source)}</td></tr>"
    )


def _comparison_table(comparison: Comparison) -> str:
    rows = []
    for r in comparison.rows:
        css = {Verdict.REAL: "real", Verdict.WITHIN_ERROR: "same", Verdict.NO_MDC: "none"}[r.verdict]
        rows.append(
            f"<tr class='{css}' data-name='{html.escape(r.name)}'>"
            f"<td>{html.escape(r.name.replace('_', ' '))}</td>"
            f"<td>{html.escape(r.unit)}</td><td class='num'>{_number(r.baseline)}</td>"
            f"<td class='num'>{_number(r.retest)}</td><td class='num'>{_number(r.change)}</td>"
            f"<td class='num'>{_number(r.mdc95)}</td><td>{r.verdict.value}</td>"
            f"<td class='src'>{html.escape(r.mdc_basis)}</td></tr>"
        )
    head = (
        "<tr><th>measure</th><th>unit</th><th>baseline</th><th>re-test</th><th>change</th>"
        "<th>MDC95</th><th>verdict</th><th>MDC from</th></tr>"
    )
    return f"<table id='comparison'>{head}{''.join(rows)}</table>"


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; } td, th { padding: 0.2em 0.6em; text-align: left; }
table#measures tr:nth-child(even), table#comparison tr:nth-child(even) { background: #f4f4f4; }
summary { color: #555; margin: 0.6em 0; cursor: pointer; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.src { color: #777; font-size: 0.85em; } tr.real td { background: #fde2c8; font-weight: 600; }
table.pairs th { color: #555; font-weight: normal; } figure { margin: 1.5em 0; } img { max-width: 100%; }
figcaption { color: #555; font-size: 0.9em; } footer { margin-top: 2em; color: #999; font-size: 0.8em; }
"""


def subject_history(
    library: SessionLibrary,
    recording: Recording,
    measures: AnalysisResult,
    analyze_file: Callable[[Path, int, int], AnalysisResult] | None = None,
) -> list[tuple[datetime, AnalysisResult]]:
    """Measures of the subject's sound sessions of this drill in the library, oldest first, this
    recording (with `measures`) included, for the trend. `analyze_file(path, k, n)` analyses the
    k-th of n other files (default `analyze_recording`)."""
    current = recording.path.resolve()
    entries = [
        e
        for e in library.sessions(recording.subject_id, recording.drill)
        if not e.problem and e.created_utc is not None and e.path.resolve() != current
    ]
    history = []
    for k, entry in enumerate(entries, start=1):
        try:
            if analyze_file is not None:
                result = analyze_file(entry.path, k, len(entries))
            else:
                result = analyze_recording(read_recording(entry.path))
        except ProcessingError:
            continue  # a session that cannot be analysed has no point on the trend
        history.append((entry.created_utc, result))
    history.append((datetime.fromisoformat(str(recording.attributes["created_utc"])), measures))
    return sorted(history, key=lambda item: item[0])
