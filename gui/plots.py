"""The plots the live view and the review window share (pyqtgraph), fed with angle rows in
degrees (`gui.model.live.COLUMNS`) and events. Calm colours, large fonts, legible from a distance."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QPen
from PySide6.QtWidgets import QGraphicsView

from recordings.plot_data import (
    COLUMNS,
    PANELS,
    TIME,
    EventLine,
    WindowDecimator,
    decimate_peaks,
    event_lines,
    steady_range,
)
from sensors.events import Event, EventKind

SAGITTAL = "#1f77b4"
FRONTAL = "#ff7f0e"
AXIAL = "#2ca02c"
PLANE_COLOURS = {"sagittal": SAGITTAL, "frontal": FRONTAL, "axial": AXIAL}
EVENT_PENS = {
    EventKind.PERTURBATION: pg.mkPen("#d62728", width=2),
    EventKind.TASK_START: pg.mkPen("#2ca02c", width=2, style=Qt.PenStyle.DashLine),
    EventKind.TASK_END: pg.mkPen("#2ca02c", width=2, style=Qt.PenStyle.DashLine),
    EventKind.PAIN_RATING: pg.mkPen("#9467bd", width=2),
    EventKind.ANNOTATION: pg.mkPen("#7f7f7f", width=1),
}
CURVE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
#: A push's response curve is never drawn in the push line's red (a red curve read as the line).
RESPONSE_COLOURS = tuple(c for c in CURVE_COLOURS if c != EVENT_PENS[EventKind.PERTURBATION].color().name())
NO_RESPONSE = "#999999"

pg.setConfigOptions(antialias=False, background="w", foreground="#333333")


def style_plot(plot: pg.PlotItem, title: str, left: str, bottom: str, grid: bool = True) -> None:
    plot.setTitle(title, size="11pt")  # "Lumbar angle … ■ axial" whole in a 1366-px window
    plot.setLabel("left", left)
    plot.setLabel("bottom", bottom)
    if grid:
        plot.showGrid(x=True, y=True, alpha=0.25)
    font = QFont()
    font.setPointSize(10)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).setTickFont(font)
        # Degrees and seconds as they are: pyqtgraph's automatic SI prefix turned 0.6° into
        # "deg (x0.001)" with ticks at 600, and an empty plot's time axis into "s (x0.001)".
        plot.getAxis(axis).enableAutoSIPrefix(False)
    # A fixed axis width: tick labels changing width ("-2" → "1.5") would resize the view, and
    # re-lay out the whole plot, on every redraw.
    plot.getAxis("left").setWidth(52)


def _panel_title(title: str, series: tuple[tuple[int, str], ...]) -> str:
    """A panel's title with its curves' names in their colours (the legend, outside the view: a
    legend inside it would be repainted with the curves on every redraw)."""
    names = " ".join(f"<span style='color:{PLANE_COLOURS[plane]}'>■ {plane}</span>" for _, plane in series)
    return f"{title} &nbsp; {names}"


class AngleTraces(pg.GraphicsLayoutWidget):
    """Trunk, pelvis and lumbar angles (`plot_data.PANELS`, three linked plots over session time)
    with event lines: the review window's traces (zoom and pan; the detail of what is in view)."""

    #: Label of the time axis.
    time_label = "session time (s)"

    def __init__(self) -> None:
        super().__init__()
        self.plots: list[pg.PlotItem] = []
        self.curves: list[list[pg.PlotDataItem | pg.PlotCurveItem]] = []
        self.columns = [[c for c, _ in series] for _, series in PANELS]
        for row, (title, series) in enumerate(PANELS):
            plot = self.addPlot(row=row, col=0)
            # No grid on the traces: redrawing it with every frame costs more than the rest of the
            # plot; a zero line gives the reference instead.
            style_plot(
                plot, _panel_title(title, series), "deg", self.time_label if row == 2 else "", grid=False
            )
            plot.addItem(pg.InfiniteLine(0.0, angle=0, pen=pg.mkPen("#999999", width=1)), ignoreBounds=True)
            # 1-px lines: wider ones cost twice as much to rasterise, on every redraw.
            self.curves.append(
                [self._curve(plot, pg.mkPen(PLANE_COLOURS[plane], width=1)) for _, plane in series]
            )
            if self.plots:
                plot.setXLink(self.plots[0])
            if row < 2:
                plot.hideAxis("bottom")  # one time axis, under the stack
            self.plots.append(plot)
        # Repaint exactly the rectangles of what changed (no 2-px margin for antialiasing, which
        # is off): the curves' then stay clear of the axes and titles, which are not redrawn.
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self._event_lines: list[tuple[EventLine, list[pg.InfiniteLine]]] = []
        self._events_shown = -1
        self._rows = np.empty((0, len(COLUMNS)))

    def _curve(self, plot: pg.PlotItem, pen: QPen) -> pg.PlotDataItem | pg.PlotCurveItem:
        """A curve in plot (a PlotDataItem: it takes part in autoranging and zooming)."""
        return plot.plot(pen=pen, connect="finite")

    def pixel_columns(self) -> int:
        """Device pixels across the traces' plotting area (at least 1)."""
        view = self.plots[0].getViewBox()
        return max(1, round(view.width() * self.devicePixelRatioF()))

    def _draw(self, t: np.ndarray, values: np.ndarray) -> None:
        """Hand every curve its column of values (m, len(COLUMNS)) at x (m,)."""
        for curves, columns in zip(self.curves, self.columns, strict=True):
            for curve, column in zip(curves, columns, strict=True):
                curve.setData(t, values[:, column])

    def show_events(self, events: list[Event]) -> None:
        """Draw a line per `plot_data.event_lines` of the events (when their number changed)."""
        if len(events) == self._events_shown:
            return
        for _, lines in self._event_lines:
            for plot, line in zip(self.plots, lines, strict=True):
                plot.removeItem(line)
        self._event_lines = []
        for event in event_lines(events):
            pen = EVENT_PENS.get(event.kind)
            if pen is None:
                continue
            lines = []
            for plot in self.plots:
                line = pg.InfiniteLine(event.time_s, angle=90, pen=pen, movable=False)
                plot.addItem(line, ignoreBounds=True)
                lines.append(line)
            self._event_lines.append((event, lines))
        self._events_shown = len(events)


class ReviewTraces(AngleTraces):
    """The traces of a whole recording over session time, zoomable: zoomed in, the rows in view
    are decimated afresh so the detail appears."""

    def __init__(self) -> None:
        super().__init__()
        # Re-decimated after the range settles, never inside the change: it is signalled while the
        # scene paints, and changing curves then can pull a paint device from under the painter.
        self._zoom = QTimer(self)
        self._zoom.setSingleShot(True)
        self._zoom.setInterval(0)
        self._zoom.timeout.connect(self._zoomed)
        self.plots[0].sigXRangeChanged.connect(self._zoom.start)

    def _zoomed(self) -> None:
        if not self.plots[0].getViewBox().autoRangeEnabled()[0]:
            self.show_rows(self._rows)

    def show_rows(self, rows: np.ndarray) -> None:
        """Draw angle rows (n, COLUMNS) in degrees, decimated to ≤ 2 points per pixel column."""
        self._rows = rows
        view = self.plots[0].getViewBox()
        if not view.autoRangeEnabled()[0] and len(rows):  # zoomed in: the detail of what is in view
            low, high = view.viewRange()[0]
            first, last = np.searchsorted(rows[:, TIME], (low, high))
            rows = rows[max(first - 1, 0) : last + 1]
        t, values = decimate_peaks(rows[:, TIME], rows, self.pixel_columns())
        self._draw(t, values)


class LiveTraces(AngleTraces):
    """The last `window_s` of the live angles on a fixed time axis in seconds before now
    (−window_s … 0): the axes never move, the data do. Each plot's y range changes only when the
    data leave it or shrink well inside it (`plot_data.steady_range`), so a redraw repaints the
    curves and nothing else. No mouse interaction: the live view always shows the present."""

    time_label = "seconds before now"

    def _curve(self, plot: pg.PlotItem, pen: QPen) -> pg.PlotDataItem | pg.PlotCurveItem:
        """A bare curve item: a PlotDataItem's bookkeeping (bounds for autoranging, zoom and
        downsampling options) costs on every redraw and is not needed for fixed ranges and data
        decimated to the pixels."""
        curve = pg.PlotCurveItem(pen=pen, connect="finite")
        plot.addItem(curve)
        return curve

    def __init__(self, window_s: float = 60.0) -> None:
        super().__init__()
        self.window_s = window_s
        self._latest = 0.0
        for plot in self.plots:
            plot.setMouseEnabled(x=False, y=False)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.disableAutoRange()
            plot.setXLink(None)  # each fixed on its own: a link aligns pixels, not ranges
            # Ticks outside and a little room at both ends: the curves' rectangles (the only
            # thing repainted on a redraw) stay clear of the axes, so those are never redrawn.
            plot.setXRange(-window_s, 0.0, padding=0.01)
            for name in ("left", "bottom"):
                plot.getAxis(name).setStyle(tickLength=5)
        self.y_ranges = [(-5.0, 5.0) for _ in self.plots]
        for plot, (low, high) in zip(self.plots, self.y_ranges, strict=True):
            plot.setYRange(low, high, padding=0)
        self.decimator = WindowDecimator()
        self._t, self._values = np.empty(0), np.empty((0, len(COLUMNS)))  # decimated rows drawn
        self._lines: list[EventLine] = []
        self._kind_curves: dict[EventKind, list[pg.PlotCurveItem]] = {}
        for kind, pen in EVENT_PENS.items():
            self._kind_curves[kind] = []
            for plot in self.plots:
                curve = pg.PlotCurveItem(pen=pen, connect="pairs")
                plot.addItem(curve, ignoreBounds=True)
                self._kind_curves[kind].append(curve)

    def show_rows(self, rows: np.ndarray, now_s: float | None = None) -> None:
        """Draw the newest window_s of angle rows (n, COLUMNS) deg, ≤ 2 points per pixel column in
        columns fixed in session time (the envelope of older data stays put as it scrolls), at
        their time before now_s (s of session time; default the newest row's)."""
        self._rows = rows
        if not len(rows):
            self._t, self._values = np.empty(0), np.empty((0, len(COLUMNS)))
            self._draw(self._t, self._values)
            return
        latest = float(rows[-1, TIME])
        self._t, self._values = self.decimator.update(
            rows, latest - self.window_s, latest, self.pixel_columns()
        )
        for k, (plot, columns) in enumerate(zip(self.plots, self.columns, strict=True)):
            wanted = steady_range(self.y_ranges[k], self._values[:, columns])
            if wanted != self.y_ranges[k]:
                self.y_ranges[k] = wanted
                plot.setYRange(*wanted, padding=0)
        self.scroll_to(latest if now_s is None else now_s)

    def scroll_to(self, now_s: float) -> None:
        """Move what `show_rows` drew to its time before now_s (s of session time)."""
        self._latest = now_s
        self._draw(self._t - now_s, self._values)
        self._move_event_lines()

    def show_events(self, events: list[Event]) -> None:
        """Keep the lines of `plot_data.event_lines` of the events (drawn by `show_rows`)."""
        if len(events) != self._events_shown:
            self._lines = event_lines(events)
            self._events_shown = len(events)
            self._move_event_lines()

    def _move_event_lines(self) -> None:
        """Draw the event lines within the window at their time before now: per plot, one curve of
        vertical segments per event kind (an InfiniteLine's bounds reach past the view, so moving
        one would repaint the titles and axes around it too)."""
        for kind, curves in self._kind_curves.items():
            x = np.array([line.time_s - self._latest for line in self._lines if line.kind is kind])
            x = x[(x >= -self.window_s) & (x <= 0.0)]
            for curve, (low, high) in zip(curves, self.y_ranges, strict=True):
                curve.setVisible(len(x) > 0)  # an empty item is not painted at all
                if len(x) or len(curve.xData if curve.xData is not None else ()):
                    inset = 0.05 * (high - low)  # within the view, pen and all: nothing around repaints
                    curve.setData(np.repeat(x, 2), np.tile([low + inset, high - inset], len(x)))
