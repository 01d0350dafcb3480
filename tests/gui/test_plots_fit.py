"""What the plots and the review's tables show fits where they are shown, in the dashboard's live
view and in the review window, at 1366×768 and 1920×1080, on real recordings:
- the side plots' legends hide no data (session 9 left: the perturbation plot's legend covered
  its first second, and the bend plot's its first curve points): each lies outside the plot's
  view, whole and readable, and the view keeps room for the data;
- a side plot's title never makes the plot wider than its widget (the hold's sway title did, and
  the plot's right side, ellipse and axis, was cut off);
- the review's measures table needs no sideways scrolling (a long "Not measured — …" value
  pushed the sources out of view)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter

from gui.main_window import MainWindow
from gui.model.protocols import load_protocols
from gui.model.settings import DashboardSettings
from gui.review_window import ReviewWindow
from gui.side_plots import BendCurvesPlot, PerturbationPlot
from recordings.plot_data import angle_rows, perturbations_of, response_traces
from sensors.drills import DrillFamily
from sensors.events import Event, EventKind
from sensors.processing import SessionSettings
from sensors.simulator import DrillOptions, make_drill
from stabmon.cli import main as stabmon
from tests.cli_args import RECORD_NO_RADIO
from tests.conftest import simulate
from tests.gui.conftest import write_protocol

#: One worker for the module: its recordings are made once.
pytestmark = pytest.mark.xdist_group("plots-fit")

SCREENS = ((1366, 768), (1920, 1080))


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """A perturbation series, forward bends and a plank of one subject, recorded fast."""
    root = tmp_path_factory.mktemp("library")
    # The plank's 14 s hold only ~7 s: too short for its fatigue trend, whose "Not measured — …"
    # is the longest value a measure has.
    for drill, seconds in (("perturbations", 20), ("forward-bend", 20), ("plank", 14)):
        args = [*RECORD_NO_RADIO, "--drill", drill, "--seconds", str(seconds), "--subject", "P031"]
        assert stabmon([*args, "--seed", "4", "--data-dir", str(root)]) == 0
    return root


def legend_problems(plot: pg.PlotWidget) -> list[str]:
    """What is wrong with the plot's legend: over the view (where the data are drawn), over a
    drawn data point, cut by the widget's edge, or its text not whole; the view squeezed."""
    problems = []
    view = plot.getPlotItem().vb
    view_rect = view.sceneBoundingRect()
    legend = plot.getPlotItem().legend or plot.legend  # (pyqtgraph's own legend, before)
    legend_rect = legend.sceneBoundingRect()
    if legend_rect.intersects(view_rect):
        problems.append(f"the legend {legend_rect} lies over the view {view_rect}")
    (x0, x1), (y0, y1) = view.viewRange()
    for curve in plot.getPlotItem().listDataItems():
        x, y = curve.getData()
        shown = np.isfinite(x) & np.isfinite(y) & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        covered = [
            (float(a), float(b))
            for a, b in zip(x[shown], y[shown], strict=True)
            if legend_rect.contains(view.mapViewToScene(QPointF(float(a), float(b))))
        ]
        if covered:
            problems.append(f"the legend hides {len(covered)} data points, e.g. {covered[0]}")
    widget_rect = QRectF(plot.mapToScene(plot.viewport().rect()).boundingRect())
    if not widget_rect.contains(legend_rect):
        problems.append(f"the legend {legend_rect} is cut by the plot's edge {widget_rect}")
    text = legend.childrenBoundingRect()  # its text, as laid out
    if text.height() > legend_rect.height() + 0.5 or text.width() > legend_rect.width() + 0.5:
        problems.append(f"the legend's text {text} does not fit its room {legend_rect}")
    if view_rect.height() < 60:
        problems.append(f"the view kept {view_rect.height():.0f} px of height")
    return problems


def shown_legend(plot: pg.PlotWidget) -> str:
    return plot.legend.item.toPlainText()


PERTURBATIONS = """name = "Test pushes"
drill = "perturbations"
instructions = "Stand upright."
task_s = 20
get_ready_s = 0
"""


def shown_dashboard(
    qtbot, tmp_path: Path, data_dir: Path, screen: tuple[int, int], *, pushes: bool = True
) -> MainWindow:
    """The dashboard shown at `screen` (width, height px), with the test pushes protocol chosen
    (`pushes`) or no protocols, its drawing timer stopped: its plots show only what a test gives."""
    protocols = []
    if pushes:
        write_protocol(tmp_path / "protocols", "zz-pushes", PERTURBATIONS)
        protocols, _ = load_protocols(tmp_path / "protocols")
    settings = DashboardSettings(
        subject_id="P031", data_dir=str(data_dir), protocol="zz-pushes" if pushes else ""
    )
    window = MainWindow(settings, tmp_path / "settings.json", protocols)
    qtbot.addWidget(window)
    window.timer.stop()
    window.resize(*screen)
    window.show()
    qtbot.waitExposed(window)
    return window


def opened_review(qtbot, library: Path, path: Path, screen: tuple[int, int]) -> ReviewWindow:
    """The review window of `library` shown at `screen` (width, height px), `path` loaded."""
    window = ReviewWindow(library)
    qtbot.addWidget(window)
    window.show()
    window.resize(*screen)
    window.open(path)
    window.wait_loaded(120)
    qtbot.wait(50)
    return window


@pytest.fixture(scope="module")
def pushed_rows():
    """20 s of the perturbation drill as the session emits it, and its events with stray marks
    added (keys nothing answered: drawn dashed, "no response")."""
    drill = make_drill("perturbations", DrillOptions(duration_s=20, seed=5))
    sink, _ = simulate(drill, SessionSettings(drill="perturbations"), seed=5)
    strays = [Event(t, EventKind.PERTURBATION, "push") for t in (3.0, 9.5, 11.0, 16.0)]
    return angle_rows(sink.all_angles), [*sink.events, *strays]


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_dashboards_perturbation_legend_hides_no_data(qtbot, tmp_path, data_dir, pushed_rows, screen):
    rows, events = pushed_rows
    traces = response_traces(rows, perturbations_of(events))
    assert len(traces) == 6 and [t.responded for t in traces].count(False) >= 3
    window = shown_dashboard(qtbot, tmp_path, data_dir, screen)
    window.live.show_drill(DrillFamily.PERTURBATIONS)
    plot = window.live.perturbations
    plot.show_responses(traces)
    qtbot.wait(50)
    assert plot.isVisible() and plot.width() < 500  # the narrow side column
    assert legend_problems(plot) == []
    names = [f"push {k}" for k in range(1, 7)]
    assert [name in shown_legend(plot) for name in names] == [True] * 6
    assert shown_legend(plot).count("no response") == [t.responded for t in traces].count(False)
    window.close()


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("drill", ["perturbations", "forward-bend"])
def test_the_review_windows_legends_hide_no_data(qtbot, library: Path, screen, drill):
    (path,) = (library / "sub-P031").glob(f"*_{drill}_*.h5")
    window = opened_review(qtbot, library, path, screen)
    plot: PerturbationPlot | BendCurvesPlot = (
        window.perturbations if drill == "perturbations" else window.bends
    )
    assert plot.isVisible()
    assert len(plot.getPlotItem().listDataItems()) >= 2
    assert legend_problems(plot) == []
    word = "push" if drill == "perturbations" else "bend"
    assert shown_legend(plot).count(word) == len(plot.getPlotItem().listDataItems())
    window.close()


def overflow(plot: pg.PlotWidget) -> list[str]:
    """What of the plot lies beyond its widget: the plot item, or its title beyond the view."""
    problems = []
    item = plot.getPlotItem()
    widget_rect = QRectF(plot.mapToScene(plot.viewport().rect()).boundingRect())
    if not widget_rect.adjusted(-0.5, -0.5, 0.5, 0.5).contains(item.sceneBoundingRect()):
        problems.append(f"the plot {item.sceneBoundingRect()} is wider than its widget {widget_rect}")
    title = item.titleLabel.item.sceneBoundingRect()
    if not widget_rect.adjusted(-0.5, -0.5, 0.5, 0.5).contains(title):
        problems.append(f"the title {title} is cut by the widget's edge {widget_rect}")
    return problems


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_holds_sway_plot_and_measures_fit_the_review_window(qtbot, library: Path, screen):
    (path,) = (library / "sub-P031").glob("*_plank_*.h5")
    window = opened_review(qtbot, library, path, screen)
    assert window.sway.isVisible() and "hold" in window.sway.getPlotItem().titleLabel.text.lower()
    assert overflow(window.sway) == []
    table = window.measures
    texts = [table.item(r, 1).text() for r in range(table.rowCount())]
    assert max(map(len, texts)) > 80  # a long "Not measured — …" among them
    assert table.horizontalScrollBar().maximum() == 0, [table.columnWidth(c) for c in range(3)]
    window.close()


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_dashboards_side_plots_fit_their_column_for_every_drill_family(qtbot, tmp_path, data_dir, screen):
    window = shown_dashboard(qtbot, tmp_path, data_dir, screen)
    for family in (*DrillFamily, DrillFamily.QUIET_STANCE):  # and back from the holds' title
        window.live.show_drill(family)
        qtbot.wait(100)
        for plot in (window.live.sway, window.live.bends, window.live.perturbations):
            if plot.isVisible():
                assert overflow(plot) == [], (family, type(plot).__name__)
    window.close()


def axis_labels(plot: pg.PlotWidget, name: str) -> list[str]:
    """The tick labels an axis of the plot draws now."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = plot.getPlotItem().getAxis(name).generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _, _, text in specs[2]] if specs is not None else []


def test_the_bend_plot_labels_both_ends_of_its_percent_axes(qtbot, tmp_path, data_dir):
    """At 1366×768 the bend plot's flexion-progress axis ended at its last curve point unlabelled
    ("0 20 40 60 80"): the 100 % label did not fit past the view's edge."""
    window = shown_dashboard(qtbot, tmp_path, data_dir, (1366, 768), pushes=False)
    window.live.show_drill(DrillFamily.FORWARD_BEND)
    qtbot.wait(50)
    plot = window.live.bends
    assert plot.isVisible() and plot.width() < 400
    for axis in ("bottom", "left"):
        labels = axis_labels(plot, axis)
        assert {"0", "100"} <= set(labels), (axis, labels)
    window.close()
