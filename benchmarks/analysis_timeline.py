"""Timeline of one `stabmon analyze FILE`: when each phase runs in each of its two processes.

`stabmon analyze` reads the file's metadata and works out the frames' schedule in the command
process, then forks a frames process that inflates the raw chunks and samples them onto the frame
grid while the command process steps the pipeline over the frames it receives; then the command
process computes the measures and prints them. This benchmark runs the command in a fresh
interpreter with each phase's function wrapped (wall-clock stamps from the machine's monotonic
clock, shared by both processes, and the CPU time of the thread that ran it) and prints, per
process, each phase's start and end (seconds since the interpreter was started), its wall time
and CPU time, and a bar chart of the phases on one time axis: what runs on one core (the critical
path) and what overlaps. Phases run once per frame block are summed into one row (start of the
first, end of the last, `n` calls). Indented rows are parts of the row above them.

The wrapped functions are looked up by name; a renamed one is reported as missing (its phase is
then not shown) rather than failing the run.

Usage: python benchmarks/analysis_timeline.py FILE [--runs 3] [--json OUT]
(`env -u PYTHONDONTWRITEBYTECODE` for the timings a user sees: bytecode cached.)
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path
from typing import Any

#: (process, phase, module, attribute, depth): the wrapped functions. depth 0: a top-level phase
#: of that process; 1: a part of the depth-0 phase it runs in. "command" phases run in the
#: command process, "frames" phases in the forked frames process, "ahead" in the command
#: process's inflate-ahead thread.
PHASES: list[tuple[str, str, str, str, int]] = [
    ("command", "CLI: parse, import the command", "stabmon.cli", "main", 0),
    ("command", "read the metadata", "recordings.replay", "read_recording", 0),
    ("command", "sequence check", "recordings.load_raw", "sound", 1),
    ("command", "frame grid", "recordings.load_processing", "processing", 1),
    ("command", "arrival log", "recordings.load_arrival", "arrival_log", 1),
    ("command", "chunk indexes", "recordings.chunk_columns", "_chunk_table", 1),
    ("command", "replay: up to the fork", "recordings.analysis", "run_batched", 0),
    ("command", "last host stamps per block", "sensors.processing.batch_session", "_session_now", 1),
    ("command", "stored session times", "sensors.processing.batch_session", "_rows", 1),
    ("command", "drift and latency", "sensors.processing.batch_session", "_clock_figures", 1),
    ("command", "pipeline set-up", "sensors.processing.batch_session", "session_processing", 1),
    ("command", "frames' schedule", "sensors.processing.batch_sync", "BatchSynchronizer.__init__", 1),
    ("command", "wait for frames (pipe)", "sensors.processing.batch_frames", "_read_exactly", 1),
    ("command", "pipeline steps", "sensors.processing.pipeline", "SegmentAnglePipeline.step", 1),
    ("command", "  of which vqf", "sensors.processing.orientation", "OrientationEstimator.step", 1),
    ("command", "collector", "sensors.processing.collector", "SessionCollector.on_frame", 1),
    ("command", "perturbation detector", "sensors.processing.live_measures", "LiveMeasures.perturbations", 1),
    ("command", "sensor health at the end", "recordings.analysis", "replay_health", 0),
    ("command", "measures", "recordings.analysis", "analyze", 0),
    ("command", "bend repetitions", "sensors.processing.analysis_movement", "bend_repetitions", 1),
    ("command", "print the table", "stabmon.console", "format_measures", 0),
    ("ahead", "inflate whole (thread)", "recordings.chunk_columns", "InflateWhole._run", 0),
    ("ahead", "inflate ahead (thread)", "recordings.chunk_columns", "Prefetch._run", 0),
    ("frames", "make frame blocks", "sensors.processing.batch_sync", "BatchSynchronizer.frame_arrays", 0),
    ("frames", "inflate chunks", "recordings.chunk_columns", "ChunkColumn._inflate", 1),
    ("frames", "write to the pipe", "sensors.processing.batch_frames", "_write_all", 0),
]

#: Where the command process's top-level spans go, and the frames process's (set in `_one`).
_SPANS: list[list[Any]] = []
_OUT: dict[str, Any] = {}


def _owner(module: Any, dotted: str) -> tuple[Any, str]:
    *path, name = dotted.split(".")
    owner = module
    for part in path:
        owner = getattr(owner, part)
    return owner, name


def _wrap(process: str, phase: str, module_name: str, dotted: str, depth: int) -> bool:
    """Replace the function with one that records (process, phase, depth, start, end, CPU) of
    every call; False when it is not there."""
    try:
        owner, name = _owner(importlib.import_module(module_name), dotted)
        original = getattr(owner, name)
    except (ImportError, AttributeError):
        return False
    proc = process

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.monotonic(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            here = os.getpid() == _OUT["command_pid"]
            where = ("command" if proc == "frames" else proc) if here else "frames"
            _SPANS.append([where, phase, depth, start, time.monotonic(), time.thread_time() - cpu])

    setattr(owner, name, timed)
    return True


def _dump_frames_process(original: Any) -> Any:
    """Wrap `batch_frames._write_frames` (run in the frames process, which leaves by `os._exit`)
    so the frames process writes its spans and CPU to a file before it leaves."""

    @functools.wraps(original)
    def write_frames(*args: Any, **kwargs: Any) -> Any:
        del _SPANS[:]  # the command process's, copied by the fork
        start = time.monotonic()
        try:
            return original(*args, **kwargs)
        finally:
            times = os.times()
            record = {
                "spans": _SPANS,
                "start": start,
                "end": time.monotonic(),
                "user_s": times.user,
                "sys_s": times.system,
            }
            Path(_OUT["frames"]).write_text(json.dumps(record), encoding="utf-8")

    return write_frames


def _time_waits_for_inflate_threads() -> None:
    """Record the command's waits for a column another thread inflates (`InflateWhole`) as the
    phase "wait for the inflate thread": the critical path counts them (CPU time does not)."""
    from recordings import chunk_columns

    class TimedEvent(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            start, cpu = time.monotonic(), time.thread_time()
            done = super().wait(timeout)
            if os.getpid() == _OUT["command_pid"] and threading.current_thread() is threading.main_thread():
                end = time.monotonic()
                _SPANS.append(
                    ["command", "wait for the inflate thread", 1, start, end, time.thread_time() - cpu]
                )
                _OUT["inflate_waits"] = _OUT.get("inflate_waits", 0.0) + end - start
            return done

    chunk_columns.threading = types.SimpleNamespace(Event=TimedEvent, Thread=threading.Thread)  # type: ignore[assignment]


def _one(path: str, started: float, out: str) -> None:
    """Run `stabmon analyze path` here, instrumented; write the spans to `out`."""
    began = time.monotonic()
    _OUT.update(command_pid=os.getpid(), frames=out + ".frames")
    import stabmon.analyses  # the analysis `analyze` imports as it runs: timed as imports here
    import stabmon.cli
    import stabmon.review

    imported = time.monotonic()
    missing = [f"{m}.{a}" for proc, phase, m, a, d in PHASES if not _wrap(proc, phase, m, a, d)]
    from sensors.processing import batch_frames

    batch_frames._write_frames = _dump_frames_process(batch_frames._write_frames)
    from sensors.processing import batch_session

    beside = batch_session.frames_beside

    def frames_beside(*args: Any, **kwargs: Any) -> Any:  # the main thread's CPU at the fork and after
        _OUT["cpu_at_fork"] = time.thread_time()
        yield from beside(*args, **kwargs)
        _OUT["cpu_after_frames"] = time.thread_time()

    batch_session.frames_beside = frames_beside
    _time_waits_for_inflate_threads()
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the table is not what is measured)
    status = stabmon.cli.main(["analyze", path])
    ended = time.monotonic()
    cpu_at_end = time.thread_time()
    times = os.times()
    frames = json.loads(Path(_OUT["frames"]).read_text()) if Path(_OUT["frames"]).exists() else None
    record = {
        "started": started,
        "interpreter": [started, began],
        "imports": [began, imported],
        "end": ended,
        "status": status,
        "missing": missing,
        "spans": _SPANS,
        "user_s": times.user,
        "sys_s": times.system,
        "frames": frames,
        "load": os.getloadavg()[0],
        "main_thread_cpu": [_OUT.get("cpu_at_fork"), _OUT.get("cpu_after_frames"), cpu_at_end],
        "inflate_waits_s": _OUT.get("inflate_waits", 0.0),
    }
    Path(out).write_text(json.dumps(record), encoding="utf-8")


def run_once(path: Path) -> dict[str, Any]:
    """One instrumented `stabmon analyze path` in a fresh interpreter: its record."""
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "timeline.json")
        started = time.monotonic()
        subprocess.run([sys.executable, __file__, "--one", str(path), repr(started), out], check=True)
        record: dict[str, Any] = json.loads(Path(out).read_text())
    record["wall_s"] = record["end"] - record["started"]
    return record


def rows(record: dict[str, Any]) -> list[tuple[str, str, int, float, float, float, float, int]]:
    """(process, phase, depth, start, end, wall, CPU, calls) per phase, times from the start of
    the interpreter; phases called more than once summed into one row."""
    t0 = record["started"]
    out = [
        ("command", "interpreter start", 0, 0.0, record["interpreter"][1] - t0, 0.0, float("nan"), 1),
        ("command", "imports", 0, *(x - t0 for x in record["imports"]), 0.0, float("nan"), 1),
    ]
    out = [(p, n, d, a, b, b - a, c, k) for p, n, d, a, b, _, c, k in out]
    spans = list(record["spans"]) + list((record["frames"] or {}).get("spans", []))
    order: list[tuple[str, str]] = []
    summed: dict[tuple[str, str], list[Any]] = {}
    for process, phase, depth, start, end, cpu in spans:
        key = (process, phase)
        if key not in summed:
            order.append(key)
            summed[key] = [depth, start, end, 0.0, 0.0, 0]
        s = summed[key]
        s[1], s[2] = min(s[1], start), max(s[2], end)
        s[3] += end - start
        s[4] += cpu
        s[5] += 1
    rank = {"command": 0, "ahead": 1, "frames": 2}
    order.sort(key=lambda key: (rank[key[0]], summed[key][1], summed[key][0]))
    for process, phase in order:
        depth, start, end, wall, cpu, calls = summed[process, phase]
        out.append((process, phase, depth, start - t0, end - t0, wall, cpu, calls))
    return out


def summary(record: dict[str, Any]) -> dict[str, float]:
    """The run's figures: wall, the command process's serial part before the fork, the part
    beside the frames process, the part after, and each process's CPU (s)."""
    t0 = record["started"]
    frames = record["frames"] or {}
    fork = frames.get("start", float("nan")) - t0
    done = frames.get("end", float("nan")) - t0
    waits = [s for s in record["spans"] if s[1] == "wait for frames (pipe)"]
    last_frame = max((s[4] for s in waits), default=float("nan")) - t0
    return {
        "wall_s": round(record["wall_s"], 3),
        "fork_at_s": round(fork, 3),
        "frames_process_done_at_s": round(done, 3),
        "last_frames_received_at_s": round(last_frame, 3),
        "after_the_frames_s": round(record["wall_s"] - last_frame, 3),
        "command_cpu_s": round(record["user_s"] + record["sys_s"], 3),
        "command_sys_s": round(record["sys_s"], 3),
        "frames_cpu_s": round(frames.get("user_s", float("nan")) + frames.get("sys_s", float("nan")), 3),
        "frames_sys_s": round(frames.get("sys_s", float("nan")), 3),
        "waited_for_frames_s": round(sum(s[4] - s[3] for s in waits), 3),
        "critical_path_cpu_s": round(_critical_cpu(record), 3),
        "load": record["load"],
    }


def _critical_cpu(record: dict[str, Any]) -> float:
    """CPU seconds on the critical path, what the wall time would be with a core for each
    process and nothing else running: the interpreter's start (wall), the command process's main
    thread up to the fork (its CPU, and its waits for an inflate thread), the longer of its main
    thread's CPU beside the frames process and the frames process's CPU, and its main thread's
    CPU after the frames."""
    fork, after, end = record["main_thread_cpu"]
    frames = record["frames"]
    start = record["interpreter"][1] - record["started"] + record.get("inflate_waits_s", 0.0)
    if fork is None or after is None or not frames:
        return start + end
    return start + fork + max(after - fork, frames["user_s"] + frames["sys_s"]) + end - after


def chart(record: dict[str, Any], width: int = 60) -> str:
    """The phases as a table with a bar on one time axis (one column: wall / width seconds)."""
    total = record["wall_s"]
    lines = [
        f"{'process':8s} {'phase':34s} {'start':>6s} {'end':>6s} {'wall':>6s} {'CPU':>6s} {'n':>4s}  "
        f"0{'':{width - 6}s}{total:5.2f} s"
    ]
    for process, phase, depth, start, end, wall, cpu, calls in rows(record):
        a = min(int(start / total * width), width - 1)
        b = max(min(round(end / total * width), width), a + 1)
        bar = " " * a + ("█" if depth == 0 else "▒") * (b - a)
        name = ("  " * depth + phase)[:34]
        cpu_text = "" if cpu != cpu else f"{cpu:6.3f}"
        times = f"{start:6.3f} {end:6.3f} {wall:6.3f} {cpu_text:>6s} {calls:4d}"
        lines.append(f"{process:8s} {name:34s} {times}  |{bar:{width}s}|")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        _one(sys.argv[2], float(sys.argv[3]), sys.argv[4])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="runs; the median one (by wall time) is charted")
    parser.add_argument("--json", type=Path, help="write every run's record here")
    args = parser.parse_args()
    records = [run_once(args.file) for _ in range(args.runs)]
    if records[0]["missing"]:
        print(f"not found (phases not shown): {', '.join(records[0]['missing'])}")
    for k, record in enumerate(records, start=1):
        print(f"run {k}: {json.dumps(summary(record))}")
    median = sorted(records, key=lambda r: r["wall_s"])[len(records) // 2]
    print(f"\nthe median run ({median['wall_s']:.2f} s, load {median['load']:.2f}):")
    print(chart(median))
    print(
        "\nmedians:",
        json.dumps({k: statistics.median(summary(r)[k] for r in records) for k in summary(median)}),
    )
    if args.json:
        args.json.write_text(json.dumps(records), encoding="utf-8")


if __name__ == "__main__":
    main()
