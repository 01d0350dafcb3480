"""Dashboard frame time and CPU with 2 and 6 virtual sensors at 200 Hz streaming (offscreen).

For each configuration the real `MainWindow` runs a real-time stance drill on virtual sensors
over the in-process BLE stack (bumble + bleak), exactly as a clinician would, in a 1366×768 window
whose own timer drains the live feed and redraws (paced to at most 60/s within half a core of the
GUI thread). Measured over the task phase only:
  redraw rate    redraws per second the window sustained (its timer aims at 60)
  tick           GUI-thread wall time of one timer tick (drain the queue, update every plot),
                 p50/p95/max ms
  frame cost     GUI-thread CPU per redraw, ms: the tick plus Qt's painting of the dirty widgets
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

Usage: QT_QPA_PLATFORM=offscreen python benchmarks/dashboard.py [--seconds 20]
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
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from gui.model.clinic import Phase
from recordings import read_recording


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
            )
            state["measuring"] = False
        if not window.session.busy and result:
            loop.quit()

    watcher = QTimer()
    watcher.timeout.connect(watch)
    watcher.start(100)
    QTimer.singleShot(200, window.start_drill)
    loop.exec()
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
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    reference = reference_frame_ms(app, points=2000)
    reference_hz = 0.5 / (reference / 1000)
    print(
        f"reference: bare PlotWidget, three 2000-point curves: {reference:.2f} ms per frame "
        f"(= {reference_hz:.0f} redraws/s in half a core)"
    )
    print(
        f"{'source':<12} {'sensors':>7} {'redraw Hz':>9} {'× ref Hz':>8} {'tick p50':>9} {'p95':>7} "
        f"{'max':>7} {'frame ms':>9} {'× ref':>6} {'GUI CPU':>8} {'proc CPU':>9} {'lost %':>7}"
    )
    for virtual_link in (False, True):
        for sensors in (2, 6):
            r = run(app, sensors, args.rate, args.seconds, virtual_link)
            name = "virtual BLE" if virtual_link else "simulator"
            print(
                f"{name:<12} {sensors:>7} {r['redraw_hz']:9.1f} {r['redraw_hz'] / reference_hz:8.2f} "
                f"{r['tick_p50_ms']:9.2f} "
                f"{r['tick_p95_ms']:7.2f} {r['tick_max_ms']:7.1f} {r['frame_cost_ms']:9.2f} "
                f"{r['frame_cost_ms'] / reference:6.1f} "
                f"{r['gui_cpu']:8.2f} {r['process_cpu']:9.2f} {r['lost_pct']:7.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
