"""Soak: a long simulated clinic session under faults, then the checks that nothing was lost.

Four virtual sensors over the in-process BLE stack record quiet stance into HDF5 while packets
are lost in bursts, three sensors drop out and reconnect, one dies for good, one sends a storm of
malformed packets, the disk is full for a while and a write to the recording really fails (see
`benchmarks/soak_harness.py`; the faults in `soak_plan.py` and `soak_writer_faults.py`).
Then (`soak_check.py`): every sample sent whole is in the file, every missing one is flagged
where it is missing, memory stayed flat, and the live running measures equal an offline
replay of the file.

Usage: python benchmarks/soak.py [--minutes 60] [--realtime-minutes 10] [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the soak's modules: benchmarks.soak_*

from benchmarks.soak_check import check
from benchmarks.soak_harness import run_soak
from benchmarks.soak_plan import SoakPlan


def progress(fraction: float) -> None:
    print(f"\r  {100 * fraction:5.1f} %", end="", file=sys.stderr, flush=True)


def soak(minutes: float, realtime: bool, folder: Path) -> bool:
    plan = SoakPlan.scaled(60 * minutes, realtime)
    mode = "real time" if realtime else "as fast as the link allows"
    print(f"\n{minutes:.0f} min of data, {mode}:")
    run = asyncio.run(run_soak(plan, folder, progress))
    report = check(run)
    speed = 60 * minutes / run.wall_s
    print(f"\r  wall time {run.wall_s / 60:.1f} min ({speed:.1f}× real time), file {run.path}")

    print(f"  {'sensor':<11}{'sent':>9}{'recorded':>10}{'spoiled':>9}{'flagged lost':>14}{'reconnected':>13}")
    for name, sent in report.samples_sent.items():
        print(
            f"  {name:<11}{sent:>9}{report.samples_recorded[name]:>10}{report.samples_spoiled[name]:>9}"
            f"{report.samples_flagged_lost[name]:>14}{report.reconnections[name]:>13}"
        )
    print(f"  sensors reported lost: {', '.join(report.lost_sensors) or 'none'}")
    print(f"  malformed notifications counted: {sum(run.decode_errors.values())}")
    print(f"  writer held data back for a full disk: {run.writer_held_back} time(s)")
    print(
        "  a write failed and the recording was made whole from a rescue file: "
        + ("yes" if run.rescued else "no")
    )
    print(f"  memory growth after the first fifth: {report.memory_growth_mb:.1f} MB")
    print(f"  live measure updates equal to the offline replay: {report.measures_compared}")
    print("  problems: " + ("; ".join(report.problems) if report.problems else "none"))
    return not report.problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="data in the fast run (0: skip)")
    parser.add_argument(
        "--realtime-minutes", type=float, default=10.0, help="data in the real-time run (0: skip)"
    )
    parser.add_argument("--out", type=Path, help="folder for the session files (default: a temporary one)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    folder = args.out or Path(tempfile.mkdtemp(prefix="stabmon-soak-"))
    folder.mkdir(parents=True, exist_ok=True)
    ok = True
    if args.minutes > 0:
        ok = soak(args.minutes, False, folder)
    if args.realtime_minutes > 0:
        ok = soak(args.realtime_minutes, True, folder) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
