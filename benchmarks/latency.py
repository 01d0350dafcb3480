"""End-to-end latency: from a virtual sensor's notification reaching the host to (a) the
synchronised frame that covers its newest sample, (b) the running-measures update whose window
ends in it, (c) the data in the dashboard's ring buffers (the real main window, offscreen,
draining on its timer), timed at the end of the timer tick that drained it (the tick also
updates the plots' data; Qt paints afterwards).

Two definitions: "per notif." — for every notification, to the first output holding its newest
sample; "last needed" (the honest one) — for every output, from the arrival of the LAST
notification it needed (over sensors) to the output. The measures stage has only the second.

The production path throughout: the session engine in its own process (virtual stabmon sensors
on bumble's link in a radio process of their own, as real sensors are, reached over an HCI
transport by the central's bumble host in the engine; bleak, `BleSource` stamping each
notification with the host clock in its callback, `SessionRunner`, the recording writer), the
dashboard in this process reading the engine's reports. The latency counts from the arrival
stamp in the engine; the transport from the radio process's send to that stamp is printed
beside it ("transport"). Both stamp with the machine's monotonic clock. 2 and 6 sensors at 200 Hz,
each without and with two other processes spinning on the CPU.

Reference: the same engine and dashboard on a source that delivers every sample the moment it
is due (the simulator in real time, no radio, no BLE stack): the synchroniser's own wait.
"cores" is the window process's CPU time over wall time for the configuration.

Usage: QT_QPA_PLATFORM=offscreen python benchmarks/latency.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from bench_window import stance_window
from latency_probe import frame_stages_ms, latency_figures, overlapping
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication


def run(
    app: QApplication, sensors: int, rate_hz: float, seconds: float, virtual_link: bool = True
) -> tuple[dict[str, np.ndarray], Any]:
    window, _ = stance_window(sensors, rate_hz, seconds, virtual_link)
    window.session.probe = True
    drained: list[tuple[int, float]] = []
    original_tick = window.tick

    def tick() -> None:
        version = window.buffers.version
        original_tick()
        if window.buffers.version != version and window.buffers.angles.count:
            drained.append((time.monotonic_ns(), window.buffers.latest_time_s))

    window.timer.timeout.disconnect()
    window.timer.timeout.connect(tick)
    loop = QEventLoop()
    watcher = QTimer()
    watcher.timeout.connect(
        lambda: None if window.session.busy or not window.session.results else loop.quit()
    )
    watcher.start(100)
    QTimer.singleShot(200, window.start_drill)
    loop.exec()
    watcher.stop()
    probe = window.session.probes[-1].probe
    window.close()
    return latency_figures(probe, drained, 1.0 / rate_hz), probe


def print_stages(label: str, probe: Any, start_s: float = 5.0) -> None:
    """The honest frame delay split by stage in the engine process, and what else held its loop."""
    stages = frame_stages_ms(probe, start_s)
    total = stages["total"]
    if not len(total):
        return
    print(f"\n{label}: frame last needed, by stage (ms; engine process)")
    tail95, tail99 = total >= np.percentile(total, 95), total >= np.percentile(total, 99)
    print(f"  {'stage':<10} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} {'mean ≥p95':>10} {'mean ≥p99':>10}")
    for name, values in stages.items():
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        print(
            f"  {name:<10} {p50:7.2f} {p95:7.2f} {p99:7.2f} {values.max():7.2f} "
            f"{values[tail95].mean():10.2f} {values[tail99].mean():10.2f}"
        )
    for kind, spans in sorted(probe.busy.items()):
        took = np.array([(b - a) / 1e6 for a, b in spans])
        print(
            f"  busy {kind:<8} n {len(took):5d}  p50 {np.median(took):6.2f}  p99 "
            f"{np.percentile(took, 99):6.2f}  max {took.max():6.2f} ms  ({took.sum() / 1e3:.2f} s)"
        )
    busy = dict(probe.busy)  # and the frames' processing that took long (running measures…)
    busy["process≥5"] = [(a, b) for a, b in busy.get("process", []) if b - a >= 5_000_000]
    overlaps = overlapping(probe, start_s, busy)
    if len(overlaps):
        print(f"  {'overlap':<10} {'all':>7} {'≥p95':>7} {'≥p99':>7}  p99 of the frames overlapping none (n)")
    for kind, hit in sorted(overlaps.items()):
        clear = total[~hit]
        rest = f"{np.percentile(clear, 99):7.2f} ({len(clear)})" if len(clear) else "      - (0)"
        print(f"  {kind:<10} {hit.mean():7.0%} {hit[tail95].mean():7.0%} {hit[tail99].mean():7.0%}  {rest}")
    for thread, (cpu_s, wait_s) in probe.threads.items():
        print(f"  thread {thread[:40]:<40} CPU {cpu_s:6.2f} s, waiting for a CPU {wait_s:6.2f} s")
    transport = probe.transport_ms() if hasattr(probe, "transport_ms") else np.array([])
    if len(transport):  # virtual sensors in their radio process: its send → this process's stamp
        p50, p95, p99 = np.percentile(transport, [50, 95, 99])
        print(
            f"  transport  radio process sent → engine's arrival stamp: n {len(transport)}  p50 {p50:.2f}"
            f"  p95 {p95:.2f}  p99 {p99:.2f}  max {transport.max():.2f} ms  (not in the latency above)"
        )


def spin_up_load(processes: int) -> list[subprocess.Popen[bytes]]:
    """Other processes keeping the CPU busy (a browser, a video call, an antivirus scan…)."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="task length per configuration")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--load", type=int, default=2, help="busy processes for the loaded runs (0: none)")
    parser.add_argument("--sensors", type=int, nargs="+", default=[2, 6], choices=[2, 6])
    parser.add_argument(
        "--links", nargs="+", default=["reference", "virtual"], choices=["reference", "virtual"]
    )
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    print(
        f"{'source':<12} {'sensors':>7} {'CPU load':>9} {'stage':<22} {'n':>6} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'too late':>9} {'cores':>6}"
    )
    # The reference rows have no BLE stack: what the dashboard and processing alone need.
    loads = (0, args.load) if args.load else (0,)
    links = [name == "virtual" for name in args.links]
    configurations = [(link, n, load) for link in links for n in args.sensors for load in loads]
    probes = []
    for virtual_link, sensors, load in configurations:
        others = spin_up_load(load)
        load_before = os.getloadavg()[0]
        started_cpu, started_wall = time.process_time(), time.monotonic()
        try:
            result, probe = run(app, sensors, args.rate, args.seconds, virtual_link)
        finally:
            for process in others:
                process.kill()
                process.wait()
        cores = (time.process_time() - started_cpu) / (time.monotonic() - started_wall)
        name = "virtual BLE" if virtual_link else "reference"
        label = f"{load} procs" if load else "idle"
        for stage, values in result.items():
            # An output that went out before a notification it needed arrived: that sensor is
            # flagged missing in it (the data are in the file's raw data, not in that output).
            missed = float(np.mean(values < 0)) if len(values) else np.nan
            values = values[values >= 0]
            p50, p95, p99 = np.percentile(values, [50, 95, 99]) if len(values) else (np.nan,) * 3
            print(
                f"{name:<12} {sensors:>7} {label:>9} {stage:<22} {len(values):>6} "
                f"{p50:8.1f} {p95:8.1f} {p99:8.1f} {100 * missed:8.1f}% {cores:6.2f}",
                flush=True,
            )
        load_after = os.getloadavg()[0]
        loads_seen = f"load average {load_before:.1f}→{load_after:.1f}"
        probes.append((f"{name}, {sensors} sensors, {label}, {loads_seen}", probe))
    for label, probe in probes:
        print_stages(label, probe)


if __name__ == "__main__":
    main()
