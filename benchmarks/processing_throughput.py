"""Offline analysis speed and memory: the whole `stabmon analyze` command, as a user runs it.

Each figure is one `stabmon analyze FILE` in a fresh process (interpreter start, imports, file
reading, replay, measures, printing), timed on the wall clock, with its CPU time (all of it, the
frames process it forks included, from `os.wait4`; and the command process's own), the command
process's peak resident memory (VmHWM at its exit) and its frames process's (VmHWM, polled every
20 ms; most of its pages are the parent's, shared copy-on-write, so the two do not add up) and
the peak of the two together, counted once (the sum of their proportional set sizes, PSS, polled
every 20 ms: what the machine's memory holds for the command). The
machine's load average is printed with each file (the machine may be shared). Files: two
sensors at 200 Hz, a forward-bend session of 10 min, 1 h and 4 h, made once by
`bench_recordings.py` (a simulated session through the live runner into the writer, closed and
consolidated as every recording is since session 7) and kept in FOLDER.

Reference in the same run: the block by block replay the command used before (`ReplaySource`
through a `SessionRunner`, then the same analysis) of the 10-minute file, also in a fresh
process; its measures table must equal the command's, row for row. Each file's output is kept
beside it (`<file>.analyze.txt`) to compare with another version's.

With `--consolidated` each file (one made before session 7) is first consolidated
(`recordings.consolidate`: the closed file rewritten with 10-s chunks, as after a session) into a
copy in FOLDER/consolidated, and the copy is timed; the row gives both sizes and the time the
consolidation took.

Usage: python benchmarks/processing_throughput.py FOLDER [--minutes 10 60 240] [--repeat 3] [--consolidated]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_recordings import bench_recording

#: `stabmon` in a fresh interpreter that reports its own peak resident memory (VmHWM) at exit:
#: the rusage of a child counts the parent's memory at the fork, this does not.
PEAK = """
import atexit, resource, runpy, sys
def peak():
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM"))
    own = resource.getrusage(resource.RUSAGE_SELF)
    sys.stderr.write(f"PEAK_KB {kb}\\nOWN_CPU_S {own.ru_utime + own.ru_stime}\\n")
atexit.register(peak)
sys.argv = [sys.argv[1], *sys.argv[2:]]
runpy.run_path(sys.argv[0], run_name="__main__") if sys.argv[0].endswith(".py") else runpy.run_module(
    sys.argv[0], run_name="__main__", alter_sys=True
)
"""
STABMON = [sys.executable, "-c", PEAK, "stabmon"]

#: The old way, for the reference: block by block, with every running measure, then the table.
STREAMED = """
import sys
from recordings import read_recording
from recordings.analysis import replay_streamed
from sensors.processing.analysis import analyze
from stabmon.console import format_measures
recording = read_recording(sys.argv[1])
result = analyze(replay_streamed(recording).collector.session_data(), recording.drill)
print(format_measures(result, repetitions=True))
"""


def _proportional_kb(pid: int | str) -> int:
    """Process `pid`'s proportional set size (kB): its pages, each shared page divided among the
    processes sharing it (0 once the process is gone)."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        return int(next(line.split()[1] for line in rollup if line.startswith("Pss:")))
    except (OSError, StopIteration, ValueError):
        return 0


def _watch_memory(pid: int, peaks: dict[int, int], together: list[int], stop: threading.Event) -> None:
    """Every 20 ms: the peak resident memory (VmHWM, kB) of each child of process `pid` (the
    frames process `stabmon analyze` forks), the highest seen per child; and in together[0] the
    highest sum of the proportional set sizes of `pid` and its children (kB)."""
    while not stop.wait(0.02):
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        total = _proportional_kb(pid)
        for child in children:
            total += _proportional_kb(child)
            try:
                status = Path(f"/proc/{child}/status").read_text().splitlines()
                kb = int(next(line.split()[1] for line in status if line.startswith("VmHWM")))
            except (OSError, StopIteration, ValueError):
                continue
            peaks[int(child)] = max(peaks.get(int(child), 0), kb)
        together[0] = max(together[0], total)


def run(command: list[str]) -> dict[str, object]:
    """Run a command in a fresh process: wall s, CPU s (its own and with its children), its own
    peak RSS MB, the largest peak RSS MB of a child it forked, the peak MB of it and its children
    together (PSS), and its output."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks: dict[int, int] = {}
    together = [0]
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_memory, args=(process.pid, peaks, together, stop), daemon=True)
    watcher.start()
    output, errors = process.communicate()
    wall = time.perf_counter() - start
    stop.set()
    watcher.join()
    if process.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[-3:])} failed with status {process.returncode}: {errors[-500:]}"
        )
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - run.cpu_so_far
    run.cpu_so_far += cpu
    peak = [int(line.split()[1]) for line in errors.splitlines() if line.startswith("PEAK_KB ")]
    own = [float(line.split()[1]) for line in errors.splitlines() if line.startswith("OWN_CPU_S ")]
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "own_cpu_s": own[-1] if own else float("nan"),
        "peak_mb": peak[-1] / 1024 if peak else float("nan"),
        "child_peak_mb": max(peaks.values(), default=0) / 1024,
        "together_peak_mb": together[0] / 1024,
        "output": output,
    }


run.cpu_so_far = 0.0


def rhythm_scaling(minutes: list[float], rate_hz: float = 200.0) -> dict[str, dict[str, float]]:
    """`bend_repetitions` on traces of one 6-s bend and return repeated over each length: its
    time per repetition stays flat when the search is O(n) (it grew with the length before)."""
    import numpy as np

    from sensors.processing.rhythm import bend_repetitions

    out = {}
    for m in minutes:
        t = np.arange(round(m * 60 * rate_hz)) / rate_hz
        phase = (t % 6.0) / 6.0
        bend = np.where(phase < 0.5, np.sin(np.pi * phase) ** 2, np.sin(np.pi * phase) ** 2)
        trunk, pelvis = 70 * bend, 35 * np.clip(bend - 0.1, 0, None)
        start = time.perf_counter()
        reps = len(bend_repetitions(t, trunk, pelvis).repetitions)
        elapsed = time.perf_counter() - start
        out[f"{m:g} min"] = {
            "repetitions": reps,
            "s": round(elapsed, 2),
            "us_per_repetition": round(1e6 * elapsed / reps),
        }
    return out


def consolidated_copy(path: Path) -> tuple[Path, float]:
    """A consolidated copy of the recording in a `consolidated` folder beside it (made when
    missing), and the seconds consolidating it took (0 when it was there already)."""
    from recordings.consolidate import consolidate

    copy = path.parent / "consolidated" / path.name
    if copy.exists():
        return copy, 0.0
    copy.parent.mkdir(exist_ok=True)
    partial = copy.with_suffix(".copy.h5")
    shutil.copyfile(path, partial)
    start = time.perf_counter()
    consolidate(partial)
    took = time.perf_counter() - start
    partial.rename(copy)
    return copy, took


def _load() -> str:
    """The 1-, 5- and 15-minute load averages now (the machine is shared)."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _table(output: str) -> list[str]:
    """The measures rows of `stabmon analyze --repetitions` output (without the file line)."""
    return [line for line in output.splitlines() if line.startswith("  ")]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path, help="where the benchmark recordings are (made when missing)")
    parser.add_argument("--minutes", type=float, nargs="+", default=[10.0, 60.0, 240.0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per file (the fastest is reported)")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--rhythm-only", action="store_true", help="only the repetition search scaling")
    parser.add_argument(
        "--consolidated", action="store_true", help="time consolidated copies of the files (10-s chunks)"
    )
    args = parser.parse_args()
    results: dict[str, object] = {"load_average_at_start": _load()}
    if args.rhythm_only:
        print(json.dumps({"bend_repetitions": rhythm_scaling(args.minutes)}, indent=2))
        return
    startup = min((run([*STABMON, "--help"]) for _ in range(args.repeat)), key=lambda r: r["wall_s"])
    results["stabmon --help (interpreter and CLI start)"] = {"wall_s": round(startup["wall_s"], 2)}
    ten = bench_recording(args.folder, 10.0)
    reference = None
    if not args.skip_reference:
        script = args.folder / "block_by_block_analysis.py"
        script.write_text(STREAMED, encoding="utf-8")
        reference = run([sys.executable, "-c", PEAK, str(script), str(ten)])
    for minutes in args.minutes:
        path = bench_recording(args.folder, minutes)
        original_mb, consolidating_s = path.stat().st_size / 1e6, None
        if args.consolidated:
            path, consolidating_s = consolidated_copy(path)
        runs = [run([*STABMON, "analyze", "--repetitions", str(path)]) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["wall_s"])
        if any(r["output"] != best["output"] for r in runs):
            raise RuntimeError(f"{path.name}: the runs printed different results")
        (path.parent / f"{path.stem}.analyze.txt").write_text(str(best["output"]), encoding="utf-8")
        seconds = minutes * 60
        row = {
            "file_mb": round(path.stat().st_size / 1e6, 1),
            **(
                {
                    "file_mb_before_consolidating": round(original_mb, 1),
                    "consolidating_s": round(consolidating_s, 1),
                }
                if consolidating_s is not None
                else {}
            ),
            "wall_s": round(best["wall_s"], 2),
            "cpu_s": round(best["cpu_s"], 2),
            "cpu_s_of_the_command_process": round(best["own_cpu_s"], 2),
            "cpu_s_all_runs": [round(r["cpu_s"], 2) for r in runs],
            "wall_s_all_runs": [round(r["wall_s"], 2) for r in runs],
            "x_realtime": round(seconds / best["wall_s"]),
            "peak_mb": round(max(r["peak_mb"] for r in runs)),
            "frames_process_peak_mb": round(max(r["child_peak_mb"] for r in runs)),
            "both_processes_peak_pss_mb": round(max(r["together_peak_mb"] for r in runs)),
            "measures": len(_table(best["output"])),
            "load_average_after": _load(),
        }
        if reference is not None and minutes == 10.0:
            same = sum(
                a == b for a, b in zip(_table(best["output"]), _table(reference["output"]), strict=False)
            )
            row["equal_to_block_by_block"] = f"{same}/{len(_table(reference['output']))}"
            row["speedup_vs_block_by_block"] = round(reference["wall_s"] / best["wall_s"], 1)
        results[f"stabmon analyze, {minutes:g} min"] = row
        print(json.dumps({f"{minutes:g} min": row}), flush=True)
    if reference is not None:
        results["reference: block by block replay + analysis, 10 min"] = {
            "wall_s": round(reference["wall_s"], 1),
            "cpu_s": round(reference["cpu_s"], 1),
            "x_realtime": round(600 / reference["wall_s"], 1),
            "peak_mb": round(reference["peak_mb"]),
        }
    results["bend_repetitions (in this process, after the commands)"] = rhythm_scaling(args.minutes)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
