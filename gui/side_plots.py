"""The side plots beside the traces (pyqtgraph), in the live view and the review window: the
trunk's sway with its ellipse, the lumbar contribution per bend, the responses to pushes; and
which of them a drill family shows."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from gui.plot_legend import LegendBelow
from gui.plots import CURVE_COLOURS, EVENT_PENS, NO_RESPONSE, RESPONSE_COLOURS, style_plot
from recordings.plot_data import BendCurve, ResponseTrace, SwayPath, steady_range
from sensors.drills import HOLD_FAMILIES, DrillFamily
from sensors.events import EventKind

#: The sway plot's title and axes (left, bottom) standing, and in a hold (prone, side-lying or on
#: all fours "forward" and "right" are not where they are standing: the angles are about the hold
#: posture, in the planes the traces name).
SWAY_LABELS = ("Trunk sway, 95 % ellipse", "AP (deg, forward +)", "ML (deg, right +)")
#: The trunk about the hold's posture. Titles fit a 1366×768 dashboard's side column (~245 px):
#: a longer one widened the plot past its widget, cutting its right side off.
HOLD_SWAY_LABELS = (
    "Hold: trunk sway, 95 % ellipse",
    "sagittal from the hold (deg)",
    "frontal from the hold (deg)",
)


class SwayPlot(pg.PlotWidget):
    """Trunk inclination sway (ML across, AP up, about the mean) with its 95 % ellipse."""

    def __init__(self) -> None:
        super().__init__()
        style_plot(self.getPlotItem(), *SWAY_LABELS)
        self.setAspectLocked(True)
        self.path = self.plot(pen=pg.mkPen("#888888", width=1))
        self.ellipse = self.plot(pen=pg.mkPen("#d62728", width=3))
        self.dot = self.plot(symbol="o", symbolSize=12, symbolBrush="#1f77b4", pen=None)
        # A square range that changes only when the sway needs it (`steady_range`): rescaling the
        # axes with every update would redraw them every time.
        self.disableAutoRange()
        self.view_range = (-1.0, 1.0)
        self.setRange(xRange=self.view_range, yRange=self.view_range, padding=0)

    def label_for(self, family: DrillFamily | None) -> None:
        """Title and axes for the drill family: a hold's, or standing sway's."""
        title, left, bottom = HOLD_SWAY_LABELS if family in HOLD_FAMILIES else SWAY_LABELS
        plot = self.getPlotItem()
        plot.setTitle(title, size="11pt")
        plot.setLabel("left", left)
        plot.setLabel("bottom", bottom)

    def show_sway(self, sway: SwayPath) -> None:
        """Draw a `plot_data.SwayPath`: the path, its ellipse (if any) and the newest point."""
        self.path.setData(sway.ml, sway.ap)
        if sway.outline is not None:
            self.ellipse.setData(sway.outline[:, 0], sway.outline[:, 1])
        else:
            self.ellipse.setData([], [])
        self.dot.setData(sway.ml[-1:], sway.ap[-1:])
        wanted = steady_range(self.view_range, np.array([-sway.limit, sway.limit]), min_span=1.0)
        if wanted != self.view_range:
            self.view_range = wanted
            self.setRange(xRange=wanted, yRange=wanted, padding=0)


#: The bend plot's margin around its 0-100 % axes (a fraction of the range).
PERCENT_PADDING = 0.06


class BendCurvesPlot(pg.PlotWidget):
    """Lumbar contribution (%) against flexion progress, one curve per bend."""

    def __init__(self) -> None:
        super().__init__()
        style_plot(
            self.getPlotItem(), "Lumbar contribution per bend", "lumbar share (%)", "flexion progress (%)"
        )
        # A margin past 0 and 100 %: the end labels fit, and the end points are not cut in half.
        self.setYRange(0, 100, padding=PERCENT_PADDING)
        self.setXRange(0, 100, padding=PERCENT_PADDING)
        self.legend = LegendBelow(self.getPlotItem())
        self._count = -1

    def show_curves(self, curves: list[BendCurve]) -> None:
        if len(curves) == self._count:
            return
        self.clear()
        entries = []
        for k, curve in enumerate(curves):
            colour = CURVE_COLOURS[k % len(CURVE_COLOURS)]
            self.plot(
                curve.progress_pct,
                curve.contribution_pct,
                pen=pg.mkPen(colour, width=2),
                symbol="o",
                symbolSize=6,
                symbolBrush=colour,
            )
            entries.append((f"bend {k + 1}", colour, False))
        self.legend.set_entries(entries)
        self._count = len(curves)


class PerturbationPlot(pg.PlotWidget):
    """Trunk sagittal response to each perturbation the analysis analyses, aligned at the push;
    a mark the trunk did not answer is drawn dashed and named "no response", as in the results."""

    def __init__(self) -> None:
        super().__init__()
        style_plot(self.getPlotItem(), "Perturbation responses", "trunk sagittal (deg)", "time from push (s)")
        self.addItem(pg.InfiniteLine(0.0, angle=90, pen=EVENT_PENS[EventKind.PERTURBATION]))
        self.setXRange(-0.5, 3.0)
        self.legend = LegendBelow(self.getPlotItem())
        self._curves: list[pg.PlotDataItem] = []
        self._shown: list[tuple[float, bool | None]] = []

    def show_responses(self, traces: list[ResponseTrace]) -> None:
        """Draw `plot_data.response_traces` (curves re-made only when the pushes or verdicts change)."""
        shown = [(trace.push.time_s, trace.responded) for trace in traces]
        if shown != self._shown:
            for curve in self._curves:
                self.removeItem(curve)
            self._curves = []
            entries = []
            for k, trace in enumerate(traces, start=1):
                colour = RESPONSE_COLOURS[(k - 1) % len(RESPONSE_COLOURS)]
                if trace.responded is False:
                    colour, pen = NO_RESPONSE, pg.mkPen(NO_RESPONSE, width=2, style=Qt.PenStyle.DashLine)
                    entries.append((f"push {k}: no response", colour, True))
                else:
                    pen = pg.mkPen(colour, width=2)
                    entries.append((f"push {k}", colour, False))
                self._curves.append(self.plot(pen=pen))
            self.legend.set_entries(entries)
            self._shown = shown
        for curve, trace in zip(self._curves, traces, strict=True):
            curve.setData(trace.time_s, trace.angle_deg, connect="finite")


#: Which side plots mean something for a drill family: (sway, bend curves, perturbation responses).
SIDE_PLOTS: dict[DrillFamily, tuple[bool, bool, bool]] = {
    DrillFamily.QUIET_STANCE: (True, False, False),
    DrillFamily.SINGLE_LEG: (True, False, False),
    DrillFamily.PERTURBATIONS: (True, False, True),
    DrillFamily.FORWARD_BEND: (False, True, False),
    **dict.fromkeys(HOLD_FAMILIES, (True, False, False)),
}


def show_side_plots(
    family: DrillFamily | None, sway: SwayPlot, bends: QWidget, perturbations: QWidget, side: QWidget
) -> None:
    """Show the side plots that mean something for the drill family (none: hide the column)."""
    shown = SIDE_PLOTS.get(family, (False, False, False)) if family is not None else (False, False, False)
    sway.label_for(family)
    widgets: tuple[QWidget, ...] = (sway, bends, perturbations)
    for widget, visible in zip(widgets, shown, strict=True):
        widget.setVisible(visible)
    side.setVisible(any(shown))
