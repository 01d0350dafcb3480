"""Live drawing: traces decimated to the screen's pixels with their peaks, the redraw pacing, and
the sensor panel's rate and drift indications."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QTimer

from gui.panels import DRIFT_SETTLE_S, SensorPanel
from gui.plots import LiveTraces, ReviewTraces
from gui.redraw import GUI_CPU_SHARE, MAX_REDRAW_HZ, MIN_REDRAW_HZ, RedrawPacer
from recordings.plot_data import COLUMNS, TIME, TRUNK_AP, decimate_peaks
from sensors.placements import Placement
from sensors.samples import SampleBlock
from sensors.source import LinkState, SensorHealth


def spiky_signal(n: int = 12_000, rate_hz: float = 200.0) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """A minute of a slow sine at 200 Hz with one-sample spikes (the kind subsampling drops)."""
    t = np.arange(n) / rate_hz
    y = np.sin(2 * np.pi * 0.2 * t)
    spikes = [1_001, 4_567, 9_999]
    y[spikes] = [7.0, -5.0, 3.0]
    return t, y, spikes


def test_decimation_keeps_every_extreme_and_at_most_two_points_per_column():
    t, y, spikes = spiky_signal()
    columns = 500
    td, yd = decimate_peaks(t, y, columns)
    assert len(td) <= 2 * columns
    assert yd.max() == 7.0 and yd.min() == -5.0
    for k in spikes:  # each spike is in the column that holds it, at that column's time
        column = math.floor(t[k] / t[-1] * columns)
        in_column = np.floor(td / t[-1] * columns) == column
        assert y[k] in yd[in_column]
    # Per column, the decimated min and max are the original's (the envelope is exact).
    index = np.minimum((t / t[-1] * columns).astype(int), columns - 1)
    for column in (0, 137, columns - 1):
        shown = yd[np.minimum((td / t[-1] * columns).astype(int), columns - 1) == column]
        assert shown.min() == y[index == column].min() and shown.max() == y[index == column].max()


def test_decimation_keeps_gaps_and_leaves_short_traces_alone():
    t = np.arange(4000) / 100.0
    y = np.stack([np.cos(t), np.sin(t)], axis=1)
    y[1000:2000, 0] = np.nan  # a lost sensor: 10 s of nothing
    td, yd = decimate_peaks(t, y, 200)
    gap = (td > 10.5) & (td < 19.5)
    assert np.isnan(yd[gap, 0]).all() and np.isfinite(yd[gap, 1]).all()
    assert len(td) <= 400
    short_t, short_y = decimate_peaks(t[:300], y[:300], 200)
    assert short_t is t[:300] or np.array_equal(short_t, t[:300])
    assert np.array_equal(short_y, y[:300], equal_nan=True)


@pytest.mark.parametrize("kind", [ReviewTraces, LiveTraces])
def test_the_traces_hand_pyqtgraph_two_points_per_pixel_column_with_the_peaks(qtbot, kind):
    traces = kind()
    qtbot.addWidget(traces)
    traces.resize(900, 600)
    traces.show()
    qtbot.waitExposed(traces)
    t, y, _ = spiky_signal()
    rows = np.zeros((len(t), len(COLUMNS)))
    rows[:, TIME] = t
    rows[:, TRUNK_AP] = y
    traces.show_rows(rows)
    columns = traces.pixel_columns()
    assert 100 < columns < 900
    x, shown = traces.curves[0][0].getData()
    assert len(x) <= 2 * (columns + 1) < len(t)
    assert shown.max() == 7.0 and shown.min() == -5.0


def test_the_redraw_pace_stays_within_half_a_core():
    timer = QTimer()
    pacer = RedrawPacer(timer)
    assert timer.interval() == round(1000 / MAX_REDRAW_HZ)
    now, cpu = 0.0, 0.0
    pacer._since = (now, cpu)
    for _ in range(20):  # every redraw costs a whole core at this pace: back off
        now, cpu = now + 1.0, cpu + 1.0
        pacer.pace(now, cpu)
    assert pacer.interval_s == pytest.approx(1 / MIN_REDRAW_HZ, abs=1e-3)
    now, cpu = now + 1.0, cpu + 1.0
    pacer.pace(now, cpu)
    assert pacer.interval_s == pytest.approx(1 / MIN_REDRAW_HZ, abs=1e-3)  # never slower
    now, cpu = now + 1.0, cpu + 0.25 * GUI_CPU_SHARE  # a quarter of the budget: faster
    pacer.pace(now, cpu)
    assert pacer.interval_s < 1 / MIN_REDRAW_HZ
    for _ in range(20):  # cheap again: back to the fastest pace, never faster
        now, cpu = now + 1.0, cpu + 0.05
        pacer.pace(now, cpu)
    assert pacer.interval_s == 1 / MAX_REDRAW_HZ


def ticks_in(seconds: float, display_hz: float, seed: int = 0) -> int:
    """Ticks of a running timer paced by RedrawPacer over `seconds` of a simulated clock: Qt fires
    a precise timer the whole milliseconds it was started with after the start, plus 0-2 ms of
    event-loop latency; each tick's handler takes 5 ms before the next tick's pace (a cheap redraw)."""
    timer = QTimer()
    timer.start(1000)
    pacer = RedrawPacer(timer, lambda: display_hz)
    rng = np.random.default_rng(seed)
    now, cpu, ticks = 0.0, 0.0, 0
    while now < seconds:
        pacer.pace(now, cpu)  # where the tick starts
        ticks += 1
        now += timer.interval() / 1000 + rng.uniform(0.0, 0.002)
        cpu += 0.005
    timer.stop()
    return ticks


@pytest.mark.parametrize("display_hz", [60.0, 59.94, 50.0, 144.0])
def test_the_ticks_keep_the_displays_rate_on_average_despite_millisecond_timers(qapp, display_hz):
    # A fixed round(1000 / 60) = 17 ms interval gave 58.8 ticks a second (588 in 10 s).
    expected = 10.0 * min(display_hz, MAX_REDRAW_HZ)
    assert abs(ticks_in(10.0, display_hz) - expected) <= 2


def health(received: int, rate_hz: float = 145.0, drift_ppm: float = math.nan) -> SensorHealth:
    return SensorHealth(
        Placement.LUMBAR, LinkState.STREAMING, rate_hz=rate_hz, drift_ppm=drift_ppm, samples_received=received
    )


def shown(panel: SensorPanel, column: str) -> str:
    from gui.panels import HEALTH_COLUMNS

    return panel.health.item(0, HEALTH_COLUMNS.index(column)).text()


def _tracked(rate_hz: float, stall_s: float) -> list[tuple[float, SensorHealth]]:
    """(host s, health) twice a second for 12 s of a sensor the link knows as 100 Hz, sending
    4-sample notifications at rate_hz; nothing for `stall_s`, then the held-back ones in 0.3 s."""
    from sensors.health import HealthTracker
    from sensors.samples import SampleBlock

    tracker, step, out, next_look = HealthTracker(Placement.LUMBAR, rate_hz=100.0), 4 / rate_hz, [], 0.5
    for k in range(int(12 / step)):
        t = max(k * step, stall_s + 0.3 * k * step / stall_s if stall_s else 0.0)
        seq = np.arange(4 * k, 4 * k + 4)
        tracker.update(
            SampleBlock(
                Placement.LUMBAR, seq / 100, np.zeros((4, 3)), np.zeros((4, 3)), seq, np.full(4, int(t * 1e9))
            )
        )
        if t >= next_look:
            out.append((t, tracker.snapshot(int(t * 1e9))))
            next_look += 0.5
    return out


def test_the_rate_column_shows_the_rate_the_engine_reports(qtbot):
    """One rate computation (sensors.health.SensorRate), as `stabmon record` shows it: the
    nominal rate from the first data on, through a stall and its catch-up burst; the measured
    rate for a sensor steadily off it; nothing before any data. (The panel used to count samples
    itself: nothing for 3 s, then its own figure.)"""
    panel = SensorPanel()
    qtbot.addWidget(panel)
    panel.show_health({Placement.LUMBAR: SensorHealth(Placement.LUMBAR, LinkState.CONNECTING, math.nan)}, 0.0)
    assert shown(panel, "rate Hz") == "—"
    for now, h in _tracked(100.0, stall_s=1.7):
        panel.show_health({Placement.LUMBAR: h}, now_s=now)
        assert shown(panel, "rate Hz") == "100", now
    for now, h in _tracked(120.0, stall_s=0.0):
        panel.show_health({Placement.LUMBAR: h}, now_s=now)
    assert shown(panel, "rate Hz") == "120"


def test_the_rate_column_says_since_when_a_silent_sensor_sent_nothing(qtbot):
    """The sensor table shows the engine's health report as it is: a sensor whose data stopped
    at 4.0 s of the session reads "no data since 4.0 s" in the rate column, its silence counted
    in the loss column (it used to keep showing "100" and "0.0")."""
    from sensors.health import HealthTracker

    panel = SensorPanel()
    qtbot.addWidget(panel)
    tracker = HealthTracker(Placement.LUMBAR, rate_hz=100.0)
    origin = 10**9
    for k in range(100):
        seq = np.arange(4 * k, 4 * k + 4)
        host = np.full(4, origin + (k + 1) * 40_000_000)
        tracker.update(
            SampleBlock(Placement.LUMBAR, seq / 100, np.zeros((4, 3)), np.zeros((4, 3)), seq, host)
        )
    panel.show_health({Placement.LUMBAR: tracker.snapshot(origin + 4_200_000_000, origin_ns=origin)}, 4.2)
    assert shown(panel, "rate Hz") == "100"
    panel.show_health({Placement.LUMBAR: tracker.snapshot(origin + 9_000_000_000, origin_ns=origin)}, 9.0)
    assert shown(panel, "rate Hz") == "no data since 4.0 s"
    # 5 s silent, 4 s sent: overdue for the silence less the 40 ms its last block spans.
    assert float(shown(panel, "loss %")) == pytest.approx(100 * 496 / 896, abs=0.1)
    assert "lumbar sensor: no data since 4.0 s" in panel.warnings.text()


@pytest.mark.parametrize("drift_ppm", [300.0, -300.0])
def test_drift_is_not_judged_before_the_clock_fit_has_data(qtbot, drift_ppm):
    panel = SensorPanel()
    qtbot.addWidget(panel)
    panel.show_health({Placement.LUMBAR: health(1, 100.0, drift_ppm)}, now_s=100.0)
    for now in np.arange(100.5, 100.0 + DRIFT_SETTLE_S, 0.5):
        panel.show_health({Placement.LUMBAR: health(round(100 * (now - 99)), 100.0, drift_ppm)}, now_s=now)
        assert shown(panel, "drift ppm") == "—"
        assert "ppm" not in panel.warnings.text()
    # A sensor whose clock really is that far off is still reported once the fit has had time.
    panel.show_health({Placement.LUMBAR: health(4000, 100.0, drift_ppm)}, now_s=100.0 + DRIFT_SETTLE_S)
    assert shown(panel, "drift ppm") == f"{drift_ppm:.0f}"
    assert f"{drift_ppm:+.0f} ppm" in panel.warnings.text()


def test_the_live_traces_scroll_with_the_clock_between_data_blocks(qtbot):
    """Data come in blocks; between them the traces keep moving left with the session clock, and
    stand still SCROLL_LEAD_S after the newest data (a session that ended does not scroll away)."""
    from gui.live_view import SCROLL_LEAD_S, LiveView
    from gui.model.live import AngleRows, LiveBuffers, LiveFeed, SessionStarted

    view = LiveView()
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    qtbot.waitExposed(view)
    buffers, feed = LiveBuffers(rate_hz=100.0), LiveFeed()
    rows = np.zeros((1000, len(COLUMNS)))
    rows[:, TIME] = np.arange(1000) / 100.0  # 0 … 9.99 s
    feed.queue.extend([SessionStarted(0), AngleRows(rows, 0)])  # session time 0 = monotonic 0
    buffers.drain(feed)

    def newest_x() -> float:
        return float(view.traces.curves[0][0].getData()[0][-1])

    assert view.refresh(buffers, 10.0)
    assert newest_x() == pytest.approx(9.99 - 10.0)
    assert not view.refresh(buffers, 10.0)  # nothing new, the clock has not moved
    assert view.refresh(buffers, 10.2)  # no new data, but the clock moved: the traces move
    assert newest_x() == pytest.approx(9.99 - 10.2)
    assert view.refresh(buffers, 30.0)
    assert newest_x() == pytest.approx(-SCROLL_LEAD_S)
    assert not view.refresh(buffers, 31.0)  # stands still
    more = rows[:10].copy()
    more[:, TIME] += 10.0
    feed.queue.append(AngleRows(more, 0))
    buffers.drain(feed)
    assert view.refresh(buffers, 31.0)  # new data: drawn, at most SCROLL_LEAD_S behind
    assert newest_x() == pytest.approx(-SCROLL_LEAD_S)


def test_a_late_tick_skips_the_frames_it_missed_and_keeps_the_grid(qapp):
    timer = QTimer()
    timer.start(1000)
    pacer = RedrawPacer(timer, lambda: 60.0)
    pacer.pace(0.0)  # the grid: k / 60 s
    pacer.pace(1 / 60 + 0.001)
    assert timer.interval() == round(1000 * (2 / 60 - (1 / 60 + 0.001)))  # 16 ms, not 17
    pacer.pace(2 / 60 + 0.040)  # 40 ms late: the frames at 3/60 and 4/60 are missed
    assert pacer._deadline == pytest.approx(5 / 60)
    assert timer.interval() == round(1000 * (5 / 60 - (2 / 60 + 0.040)))
    timer.stop()


def test_small_angles_and_times_keep_their_units_without_an_si_prefix(qtbot):
    """A pelvis that barely moves (ranges of thousandths of a degree) and an empty plot's time
    axis read "deg" and "session time (s)", not pyqtgraph's "deg (x0.001)" with ticks at 600."""
    from gui.side_plots import BendCurvesPlot, SwayPlot

    traces = ReviewTraces()
    qtbot.addWidget(traces)
    for plot in traces.plots:
        plot.setYRange(0.0, 0.002, padding=0)
        plot.setXRange(0.0, 0.002, padding=0)
    assert [p.getAxis("left").labelString() for p in traces.plots] == [
        p.getAxis("left").labelString().split(" (x")[0] for p in traces.plots
    ]
    assert "(x" not in traces.plots[-1].getAxis("bottom").labelString()
    assert "deg" in traces.plots[0].getAxis("left").labelString()
    for kind in (SwayPlot, BendCurvesPlot):
        widget = kind()
        qtbot.addWidget(widget)
        widget.getPlotItem().setYRange(0.0, 0.002, padding=0)
        assert "(x" not in widget.getPlotItem().getAxis("left").labelString()


def test_a_hold_names_its_sway_plot_for_the_hold_posture_not_standing_sway(qtbot):
    """Prone or side-lying, "AP (forward +)" and "ML (right +)" are not where they are standing:
    a hold's plot says it is the trunk about the hold posture, in the traces' planes."""
    from gui.side_plots import SwayPlot, show_side_plots
    from sensors.drills import DrillFamily

    sway, others = SwayPlot(), [pg.PlotWidget() for _ in range(3)]
    for widget in (sway, *others):
        qtbot.addWidget(widget)
    plot = sway.getPlotItem()
    show_side_plots(DrillFamily.BIERING_SORENSEN, sway, *others)
    assert plot.titleLabel.text.startswith("Hold")
    assert "sagittal from the hold" in plot.getAxis("left").labelString()
    assert "frontal from the hold" in plot.getAxis("bottom").labelString()
    assert "forward" not in plot.getAxis("left").labelString()
    show_side_plots(DrillFamily.QUIET_STANCE, sway, *others)
    assert "Trunk sway" in plot.titleLabel.text and "forward +" in plot.getAxis("left").labelString()
