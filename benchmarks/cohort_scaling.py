"""`stabmon cohort` scaling: many short simulated sessions analysed with 1 and 2 workers.

Sessions: `--sessions` files of `--seconds` s (two sensors at 100 Hz, drills in turn: quiet
stance, forward bend, sit-to-stand, perturbations), recorded once from simulated sensors by
`engine.factory.record` and kept in FOLDER/sessions. Each run is a fresh `stabmon cohort` process
over the folder with no journal (`--restart`): local processes with 1 and 2 workers, and a Dask
`LocalCluster` with 1 and 2 single-threaded worker processes. Reported: wall time, files per
second, and the scaling efficiency (time with 1 worker / (2 × time with 2)); all tables must be
identical.

Usage: python benchmarks/cohort_scaling.py FOLDER [--sessions 1000] [--seconds 12]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

from engine.factory import record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors.processing import SessionSettings

DRILLS = ("quiet-stance", "forward-bend", "sit-to-stand", "perturbations")


def make_sessions(folder: Path, count: int, seconds: float) -> list[Path]:
    """`count` short sessions under folder (made when missing), one subject folder per 10."""
    paths = []
    for k in range(count):
        drill = DRILLS[k % len(DRILLS)]
        path = folder / f"sub-S{k // 10:03d}" / f"session-{k:04d}_{drill}.h5"
        paths.append(path)
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        spec = SessionSpec(
            SourceSpec(SourceKind.SIMULATED, seed=k, realtime=False),
            processing=SessionSettings(rate_hz=100.0, duration_s=seconds),
        )
        partial = path.with_suffix(".partial")
        subject = f"S{k // 10:03d}"
        asyncio.run(record(spec, subject, partial, drill, seconds, protocol={"protocol": drill}))
        partial.rename(path)
    return paths


def cohort(folder: Path, out: Path, extra: list[str]) -> float:
    """Wall time (s) of one `stabmon cohort` process over the folder."""
    command = [sys.executable, "-m", "stabmon", "cohort", str(folder), "-o", str(out), "--restart", *extra]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    paths = make_sessions(args.folder / "sessions", args.sessions, args.seconds)
    made_s = time.perf_counter() - start
    runs: dict[str, float] = {}
    tables: dict[str, bytes] = {}
    for workers in (1, 2):
        out = args.folder / f"local-{workers}.csv"
        runs[f"local processes, {workers} worker(s)"] = cohort(
            args.folder / "sessions", out, ["--workers", str(workers)]
        )
        tables[f"local-{workers}"] = out.read_bytes()
    if not args.no_dask:
        from distributed import LocalCluster

        for workers in (1, 2):
            out = args.folder / f"dask-{workers}.csv"
            with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster:
                runs[f"Dask LocalCluster, {workers} worker(s)"] = cohort(
                    args.folder / "sessions", out, ["--cluster", cluster.scheduler_address]
                )
            tables[f"dask-{workers}"] = out.read_bytes()
    first = next(iter(tables.values()))
    result = {
        "sessions": len(paths),
        "seconds_each": args.seconds,
        "making them (s)": round(made_s, 1),
        "tables identical": all(t == first for t in tables.values()),
        "rows": first.count(b"\n") - 1,
    }
    for name, wall in runs.items():
        result[name] = {"wall_s": round(wall, 1), "files_per_s": round(len(paths) / wall, 1)}
    for kind in ("local processes", "Dask LocalCluster"):
        one, two = runs.get(f"{kind}, 1 worker(s)"), runs.get(f"{kind}, 2 worker(s)")
        if one and two:
            result[f"{kind}: scaling efficiency 1 → 2 workers"] = round(one / (2 * two), 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
