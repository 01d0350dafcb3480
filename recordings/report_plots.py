"""The figures of a clinical report, drawn with matplotlib's object API (no GUI backend) from
the plot data the live view and the review window draw too (`recordings.plot_data`).

Angles are shown in degrees; time in seconds of session time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from recordings.catalogue import MeasureInfo
from recordings.plot_data import (
    PANELS,
    TIME,
    angle_rows,
    bend_curves,
    decimate_peaks,
    event_lines,
    rate_of,
    response_traces,
    rows_between,
    sway_path,
)
from sensors.events import Event, EventKind
from sensors.processing.perturbation import PerturbationInstant
from sensors.processing.pipeline import AngleBlock

_WIDTH_IN = 9.0
#: Pixel columns the traces are decimated to (min and max each): more than the widest figure has
#: at the PDF's 160 dpi, so nothing visible is lost and a long session stays quick to draw.
_TRACE_COLUMNS = 1500
_EVENT_COLOURS = {
    EventKind.PERTURBATION: "tab:red",
    EventKind.TASK_START: "tab:green",
    EventKind.TASK_END: "tab:green",
}
_PANEL_TITLES = ("Trunk (T12/L1 sensor) inclination", "Pelvis (S1/S2 sensor) inclination", None)
_PLANE_LABELS = {"sagittal": "sagittal (flexion +)", "frontal": "frontal (right +)", "axial": "axial"}


def angle_traces(angles: AngleBlock, events: Sequence[Event]) -> Figure:
    """Trunk and pelvic inclination (sagittal, frontal) and lumbar angles over the session
    (`plot_data.PANELS`), with a line per perturbation analysed and the task's start and end."""
    fig = Figure(figsize=(_WIDTH_IN, 6.0), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    rows = angle_rows(angles)
    t, values = decimate_peaks(rows[:, TIME], rows, _TRACE_COLUMNS)
    lines = event_lines(events)
    for ax, (title, series), report_title in zip(axes, PANELS, _PANEL_TITLES, strict=True):
        for column, plane in series:
            ax.plot(t, values[:, column], lw=0.9, label=_PLANE_LABELS[plane] if report_title else plane)
        ax.set_title(report_title or title, loc="left", fontsize=10)
        ax.set_ylabel("deg")
        for line in lines:
            colour = _EVENT_COLOURS.get(line.kind)
            if colour is not None:
                ax.axvline(line.time_s, color=colour, lw=0.7, alpha=0.6)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8, ncols=3)
    axes[2].set_xlabel("session time (s)")
    return fig


def sway_plot(angles: AngleBlock, start_s: float, end_s: float) -> Figure:
    """Trunk inclination sway (ML against AP, deg, about the mean) with its 95 % ellipse, over
    [start_s, end_s] (`plot_data.sway_path`)."""
    rows = angle_rows(angles)
    sway = sway_path(rows_between(rows, start_s, end_s), rate_of(rows))
    fig = Figure(figsize=(4.8, 4.8), layout="constrained")
    ax = fig.subplots()
    ax.plot(sway.ml, sway.ap, lw=0.5, color="0.4")
    if sway.outline is not None:
        ax.plot(sway.outline[:, 0], sway.outline[:, 1], color="tab:red", lw=1.5, label="95 % ellipse")
        ax.legend(fontsize=8)
    limit = sway.limit * 1.1
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xlabel("medio-lateral (deg, right +)")
    ax.set_ylabel("anterior-posterior (deg, forward +)")
    ax.set_title("Trunk sway", loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    return fig


def contribution_curves(angles: AngleBlock) -> Figure | None:
    """Lumbar contribution (%) over the flexion phase of each forward bend (`plot_data.bend_curves`);
    None without bends."""
    rows = angle_rows(angles)
    curves = bend_curves(rows, rate_of(rows))
    if not curves:
        return None
    fig = Figure(figsize=(_WIDTH_IN / 2, 3.6), layout="constrained")
    ax = fig.subplots()
    for k, curve in enumerate(curves, start=1):
        ax.plot(curve.progress_pct, curve.contribution_pct, marker="o", ms=3, lw=1, label=f"bend {k}")
    ax.set_xlabel("flexion progress (% of trunk range)")
    ax.set_ylabel("lumbar contribution (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Lumbo-pelvic rhythm", loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncols=2)
    return fig


def perturbation_overlay(angles: AngleBlock, pushes: Sequence[PerturbationInstant]) -> Figure | None:
    """Trunk sagittal inclination around each perturbation the analysis analysed, aligned at its
    instant (deg from the pre-perturbation mean, `plot_data.response_traces`); a mark without a
    trunk response is dashed and labelled "no response", as in the results. None without any."""
    traces = response_traces(angle_rows(angles), pushes)
    if not traces:
        return None
    fig = Figure(figsize=(_WIDTH_IN / 2, 3.6), layout="constrained")
    ax = fig.subplots()
    for k, trace in enumerate(traces, start=1):
        if trace.responded is False:
            ax.plot(trace.time_s, trace.angle_deg, lw=1, ls="--", color="0.6", label=f"#{k} no response")
        else:
            ax.plot(trace.time_s, trace.angle_deg, lw=1, label=f"#{k}")
    ax.axvline(0.0, color="tab:red", lw=0.8)
    ax.set_xlabel("time from perturbation (s)")
    ax.set_ylabel("trunk sagittal (deg)")
    ax.set_title("Perturbation responses", loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncols=3)
    return fig


@dataclass(frozen=True)
class TrendSeries:
    """One measure over sessions: its catalogue entry, (local time, value) points (several on a
    visit's day are that visit's recordings), MDC95 (NaN when unknown)."""

    info: MeasureInfo
    points: list[tuple[datetime, float]]
    mdc95: float = math.nan

    def visits(self) -> list[tuple[date, float, float, int]]:
        """(day, mean, SD, n) of each visit (calendar day) in order; SD 0 for a single recording."""
        by_day: dict[date, list[float]] = {}
        for when, value in sorted(self.points):
            by_day.setdefault(when.date(), []).append(value)
        return [
            (day, float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, len(v))
            for day, v in by_day.items()
        ]


def honest_limits(values: Sequence[float], info: MeasureInfo, mdc95: float) -> tuple[float, float]:
    """y-limits that do not turn noise into slopes: the span is at least twice the MDC95, a fifth
    of the mean's size and ten steps of the catalogue's resolution, whichever is largest."""
    v = np.asarray([info.display_value(x) for x in values], dtype=float)
    low, high = float(np.min(v)), float(np.max(v))
    span = max(
        high - low,
        2 * info.display_value(mdc95) if math.isfinite(mdc95) else 0.0,
        0.2 * abs(float(np.mean(v))),
        10 * 10.0**-info.decimals,
    )
    centre = (low + high) / 2
    return centre - 0.6 * span, centre + 0.6 * span


def trend(
    series: Sequence[TrendSeries],
    outcomes: Sequence[tuple[date, float, float, str]] = (),
    lost: Mapping[date, int] | None = None,
) -> Figure | None:
    """Key measures over the subject's visits by date (one panel each): one point per visit, the
    mean ± SD of its recordings, with the MDC95 band around the first visit's mean; and the
    patient-reported outcomes. `lost` counts the recordings of a day that could not be read; that
    date's label says so. None without any series."""
    lost = lost or {}
    outcomes = [o for o in outcomes if math.isfinite(o[1]) or math.isfinite(o[2])]
    panels = len(series) + (1 if len(outcomes) >= 2 else 0)
    if not series:
        return None
    fig = Figure(figsize=(_WIDTH_IN, 1.8 * panels + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(panels, 1, sharex=True))
    counts: dict[date, int] = dict.fromkeys(lost, 0)
    for ax, s in zip(axes, series, strict=False):
        visits = s.visits()
        x = [float(mdates.date2num(day)) for day, *_ in visits]
        mean = [s.info.display_value(m) for _, m, _, _ in visits]
        sd = [s.info.display_value(d) for _, _, d, _ in visits]
        ax.errorbar(x, mean, yerr=sd, marker="o", color="tab:blue", capsize=3)
        for day, *_, n in visits:
            counts[day] = max(counts.get(day, 0), n)
        if math.isfinite(s.mdc95):
            band = s.info.display_value(s.mdc95)
            ax.axhspan(mean[0] - band, mean[0] + band, color="tab:blue", alpha=0.12, lw=0)
        ax.set_ylim(*honest_limits([v for _, m, d, _ in visits for v in (m - d, m + d)], s.info, s.mdc95))
        ax.set_ylabel(s.info.unit)
        ax.set_title(s.info.name, loc="left", fontsize=10)
        ax.grid(alpha=0.3)
    if len(outcomes) >= 2:
        ax = axes[-1]
        days = [float(mdates.date2num(o[0])) for o in outcomes]
        ax.plot(days, [o[1] for o in outcomes], marker="s", color="tab:red", label="pain now (0–10)")
        ax.set_ylim(0, 10)
        ax.set_ylabel("pain 0–10")
        questionnaire = next((o[3] for o in outcomes if o[3]), "")
        if questionnaire:
            twin = ax.twinx()
            twin.plot(days, [o[2] for o in outcomes], marker="^", color="tab:purple", label=questionnaire)
            twin.set_ylim(0, 100 if questionnaire == "ODI" else 24)
            twin.set_ylabel(questionnaire)
            twin.legend(loc="upper right", fontsize=8)
        ax.legend(loc="upper left", fontsize=8)
        ax.set_title("Patient-reported outcomes", loc="left", fontsize=10)
        ax.grid(alpha=0.3)
    visit_days = sorted(counts)
    x_days = [float(mdates.date2num(day)) for day in visit_days]
    axes[-1].set_xticks(x_days, [_visit_label(day, counts[day], lost.get(day, 0)) for day in visit_days])
    first, last = min(x_days), max(x_days)
    margin = max(0.5, 0.05 * (last - first))
    axes[-1].set_xlim(first - margin, last + margin)
    _fit_labels(fig, axes[-1])
    return fig


def _visit_label(day: date, recordings: int, unreadable: int) -> str:
    """'04 Oct 2026', with the number of recordings averaged and of those that could not be read."""
    notes = [f"mean of {recordings}"] if recordings > 1 else []
    notes += [f"{unreadable} unreadable"] if unreadable else []
    return f"{day:%d %b %Y}" + (f" ({', '.join(notes)})" if notes else "")


def _fit_labels(fig: Figure, ax: Axes) -> None:
    """Lay the date labels flat when they fit, else slant them, else stand them upright, so that
    no two neighbours overlap; a label still too close to the one before it is left out (its
    visit keeps its tick and point)."""
    labels = ax.get_xticklabels()
    for angle in (0, 30, 90):
        for label in labels:
            label.set_rotation(angle)
            label.set_horizontalalignment("right" if angle == 30 else "center")
        fig.draw_without_rendering()
        if not any(labels_overlap(fig, ax, angle)):
            return
    kept = 0
    for k, label in enumerate(labels[1:], start=1):
        if _label_gap(fig, ax, kept, k, 90) < 0:
            label.set_visible(False)
        else:
            kept = k


def labels_overlap(fig: Figure, ax: Axes, angle: float) -> list[bool]:
    """Whether each pair of neighbouring x tick labels, drawn at `angle` degrees, overlaps: flat
    ones by their drawn boxes, slanted or upright ones (parallel lines of text anchored at their
    ticks) when their baselines are closer than a line of text."""
    return [_label_gap(fig, ax, k, k + 1, angle) < 0 for k in range(len(ax.get_xticklabels()) - 1)]


def _label_gap(fig: Figure, ax: Axes, first: int, second: int, angle: float) -> float:
    """Free space (px) between the x tick labels `first` and `second` at `angle` degrees."""
    labels = ax.get_xticklabels()
    line_px = float(labels[first].get_fontsize()) * fig.dpi / 72 * 1.2
    if angle == 0:  # half a line between flat labels
        return labels[second].get_window_extent().x0 - labels[first].get_window_extent().x1 - line_px / 2
    x = [ax.transData.transform((t, 0.0))[0] for t in ax.get_xticks()]
    return abs(x[second] - x[first]) * math.sin(math.radians(angle)) - line_px
