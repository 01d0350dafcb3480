"""What a session stopped at its duration leaves out of its file, with and without its end
handling (`sensors.processing.session_end.SessionEnd`: reading on for a Polar's partner frames,
reading the stopped link's queue, draining the decoders).

For each family (WitMotion on a radio that loses bursts of packets, so its decoder is holding
packets most of the time; Polar Verity Sense, ACC and GYRO frames ~1.4 s apart) a session of two
virtual sensors on bumble's link (not real time) is recorded through the production path, once
as the tree does and once with `SessionEnd` doing nothing (as before it). Per sensor: the samples
that reached the host before the stop (the sensor's own send log), how many of them are missing
from the file, and the wall time from the stop to the end of the run (reading on, draining).

Usage: python benchmarks/stop_drain.py [--seconds 10] [--seeds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

from engine.factory import Impairments, record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors.identity import SensorFamily
from sensors.placements import Placement
from sensors.processing import SessionSettings, session_end
from sensors.simulator.radio import RadioSettings

PAIR = (Placement.LUMBAR, Placement.PELVIS)
LOSSY = RadioSettings(samples_per_packet=1, burst_start_probability=0.03, mean_burst_packets=15)


async def _nothing(*args: object) -> None:
    return None


def one(family: SensorFamily, seconds: float, seed: int, with_end: bool, folder: Path) -> list[dict]:
    """One recorded session; a row per sensor."""
    saved = session_end.SessionEnd.read_on, session_end.SessionEnd.finish
    if not with_end:
        session_end.SessionEnd.read_on, session_end.SessionEnd.finish = _nothing, _nothing  # type: ignore[method-assign]
    stop_wall: list[float] = []
    read_on = session_end.SessionEnd.read_on

    async def timed_read_on(self: session_end.SessionEnd, stop_ns: int) -> None:
        stop_wall.append(time.perf_counter())
        await read_on(self, stop_ns)

    session_end.SessionEnd.read_on = timed_read_on  # type: ignore[method-assign]
    try:
        spec = SessionSpec(
            SourceSpec(SourceKind.VIRTUAL_BLE, family, PAIR, seed=seed, realtime=False, scan_timeout_s=1.5),
            processing=SessionSettings(rate_hz=100.0, duration_s=seconds),
        )
        radio = LOSSY if family is SensorFamily.WITMOTION else None
        path = folder / f"{family.value}-{seed}-{with_end}.h5"
        done = asyncio.run(
            record(
                spec,
                "BNC1",
                path,
                "quiet-stance",
                seconds + 2.0,
                impairments=Impairments(radio, keep_sent=True),
            )
        )
        ended = time.perf_counter()
    finally:
        session_end.SessionEnd.read_on, session_end.SessionEnd.finish = saved  # type: ignore[method-assign]
    rows = []
    for placement in PAIR:
        with h5py.File(path, "r") as f:
            group = f[f"acquisition/{placement.value}"]
            stored = len(group["sequence"])
            origin_ns = int(f["acquisition/arrival/host_origin_ns"][0])
        stop_ns = origin_ns + round(done.recording.runner.stopped_at_s * 1e9)
        arrived = np.concatenate([b.host_receive_ns for b in done.opened.fleet[placement].sent_blocks])
        before = int(np.count_nonzero(arrived <= stop_ns))
        rows.append(
            {
                "family": family.value,
                "seed": seed,
                "end": "SessionEnd" if with_end else "none",
                "sensor": placement.value,
                "before_stop": before,
                "missing": max(before - stored, 0),
                "stop_s": ended - stop_wall[0] if stop_wall else float("nan"),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    print("family       seed end         sensor  before_stop missing  stop→end s")
    with tempfile.TemporaryDirectory() as folder:
        for family in (SensorFamily.WITMOTION, SensorFamily.POLAR_PMD):
            for seed in range(1, args.seeds + 1):
                for with_end in (False, True):
                    for r in one(family, args.seconds, seed, with_end, Path(folder)):
                        print(
                            f"{r['family']:<12} {r['seed']:>4} {r['end']:<11} {r['sensor']:<7} "
                            f"{r['before_stop']:>11} {r['missing']:>7} {r['stop_s']:>10.2f}"
                        )


if __name__ == "__main__":
    main()
