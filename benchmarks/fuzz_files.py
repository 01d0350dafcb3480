"""Corruption campaign: many damaged copies of a few real recordings through every command that
reads recordings and through the review window, counting what each gave.

Recordings: written by the real writer from simulated sessions of several drills. Damage: every
structural edit of `tests/recordings/corruptions.py` (deleted or retyped datasets and attributes,
mismatched lengths, NaN/inf and impossible values, bad stored settings), truncations, zeroed
blocks, `--flips` copies with 1–64 random bytes flipped, a file left open by a crash, and (when run
as root with `setpriv`) a file another user may not read, with the commands run as `nobody`.
Commands: analyze and the review window on every damaged file; export (CSV and BIDS), report,
compare and recover on every `--every`-th; sessions over the whole folder. They run in
subprocesses (`tests/recordings/command_harness.py`), so a crash or a signal is seen and counted.

A good result: tracebacks 0, crashes 0, unclear errors 0 (every error names the file).

Usage: python benchmarks/fuzz_files.py [--flips 30] [--every 3] [--seed 14]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.recordings import corruptions  # noqa: E402
from tests.recordings.command_harness import drive  # noqa: E402
from tests.recordings.corrupt_helpers import record_simulated  # noqa: E402
from tests.redate import shifted_copy  # noqa: E402

DRILLS = (("quiet-stance", 12.0), ("forward-bend", 20.0), ("perturbations", 16.0))
NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def _jobs(cases: list[tuple[str, Path]], out: Path, commands: tuple[str, ...], library: Path) -> list[dict]:
    jobs = []
    for k, (name, path) in enumerate(cases):
        o = out / f"{path.parent.name}-{k}"
        argv = {
            "analyze": ["analyze", str(path)],
            "export csv": ["export", str(path), "--format", "csv", "-o", str(o / "csv")],
            "export bids": ["export", str(path), "--format", "bids", "-o", str(o / "bids")],
            "report": ["report", str(path), "-o", str(o / "report.html")],
            # against a copy recorded a day earlier (a file with itself is refused before it is read)
            "compare": ["compare", str(out.parent / "earlier" / f"{path.parent.name}.h5"), str(path)],
        }
        for command in commands:
            job_id = f"{command} | {path.parent.name} | {name}"
            if command == "review":
                jobs.append({"id": job_id, "review": str(path), "data_dir": str(library)})
            elif command == "recover":
                target = out / "recover" / f"{path.parent.name}-{k}" / path.name
                target.parent.mkdir(parents=True)
                shutil.copytree(path, target) if path.is_dir() else shutil.copyfile(path, target)
                jobs.append(
                    {"id": job_id, "argv": ["recover", str(target)], "names": [str(target), target.name]}
                )
            else:
                jobs.append({"id": job_id, "argv": argv[command], "names": [str(path), path.name]})
    return jobs


def _sessions(library: Path, cases: list[tuple[str, Path]]) -> dict[str, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "stabmon", "sessions", "--data-dir", str(library)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    if done.returncode < 0:
        return {"sessions": {"outcome": "crash", "detail": done.stderr[-500:]}}
    if "Traceback" in done.stderr or done.returncode != 0:
        return {"sessions": {"outcome": "traceback", "detail": done.stderr[-500:]}}
    results = {}
    for name, path in cases:
        line = next((x for x in done.stdout.splitlines() if str(path) in x), None)
        outcome = "error" if line and line.rstrip().endswith(")") and "(" in line else "ok"
        results[f"sessions | {path.parent.name} | {name}"] = {
            "outcome": "missing" if line is None else outcome,
            "clear": True,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flips", type=int, default=30, help="random bit-flip copies per recording")
    parser.add_argument("--every", type=int, default=3, help="export/report/compare/recover every n-th file")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="stabmon-fuzz-", dir="/tmp"))
    work.chmod(0o755)
    library = work / "library"
    out = work / "out"
    out.mkdir(parents=True)
    cases: list[tuple[str, Path]] = []
    for k, (drill, seconds) in enumerate(DRILLS):
        folder = library / f"sub-F{k:02d}"
        folder.mkdir(parents=True)
        original = record_simulated(work / f"{drill}.h5", drill, seconds, seed=k + 1)
        shifted_copy(original, work / "earlier" / f"{folder.name}.h5", -timedelta(days=1))
        cases += corruptions.structural(original, folder)
        cases += corruptions.byte_level(original, folder, rng, args.flips)
        cases += corruptions.left_open(original, folder)
    results: dict[str, dict] = {}
    results.update(drive(_jobs(cases, out, ("analyze", "review"), library)))
    sample = cases[:: args.every]
    results.update(
        drive(_jobs(sample, out, ("export csv", "export bids", "report", "compare", "recover"), library))
    )
    results.update(_sessions(library, cases))
    as_nobody = os.geteuid() == 0 and shutil.which("setpriv") is not None
    if as_nobody:
        denied = work / "denied"
        denied.mkdir()
        unreadable = corruptions.unreadable(work / "quiet-stance.h5", denied)
        shifted_copy(work / "quiet-stance.h5", work / "earlier" / "denied.h5", -timedelta(days=1))
        for folder in (work, denied, out):
            folder.chmod(0o777)
        jobs = _jobs(unreadable, out, ("analyze", "review", "export csv", "report", "compare"), denied)
        results.update(drive(jobs, user=NOBODY))
    elapsed = time.monotonic() - started
    _print(results, len(cases), len(DRILLS), as_nobody, elapsed, args)
    shutil.rmtree(work, ignore_errors=True)


def _print(
    results: dict[str, dict], files: int, recordings: int, as_nobody: bool, elapsed: float, args
) -> None:
    def kind(r: dict) -> str:
        if r["outcome"] == "error":
            return "clear error" if r.get("clear") else "UNCLEAR error"
        return {"partial": "partial result", "ok": "read whole (damage not in what was read)"}.get(
            r["outcome"], r["outcome"]
        )

    totals = Counter(kind(r) for r in results.values())
    by_command = Counter((key.split(" | ")[0], kind(r)) for key, r in results.items())
    print(f"damaged files: {files} (from {recordings} recordings; --flips {args.flips}, seed {args.seed})")
    nobody = "; the unreadable-file runs as user nobody" if as_nobody else ""
    print(f"runs: {len(results)} (file × command){nobody}")
    for label in ("clear error", "partial result", "read whole (damage not in what was read)"):
        print(f"  {label:<42} {totals[label]}")
    print(f"  {'unclear errors (file not named)':<42} {totals['UNCLEAR error']}")
    print(f"  {'tracebacks':<42} {totals['traceback']}")
    print(f"  {'crashes (signals, aborts)':<42} {totals['crash']}")
    print(f"  {'files missing from the listing':<42} {totals['missing']}")
    print("per command (clear error / partial / whole):")
    for command in sorted({key.split(" | ")[0] for key in results}):
        row = [
            by_command[(command, k)]
            for k in ("clear error", "partial result", "read whole (damage not in what was read)")
        ]
        print(f"  {command:<12} {row[0]:5d} {row[1]:5d} {row[2]:5d}")
    print(f"wall time {elapsed / 60:.1f} min")
    for key, r in sorted(results.items()):
        if r["outcome"] in ("traceback", "crash", "missing") or (
            r["outcome"] == "error" and not r.get("clear")
        ):
            print(f"! {key}: {r['outcome']}: {r.get('detail')}\n{r.get('trace', '')}")


if __name__ == "__main__":
    main()
