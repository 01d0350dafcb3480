"""Throughput of a headless simulated session, as multiples of real time.

Three runs in one process over the same simulated data:
  simulator  the SimulatedSource alone (reference: what producing the data costs),
  pipeline   + clock mapping, synchroniser, vqf orientation, calibration and angles,
  recording  + the HDF5 writer on its thread.
Each is reported as seconds of data per second of wall time, and the pipeline's and recorder's
costs as ratios to the simulator reference, which makes figures comparable on a noisy machine.

Usage: python benchmarks/session_throughput.py [--seconds 300] [--placements 2] [--rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from recordings import RecordingSink, RecordingWriter, SessionMetadata
from sensors.placements import Placement
from sensors.processing import SessionRunner, SessionSettings
from sensors.simulator import DrillOptions, SimulatedSensorSettings, SimulatedSource, make_drill


def _source(seconds: float, placements: tuple[Placement, ...], rate_hz: float) -> SimulatedSource:
    drill = make_drill("forward-bend", DrillOptions(duration_s=seconds, seed=1))
    return SimulatedSource(drill, placements, SimulatedSensorSettings(rate_hz=rate_hz), seed=1)


async def _drain(source: SimulatedSource) -> None:
    await source.start()
    async for _ in source.stream():
        pass


def _timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--placements", type=int, default=2, choices=range(1, len(Placement) + 1))
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    placements = tuple(Placement)[: args.placements]
    settings = SessionSettings(rate_hz=args.rate)

    simulator_s = _timed(lambda: asyncio.run(_drain(_source(args.seconds, placements, args.rate))))
    pipeline_s = _timed(
        lambda: asyncio.run(SessionRunner(_source(args.seconds, placements, args.rate), [], settings).run())
    )
    with tempfile.TemporaryDirectory() as folder:
        source = _source(args.seconds, placements, args.rate)
        writer = RecordingWriter(
            Path(folder) / "bench.h5", SessionMetadata("BENCH", "forward-bend", settings), source.sensors
        )

        runner = SessionRunner(source, [RecordingSink(writer)], settings)
        recording_s = _timed(lambda: asyncio.run(runner.run()))
        close_s = _timed(writer.close)
        size_mb = (Path(folder) / "bench.h5").stat().st_size / 1e6
    data_s = args.seconds
    print(
        json.dumps(
            {
                "data_seconds": data_s,
                "placements": [p.value for p in placements],
                "rate_hz": args.rate,
                "simulator_x_realtime": round(data_s / simulator_s, 1),
                "with_pipeline_x_realtime": round(data_s / pipeline_s, 1),
                "with_recording_x_realtime": round(data_s / (recording_s + close_s), 1),
                "pipeline_cost_vs_simulator": round((pipeline_s - simulator_s) / simulator_s, 2),
                "recording_cost_vs_simulator": round((recording_s + close_s - pipeline_s) / simulator_s, 2),
                "file_mb_per_hour": round(size_mb * 3600 / data_s, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
