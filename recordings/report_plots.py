"""The figures of a clinical report, drawn with matplotlib's object API (no GUI backend).

Angles are shown in degrees; time in seconds of session time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure

from recordings.catalogue import MeasureInfo
from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.processing.errors import ProcessingError
from sensors.processing.pipeline import AngleBlock
from sensors.processing.rhythm import PROGRESS_LEVELS, bend_repetitions
from sensors.processing.sway import confidence_ellipse

_WIDTH_IN = 9.0
_EVENT_COLOURS = {
    EventKind.PERTURBATION: "tab:red",
    EventKind.TASK_START: "tab:green",
    EventKind.TASK_END: "tab:green",
}


def angle_traces(angles: AngleBlock, events: Sequence[Event]) -> Figure:
    """Trunk and pelvic inclination (sagittal, frontal) and lumbar angles over the session."""
    fig = Figure(figsize=(_WIDTH_IN, 6.0), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    t = angles.time_s
    for ax, placement, title in (
        (axes[0], Placement.LUMBAR, "Trunk (T12/L1 sensor) inclination"),
        (axes[1], Placement.PELVIS, "Pelvis (S1/S2 sensor) inclination"),
    ):
        incl = np.degrees(angles.inclination(placement))
        ax.plot(t, incl[:, 0], lw=0.9, label="sagittal (flexion +)")
        ax.plot(t, incl[:, 1], lw=0.9, label="frontal (right +)")
        ax.set_title(title, loc="left", fontsize=10)
        ax.set_ylabel("deg")
    lumbar = np.degrees(angles.lumbar_rad)
    for k, label in enumerate(("sagittal", "frontal", "axial")):
        axes[2].plot(t, lumbar[:, k], lw=0.9, label=label)
    axes[2].set_title("Lumbar angle (trunk − pelvis)", loc="left", fontsize=10)
    axes[2].set_ylabel("deg")
    axes[2].set_xlabel("session time (s)")
    for ax in axes:
        for event in events:
            colour = _EVENT_COLOURS.get(event.kind)
            if colour is not None:
                ax.axvline(event.time_s, color=colour, lw=0.7, alpha=0.6)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8, ncols=3)
    return fig


def sway_plot(angles: AngleBlock, start_s: float, end_s: float) -> Figure:
    """Trunk inclination sway (ML against AP, deg, about the mean) with its 95 % ellipse."""
    window = (angles.time_s >= start_s) & (angles.time_s <= end_s)
    incl = np.degrees(angles.inclination(Placement.LUMBAR)[window])
    ap, ml = incl[:, 0] - np.nanmean(incl[:, 0]), incl[:, 1] - np.nanmean(incl[:, 1])
    fig = Figure(figsize=(4.8, 4.8), layout="constrained")
    ax = fig.subplots()
    ax.plot(ml, ap, lw=0.5, color="0.4")
    outline = confidence_ellipse(ap, ml)
    ax.plot(outline[:, 0], outline[:, 1], color="tab:red", lw=1.5, label="95 % ellipse")
    limit = max(np.nanmax(np.abs(np.concatenate([ap, ml]))), np.max(np.abs(outline))) * 1.1
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xlabel("medio-lateral (deg, right +)")
    ax.set_ylabel("anterior-posterior (deg, forward +)")
    ax.set_title("Trunk sway", loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def contribution_curves(angles: AngleBlock) -> Figure | None:
    """Lumbar contribution (%) over the flexion phase of each forward bend; None without bends."""
    trunk = np.degrees(angles.inclination(Placement.LUMBAR)[:, 0])
    pelvis = np.degrees(angles.inclination(Placement.PELVIS)[:, 0])
    try:
        reps = bend_repetitions(angles.time_s, trunk, pelvis).repetitions
    except ProcessingError:
        return None
    if not reps:
        return None
    fig = Figure(figsize=(_WIDTH_IN / 2, 3.6), layout="constrained")
    ax = fig.subplots()
    for k, rep in enumerate(reps, start=1):
        ax.plot(
            100 * PROGRESS_LEVELS, 100 * rep.contribution_curve, marker="o", ms=3, lw=1, label=f"bend {k}"
        )
    ax.set_xlabel("flexion progress (% of trunk range)")
    ax.set_ylabel("lumbar contribution (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Lumbo-pelvic rhythm", loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncols=2)
    return fig


def perturbation_overlay(angles: AngleBlock, instants: Sequence[float]) -> Figure | None:
    """Trunk sagittal inclination around each perturbation, aligned at its instant (deg from the
    pre-perturbation mean); None without perturbations."""
    if not instants:
        return None
    fig = Figure(figsize=(_WIDTH_IN / 2, 3.6), layout="constrained")
    ax = fig.subplots()
    t = angles.time_s
    trunk = np.degrees(angles.inclination(Placement.LUMBAR)[:, 0])
    for k, instant in enumerate(instants, start=1):
        window = (t >= instant - 0.5) & (t <= instant + 3.0)
        before = (t >= instant - 0.5) & (t < instant)
        if not before.any():
            continue
        ax.plot(t[window] - instant, trunk[window] - np.nanmean(trunk[before]), lw=1, label=f"#{k}")
    ax.axvline(0.0, color="tab:red", lw=0.8)
    ax.set_xlabel("time from perturbation (s)")
    ax.set_ylabel("trunk sagittal (deg)")
    ax.set_title("Perturbation responses", loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncols=3)
    return fig


@dataclass(frozen=True)
class TrendSeries:
    """One measure over sessions: its catalogue entry, (local time, value) points, MDC95 (NaN
    when unknown)."""

    info: MeasureInfo
    points: list[tuple[datetime, float]]
    mdc95: float = math.nan


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


def session_positions(sessions: Sequence[datetime]) -> dict[datetime, float]:
    """x of each session on a trend: its calendar day (matplotlib date number), never its time
    of day; the k-th session of a day sits k × 0.25 day later so each stays visible."""
    out: dict[datetime, float] = {}
    count: dict[date, int] = {}
    for w in sorted(sessions):
        k = count.get(w.date(), 0)
        count[w.date()] = k + 1
        out[w] = float(mdates.date2num(w.date())) + 0.25 * k
    return out


def trend(
    series: Sequence[TrendSeries], outcomes: Sequence[tuple[date, float, float, str]] = ()
) -> Figure | None:
    """Key measures over the subject's sessions by date (one panel each), with the MDC95 band
    around the first session, and the patient-reported outcomes; None with fewer than two sessions."""
    outcomes = [o for o in outcomes if math.isfinite(o[1]) or math.isfinite(o[2])]
    panels = len(series) + (1 if len(outcomes) >= 2 else 0)
    if not series:
        return None
    fig = Figure(figsize=(_WIDTH_IN, 1.8 * panels + 0.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(panels, 1, sharex=True))
    x_of = session_positions(sorted({w for s in series for w, _ in s.points}))
    for ax, s in zip(axes, series, strict=False):
        when, values = zip(*sorted(s.points), strict=True)
        shown = [s.info.display_value(x) for x in values]
        ax.plot([x_of[w] for w in when], shown, marker="o", color="tab:blue")
        if math.isfinite(s.mdc95):
            first, band = shown[0], s.info.display_value(s.mdc95)
            ax.axhspan(first - band, first + band, color="tab:blue", alpha=0.12, lw=0)
        ax.set_ylim(*honest_limits(values, s.info, s.mdc95))
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
    labels: list[str] = []
    seen: dict[date, int] = {}
    for w in sorted(x_of):
        seen[w.date()] = seen.get(w.date(), 0) + 1
        labels.append(f"{w:%d %b %Y}" + (f" ({seen[w.date()]})" if seen[w.date()] > 1 else ""))
    axes[-1].set_xticks([x_of[w] for w in sorted(x_of)], labels)
    first, last = min(x_of.values()), max(x_of.values())
    axes[-1].set_xlim(first - max(0.5, 0.05 * (last - first)), last + max(0.5, 0.05 * (last - first)))
    fig.autofmt_xdate()
    return fig
