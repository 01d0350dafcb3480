"""The plots the live view and the review window share (pyqtgraph), fed with angle rows in
degrees (`gui.model.live.COLUMNS`) and events. Calm colours, large fonts, legible from a distance."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from gui.model.live import (
    LUMBAR_AXIAL,
    LUMBAR_FRONT,
    LUMBAR_SAG,
    PELVIS_AP,
    PELVIS_ML,
    TIME,
    TRUNK_AP,
    TRUNK_ML,
    BendCurve,
    decimate_peaks,
)
from sensors.drills import HOLD_FAMILIES, DrillFamily
from sensors.events import Event, EventKind

SAGITTAL = "#1f77b4"
FRONTAL = "#ff7f0e"
AXIAL = "#2ca02c"
EVENT_PENS = {
    EventKind.PERTURBATION: pg.mkPen("#d62728", width=2),
    EventKind.TASK_START: pg.mkPen("#2ca02c", width=2, style=Qt.PenStyle.DashLine),
    EventKind.TASK_END: pg.mkPen("#2ca02c", width=2, style=Qt.PenStyle.DashLine),
    EventKind.PAIN_RATING: pg.mkPen("#9467bd", width=2),
    EventKind.ANNOTATION: pg.mkPen("#7f7f7f", width=1),
}
CURVE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")

pg.setConfigOptions(antialias=False, background="w", foreground="#333333")


def _style(plot: pg.PlotItem, title: str, left: str, bottom: str, grid: bool = True) -> None:
    plot.setTitle(title, size="12pt")
    plot.setLabel("left", left)
    plot.setLabel("bottom", bottom)
    if grid:
        plot.showGrid(x=True, y=True, alpha=0.25)
    font = QFont()
    font.setPointSize(10)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).setTickFont(font)
    # A fixed axis width: tick labels changing width ("-2" → "1.5") would resize the view, and
    # re-lay out the whole plot, on every redraw.
    plot.getAxis("left").setWidth(52)


class AngleTraces(pg.GraphicsLayoutWidget):
    """Trunk, pelvis and lumbar angles over time (three linked plots) with event lines."""

    def __init__(self) -> None:
        super().__init__()
        self.plots: list[pg.PlotItem] = []
        self.curves: list[list[pg.PlotDataItem]] = []
        specs = (
            ("Trunk (T12/L1)", ((TRUNK_AP, "sagittal", SAGITTAL), (TRUNK_ML, "frontal", FRONTAL))),
            ("Pelvis (S1/S2)", ((PELVIS_AP, "sagittal", SAGITTAL), (PELVIS_ML, "frontal", FRONTAL))),
            (
                "Lumbar (trunk − pelvis)",
                (
                    (LUMBAR_SAG, "sagittal", SAGITTAL),
                    (LUMBAR_FRONT, "frontal", FRONTAL),
                    (LUMBAR_AXIAL, "axial", AXIAL),
                ),
            ),
        )
        self.columns = [[c for c, _, _ in series] for _, series in specs]
        for row, (title, series) in enumerate(specs):
            plot = self.addPlot(row=row, col=0)
            # No grid on the scrolling traces: redrawing it with every frame costs more than the
            # rest of the plot; a zero line gives the reference instead.
            _style(plot, title, "deg", "session time (s)" if row == 2 else "", grid=False)
            plot.addItem(pg.InfiniteLine(0.0, angle=0, pen=pg.mkPen("#999999", width=1)), ignoreBounds=True)
            plot.addLegend(offset=(5, 5), labelTextSize="9pt")
            # A minute at 200 Hz is 12 000 points per curve on ~1 000 pixels: `show_rows` hands
            # pyqtgraph the min and max per pixel column only (peaks stay visible).
            # 1-px lines: wider ones cost twice as much to rasterise, on every redraw.
            self.curves.append(
                [plot.plot(pen=pg.mkPen(colour, width=1), name=name) for _, name, colour in series]
            )
            if self.plots:
                plot.setXLink(self.plots[0])
            if row < 2:
                plot.hideAxis("bottom")  # one time axis, under the stack
            self.plots.append(plot)
        self._event_lines: list[tuple[pg.PlotItem, pg.InfiniteLine]] = []
        self._events_shown = -1
        self._rows = np.empty((0, TIME + 1))
        self.plots[0].sigXRangeChanged.connect(self._zoomed)

    def _zoomed(self) -> None:
        if not self.plots[0].getViewBox().autoRangeEnabled()[0]:
            self.show_rows(self._rows)

    def pixel_columns(self) -> int:
        """Device pixels across the traces' plotting area (at least 1)."""
        view = self.plots[0].getViewBox()
        return max(1, round(view.width() * self.devicePixelRatioF()))

    def show_rows(self, rows: np.ndarray) -> None:
        """Draw angle rows (n, COLUMNS) in degrees, decimated to ≤ 2 points per pixel column."""
        self._rows = rows
        view = self.plots[0].getViewBox()
        if not view.autoRangeEnabled()[0] and len(rows):  # zoomed in: the detail of what is in view
            low, high = view.viewRange()[0]
            first, last = np.searchsorted(rows[:, TIME], (low, high))
            rows = rows[max(first - 1, 0) : last + 1]
        t, values = decimate_peaks(rows[:, TIME], rows, self.pixel_columns())
        for curves, columns in zip(self.curves, self.columns, strict=True):
            for curve, column in zip(curves, columns, strict=True):
                curve.setData(t, values[:, column], connect="finite")

    def show_events(self, events: list[Event]) -> None:
        if len(events) == self._events_shown:
            return
        for plot, line in self._event_lines:
            plot.removeItem(line)
        self._event_lines = []
        for event in events:
            pen = EVENT_PENS.get(event.kind)
            if pen is None or event.source == "pipeline":
                continue
            for plot in self.plots:
                line = pg.InfiniteLine(event.time_s, angle=90, pen=pen, movable=False)
                plot.addItem(line, ignoreBounds=True)
                self._event_lines.append((plot, line))
        self._events_shown = len(events)


class SwayPlot(pg.PlotWidget):
    """Trunk inclination sway (ML across, AP up, about the mean) with its 95 % ellipse."""

    def __init__(self) -> None:
        super().__init__()
        _style(self.getPlotItem(), "Trunk sway, 95 % ellipse", "AP (deg, forward +)", "ML (deg, right +)")
        self.setAspectLocked(True)
        self.path = self.plot(pen=pg.mkPen("#888888", width=1))
        self.ellipse = self.plot(pen=pg.mkPen("#d62728", width=3))
        self.dot = self.plot(symbol="o", symbolSize=12, symbolBrush="#1f77b4", pen=None)

    def show_sway(self, ap: np.ndarray, ml: np.ndarray, outline: np.ndarray | None) -> None:
        self.path.setData(ml, ap)
        if outline is not None:
            self.ellipse.setData(outline[:, 0], outline[:, 1])
        else:
            self.ellipse.setData([], [])
        self.dot.setData(ml[-1:], ap[-1:])


class BendCurvesPlot(pg.PlotWidget):
    """Lumbar contribution (%) against flexion progress, one curve per bend."""

    def __init__(self) -> None:
        super().__init__()
        _style(self.getPlotItem(), "Lumbar contribution per bend", "lumbar share (%)", "flexion progress (%)")
        self.setYRange(0, 100)
        self.setXRange(0, 100)
        self.addLegend(offset=(5, 5), labelTextSize="9pt")
        self._count = -1

    def show_curves(self, curves: list[BendCurve]) -> None:
        if len(curves) == self._count:
            return
        self.clear()
        for k, curve in enumerate(curves):
            colour = CURVE_COLOURS[k % len(CURVE_COLOURS)]
            self.plot(
                curve.progress_pct,
                curve.contribution_pct,
                pen=pg.mkPen(colour, width=2),
                symbol="o",
                symbolSize=6,
                symbolBrush=colour,
                name=f"bend {k + 1}",
            )
        self._count = len(curves)


class PerturbationPlot(pg.PlotWidget):
    """Trunk sagittal response to each marked push, aligned at the push."""

    def __init__(self) -> None:
        super().__init__()
        _style(self.getPlotItem(), "Perturbation responses", "trunk sagittal (deg)", "time from push (s)")
        self.addItem(pg.InfiniteLine(0.0, angle=90, pen=EVENT_PENS[EventKind.PERTURBATION]))
        self.setXRange(-0.5, 3.0)
        self.addLegend(offset=(5, 5), labelTextSize="9pt")
        self._curves: list[pg.PlotDataItem] = []

    def show_responses(self, responses: list[tuple[np.ndarray, np.ndarray]]) -> None:
        while len(self._curves) < len(responses):
            colour = CURVE_COLOURS[len(self._curves) % len(CURVE_COLOURS)]
            self._curves.append(
                self.plot(pen=pg.mkPen(colour, width=2), name=f"push {len(self._curves) + 1}")
            )
        for curve, (t, angle) in zip(self._curves, responses, strict=False):
            curve.setData(t, angle, connect="finite")


#: Which side plots mean something for a drill family: (sway, bend curves, perturbation responses).
SIDE_PLOTS: dict[DrillFamily, tuple[bool, bool, bool]] = {
    DrillFamily.QUIET_STANCE: (True, False, False),
    DrillFamily.SINGLE_LEG: (True, False, False),
    DrillFamily.PERTURBATIONS: (True, False, True),
    DrillFamily.FORWARD_BEND: (False, True, False),
    **dict.fromkeys(HOLD_FAMILIES, (True, False, False)),
}


def show_side_plots(
    family: DrillFamily | None, sway: QWidget, bends: QWidget, perturbations: QWidget, side: QWidget
) -> None:
    """Show the side plots that mean something for the drill family (none: hide the column)."""
    shown = SIDE_PLOTS.get(family, (False, False, False)) if family is not None else (False, False, False)
    for widget, visible in zip((sway, bends, perturbations), shown, strict=True):
        widget.setVisible(visible)
    side.setVisible(any(shown))
