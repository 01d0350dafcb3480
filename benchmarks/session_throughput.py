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

from engine.factory import open_source, record, session_runner
from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.samples import SampleBlock

DRILL = "forward-bend"


def _spec(seconds: float, placements: tuple[Placement, ...], rate_hz: float) -> SessionSpec:
    """The benchmark's session: simulated sensors (no radio), as fast as possible, seed 1."""
    return SessionSpec(
        SourceSpec(SourceKind.SIMULATED, placements=placements, seed=1, realtime=False),
        processing=SessionSettings(rate_hz=rate_hz, duration_s=seconds),
    )


async def _drain(spec: SessionSpec) -> None:
    """The source alone, up to the session's duration (its sensors sample on after it)."""
    assert spec.processing.duration_s is not None
    async with open_source(spec, DRILL, spec.processing.duration_s) as opened:
        source = opened.source
        async for item in source.stream():
            if isinstance(item, SampleBlock):
                now_s = (int(item.host_receive_ns[-1]) - source.host_origin_ns) * 1e-9
                if now_s >= spec.processing.duration_s:
                    break


async def _pipeline(spec: SessionSpec) -> None:
    """The source and the whole pipeline, nothing recorded."""
    assert spec.processing.duration_s is not None
    async with open_source(spec, DRILL, spec.processing.duration_s) as opened:
        await session_runner(spec, opened.source).run()


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
    spec = _spec(args.seconds, placements, args.rate)

    simulator_s = _timed(lambda: asyncio.run(_drain(spec)))
    pipeline_s = _timed(lambda: asyncio.run(_pipeline(spec)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.h5"
        # the recording's time includes closing the file (record closes it before returning)
        recording_s = _timed(lambda: asyncio.run(record(spec, "BENCH1", path, DRILL, args.seconds)))
        size_mb = path.stat().st_size / 1e6
    data_s = args.seconds
    print(
        json.dumps(
            {
                "data_seconds": data_s,
                "placements": [p.value for p in placements],
                "rate_hz": args.rate,
                "simulator_x_realtime": round(data_s / simulator_s, 1),
                "with_pipeline_x_realtime": round(data_s / pipeline_s, 1),
                "with_recording_x_realtime": round(data_s / recording_s, 1),
                "pipeline_cost_vs_simulator": round((pipeline_s - simulator_s) / simulator_s, 2),
                "recording_cost_vs_simulator": round((recording_s - pipeline_s) / simulator_s, 2),
                "file_mb_per_hour": round(size_mb * 3600 / data_s, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
