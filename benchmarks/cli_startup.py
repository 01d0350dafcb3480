"""How much a light `stabmon` command costs before it does anything: `stabmon --help` and
`stabmon sessions` on an empty library, each in a fresh interpreter with `-X importtime` and
bytecode cached (as a user runs it after the first time), against a reference run in the same
loop: a bare interpreter importing nothing of ours (`python -c pass`). The figures are the ratios
of their import, wall and CPU times (user + system: the fairest on a shared machine), medians of
`--runs` interleaved runs. `--trees` times the commands of other checkouts in the same loop (run
from their folder, which Python searches first), e.g. the tree before a change beside this one.

    env -u PYTHONDONTWRITEBYTECODE .venv/bin/python benchmarks/cli_startup.py [--runs 7] [--trees DIR…]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Modules worth naming when a command loads them.
HEAVY = (
    "numpy",
    "h5py",
    "scipy",
    "vqf",
    "matplotlib",
    "sensors.processing",
    "recordings.reader",
    "recordings.analysis",
    "recordings.catalogue",
    "recordings.library",
)


def import_us(stderr: str) -> int:
    """Total import time (µs) in `-X importtime` output: the cumulative times of the top-level
    imports (those not nested in another)."""
    total = 0
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if not name.startswith("  "):  # one space after the bar, then the name: top level
            total += int(cumulative)
    return total


def run(args: list[str], env: dict[str, str], tree: Path) -> tuple[int, float, float, set[str]]:
    """(import µs, wall s, CPU s (user + system), HEAVY modules imported) of one fresh
    interpreter in folder `tree`. The CPU time is the fairer figure on a shared machine."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-X", "importtime", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tree,
    )
    assert child.stderr is not None
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"{args} failed: {stderr[-2000:]}")
    names = {line.split("|", 2)[2].strip() for line in stderr.splitlines() if line.count("|") == 2}
    return import_us(stderr), wall, usage.ru_utime + usage.ru_stime, {n for n in HEAVY if n in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--trees", type=Path, nargs="*", default=[ROOT], help="checkouts to time")
    options = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as library:
        commands = {"reference (python -c pass)": (["-c", "pass"], ROOT)}
        for tree in options.trees:
            where = "" if len(options.trees) == 1 else f" [{tree}]"
            commands[f"stabmon --help{where}"] = (["-m", "stabmon", "--help"], tree)
            commands[f"stabmon sessions{where}"] = (
                ["-m", "stabmon", "sessions", "--data-dir", library],
                tree,
            )
        for args, tree in commands.values():
            run(args, env, tree)  # bytecode written and files cached
        results: dict[str, list[tuple[int, float, float, set[str]]]] = {name: [] for name in commands}
        for _ in range(options.runs):  # interleaved: the reference sees the same load
            for name, (args, tree) in commands.items():
                results[name].append(run(args, env, tree))
    reference = results["reference (python -c pass)"]
    ref_us, ref_wall = statistics.median(r[0] for r in reference), statistics.median(r[1] for r in reference)
    ref_cpu = statistics.median(r[2] for r in reference)
    for name, runs in results.items():
        us, wall = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        cpu = statistics.median(r[2] for r in runs)
        line = {
            "command": name,
            "import_ms": round(us / 1000, 1),
            "import_x_reference": round(us / ref_us, 1),
            "wall_ms": round(wall * 1000),
            "wall_x_reference": round(wall / ref_wall, 2),
            "cpu_ms": round(cpu * 1000),
            "cpu_x_reference": round(cpu / ref_cpu, 2),
            "loads": sorted(set().union(*(r[3] for r in runs))),
        }
        print(json.dumps(line, ensure_ascii=False))


if __name__ == "__main__":
    main()
