"""Dashboard frame time and CPU with 2 and 6 virtual sensors at 200 Hz streaming (offscreen).

For each configuration the real `MainWindow` runs a real-time stance drill on virtual sensors
over the in-process BLE stack (bumble + bleak), exactly as a clinician would, in a 1366×768 window
whose own timer drains the live feed and redraws (paced to at most 60/s within half a core of the
GUI thread). Measured over the task phase only:
  redraw rate    redraws per second the window sustained (its timer aims at the display's
                 refresh rate, at most 60/s; the offscreen platform says 60 Hz)
  tick rate      timer ticks per second (a tick redraws unless nothing new arrived and the
                 traces did not move)
  tick           GUI-thread wall time of one timer tick (drain the queue, update every plot),
                 p50/p95/max ms
  frame cost     GUI-thread CPU per redraw, ms: the tick plus Qt's painting of the dirty widgets
  ½-core Hz      the redraws per second that frame cost allows in half a core (0.5 s / frame cost)
  GUI CPU        GUI-thread CPU s per s
  process CPU    whole-process CPU s per s: includes the session thread (BLE host, decoding,
                 processing, HDF5 writer) and the virtual sensors and their radio
  lost %         samples the recording flags as lost (none should be, with the dashboard busy)
Two sources: the simulator straight into the session (no radio: the dashboard and processing
alone), and virtual sensors over the in-process BLE stack (bumble's controller and link and the
sensors themselves share this process and its GIL with the dashboard: a worst case).
Reference in the same process: a bare pyqtgraph PlotWidget (1000×300) with three 2000-point
curves (what a trace decimated to ~1000 pixel columns hands pyqtgraph), redrawn and painted; the
frame cost is also given as a multiple of it, and the redraw rate as a multiple of the rate the
reference could sustain in half a core (0.5 / reference frame cost).
First, two idle timers side by side: one paced as the window's (RedrawPacer, frame deadlines at
the display's rate) and one with the fixed round(1000 / 60) = 17 ms interval the window had (58.8/s
at best). Then the live view alone (no session in the process: what the window costs once the session
engine runs in a process of its own): the clinician's `LiveView` at 1366×640 fed 200 Hz angle
rows 60 times a second of simulated time, redrawn and painted, after a minute of prefill; its GUI
CPU per redraw, and the redraws half a core would sustain (0.5 / frame cost).

Usage: QT_QPA_PLATFORM=offscreen python benchmarks/dashboard.py [--seconds 20] [--sensors 2 6]
       [--sources simulator ble]
"""

from __future__ import annotations

import argparse
import os
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg
from bench_window import stance_window
from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication

from gui.live_view import LiveView
from gui.model.clinic import Phase
from gui.model.live import AngleRows, LiveBuffers, LiveFeed, SessionStarted
from gui.redraw import MAX_REDRAW_HZ, RedrawPacer
from recordings import read_recording
from recordings.plot_data import COLUMNS
from sensors.drills import DrillFamily
from sensors.events import Event, EventKind


def reference_frame_ms(app: QApplication, points: int, curves: int = 3, frames: int = 200) -> float:
    """GUI CPU per redraw (ms) of a bare PlotWidget with `curves` curves of `points` points."""
    widget = pg.PlotWidget()
    widget.resize(1000, 300)
    widget.show()
    lines = [widget.plot() for _ in range(curves)]
    t = np.arange(points) / 100.0
    rng = np.random.default_rng(0)
    app.processEvents()
    start = time.thread_time()
    for _ in range(frames):
        for line in lines:
            line.setData(t, rng.standard_normal(points))
        widget.repaint()
        app.processEvents()
    cost = (time.thread_time() - start) / frames
    widget.close()
    return cost * 1000


def view_frame_ms(app: QApplication, rate_hz: float, frames: int = 300, fps: float = 60.0) -> float:
    """GUI CPU per redraw (ms, painting included) of the live view alone, fed rate_hz angle rows
    (a minute of stance-like sway already in it, a task start and a push marked)."""
    view = LiveView()
    view.resize(1366, 640)
    view.show_drill(DrillFamily.PERTURBATIONS)
    view.show()
    buffers, feed = LiveBuffers(rate_hz=rate_hz), LiveFeed()
    rng = np.random.default_rng(0)
    sent = 0

    def rows_until(t_s: float) -> np.ndarray:
        nonlocal sent
        n = round(t_s * rate_hz) - sent
        t = (sent + np.arange(n)) / rate_hz
        sent += n
        rows = np.empty((n, len(COLUMNS)))
        rows[:, 0] = t
        rows[:, 1:] = 2 * np.sin(0.3 * t[:, None] * np.arange(1, len(COLUMNS))) + 0.2 * rng.standard_normal(
            (n, len(COLUMNS) - 1)
        )
        return rows

    feed.queue.append(SessionStarted(0))
    feed.queue.append(AngleRows(rows_until(60.0), 0))
    feed.queue.append(Event(5.0, EventKind.TASK_START, "task"))
    feed.queue.append(Event(40.0, EventKind.PERTURBATION, "push", source="simulator"))
    buffers.drain(feed)
    view.refresh(buffers, 0.0)
    app.processEvents()
    now = 60.0
    start = time.thread_time()
    for _ in range(frames):
        now += 1 / fps
        feed.queue.append(AngleRows(rows_until(now), 0))
        buffers.drain(feed)
        view.refresh(buffers, now)
        app.processEvents()  # the scene's update and the paint of what changed, as in the window
    cost = (time.thread_time() - start) / frames
    view.close()
    return cost * 1000


def timer_rates(app: QApplication, seconds: float = 3.0) -> tuple[float, float]:
    """Ticks per second of an idle timer paced by the window's RedrawPacer (frame deadlines at the
    display's rate) and of a fixed round(1000 / 60) ms PreciseTimer, side by side in one loop."""
    paced, fixed = QTimer(), QTimer()
    pacer = RedrawPacer(paced)
    fixed.setTimerType(Qt.TimerType.PreciseTimer)
    fixed.setInterval(round(1000 / MAX_REDRAW_HZ))
    counts = [0, 0]

    def paced_tick() -> None:
        pacer.pace(time.monotonic())
        counts[0] += 1

    def fixed_tick() -> None:
        counts[1] += 1

    paced.timeout.connect(paced_tick)
    fixed.timeout.connect(fixed_tick)
    loop = QEventLoop()
    QTimer.singleShot(round(1000 * seconds), loop.quit)
    start = time.perf_counter()
    paced.start()
    fixed.start()
    loop.exec()
    wall = time.perf_counter() - start
    paced.stop()
    fixed.stop()
    return counts[0] / wall, counts[1] / wall


def run(
    app: QApplication, sensors: int, rate_hz: float, seconds: float, virtual_link: bool
) -> dict[str, float]:
    window, work = stance_window(sensors, rate_hz, seconds, virtual_link)
    window.resize(1366, 768)
    ticks: list[float] = []
    state = {"measuring": False, "gui0": 0.0, "cpu0": 0.0, "wall0": 0.0, "redraws0": 0}
    result: dict[str, float] = {}
    original_tick = window.tick

    def measured_tick() -> None:
        start = time.perf_counter()
        original_tick()
        if state["measuring"]:
            ticks.append(time.perf_counter() - start)

    window.timer.timeout.disconnect()
    window.timer.timeout.connect(measured_tick)
    loop = QEventLoop()

    def watch() -> None:
        status = window.session.status
        in_task = status.phase is Phase.TASK and status.elapsed_s > 4.0
        if in_task and not state["measuring"]:
            state.update(
                measuring=True,
                gui0=time.thread_time(),
                cpu0=time.process_time(),
                wall0=time.perf_counter(),
                redraws0=window.redraws,
            )
        elif state["measuring"] and status.phase is not Phase.TASK:
            wall = time.perf_counter() - state["wall0"]
            redraws = window.redraws - state["redraws0"]
            result.update(
                wall_s=wall,
                redraw_hz=redraws / wall,
                gui_cpu=(time.thread_time() - state["gui0"]) / wall,
                process_cpu=(time.process_time() - state["cpu0"]) / wall,
                frame_cost_ms=1000 * (time.thread_time() - state["gui0"]) / max(redraws, 1),
                tick_hz=len(ticks) / wall,
            )
            state["measuring"] = False
        if not window.session.busy and result:
            loop.quit()

    watcher = QTimer()
    watcher.timeout.connect(watch)
    watcher.start(100)
    QTimer.singleShot(200, window.start_drill)

    def stalled() -> None:
        status = window.session.status
        print(
            f"  ! stalled: no result after {seconds + 90:.0f} s (phase {status.phase.value}, "
            f"{status.elapsed_s:.1f} s into it, busy {window.session.busy}); messages: "
            f"{[notice.text for notice in window.session.take_notices()]}",
            flush=True,
        )
        loop.quit()

    QTimer.singleShot(round(1000 * (seconds + 90)), stalled)
    loop.exec()
    if not result:
        watcher.stop()
        window.close()
        return {}
    watcher.stop()
    window.close()
    assert threading.current_thread() is threading.main_thread()
    (path,) = (work / "library").rglob("*.h5")
    recording = read_recording(path)
    received = sum(len(v) for v in recording.samples.values())
    lost = sum(int(v.sum()) for v in recording.lost_before.values())
    result["lost_pct"] = 100 * lost / (received + lost)
    tick_ms = 1000 * np.array(ticks)
    result.update(
        tick_p50_ms=float(np.percentile(tick_ms, 50)),
        tick_p95_ms=float(np.percentile(tick_ms, 95)),
        tick_max_ms=float(tick_ms.max()),
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="task length per configuration")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--sensors", type=int, nargs="+", default=[2, 6], choices=[2, 6])
    parser.add_argument(
        "--sources",
        nargs="+",
        default=["simulator", "ble"],
        choices=["simulator", "ble"],
        help="ble: virtual BLE",
    )
    args = parser.parse_args()
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([])
    reference = reference_frame_ms(app, points=2000)
    reference_hz = 0.5 / (reference / 1000)
    print(
        f"reference: bare PlotWidget, three 2000-point curves: {reference:.2f} ms per frame "
        f"(= {reference_hz:.0f} redraws/s in half a core)"
    )
    paced_hz, fixed_hz = timer_rates(app)
    print(
        f"idle timers, 3 s side by side: paced to the display's {MAX_REDRAW_HZ:.0f} Hz "
        f"{paced_hz:.1f} ticks/s, "
        f"fixed {round(1000 / MAX_REDRAW_HZ)} ms {fixed_hz:.1f} ticks/s"
    )
    view = view_frame_ms(app, args.rate)
    print(
        f"live view alone, {args.rate:.0f} Hz rows, 60 frames/s: {view:.2f} ms per frame "
        f"(× ref {view / reference:.2f}; = {0.5 / (view / 1000):.0f} redraws/s in half a core)"
    )
    print(
        f"{'source':<12} {'sensors':>7} {'tick Hz':>7} {'redraw Hz':>9} {'× ref Hz':>8} "
        f"{'tick p50':>9} {'p95':>7} "
        f"{'max':>7} {'frame ms':>9} {'× ref':>6} {'½-core Hz':>9} {'GUI CPU':>8} {'proc CPU':>9} "
        f"{'lost %':>7}"
    )
    for virtual_link in [source == "ble" for source in args.sources]:
        for sensors in args.sensors:
            r = run(app, sensors, args.rate, args.seconds, virtual_link)
            name = "virtual BLE" if virtual_link else "simulator"
            if not r:
                print(f"{name:<12} {sensors:>7}  (stalled: no figures)", flush=True)
                continue
            print(
                f"{name:<12} {sensors:>7} {r['tick_hz']:7.1f} {r['redraw_hz']:9.1f} "
                f"{r['redraw_hz'] / reference_hz:8.2f} "
                f"{r['tick_p50_ms']:9.2f} "
                f"{r['tick_p95_ms']:7.2f} {r['tick_max_ms']:7.1f} {r['frame_cost_ms']:9.2f} "
                f"{r['frame_cost_ms'] / reference:6.1f} {500 / r['frame_cost_ms']:9.0f} "
                f"{r['gui_cpu']:8.2f} {r['process_cpu']:9.2f} {r['lost_pct']:7.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
