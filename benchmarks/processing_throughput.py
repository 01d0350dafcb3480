"""Processing speed as multiples of real time.

1. Live: a simulated session through the session runner (clock mapping, synchroniser, vqf
   orientation, calibration, angles, live measures) against the same simulation drained alone
   in the same process; the difference is the live pipeline's cost per second of data.
2. Offline: `analyze` on the collected hour (the drill's whole measures table), plus the offline
   vqf orientation of both sensors.

Usage: python benchmarks/processing_throughput.py [--minutes 60] [--rate 200] [--drill forward-bend]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import numpy as np

from sensors.placements import REQUIRED_PLACEMENTS
from sensors.processing import NullSink, SessionRunner, SessionSettings
from sensors.processing.analysis import SessionData, analyze
from sensors.processing.orientation import OrientationSettings, estimate_orientation_offline
from sensors.processing.pipeline import AngleBlock
from sensors.samples import Frame
from sensors.simulator import DrillOptions, SimulatedSensorSettings, SimulatedSource, make_drill


class _Keep(NullSink):
    def __init__(self) -> None:
        self.frames, self.angles, self.events, self.calibration = [], [], [], None

    def on_frame(self, frame, angles):
        self.frames.append(frame)
        self.angles.append(angles)

    def on_event(self, event):
        self.events.append(event)

    def on_calibration(self, calibration):
        self.calibration = calibration


def _source(args: argparse.Namespace) -> SimulatedSource:
    drill = make_drill(args.drill, DrillOptions(duration_s=args.minutes * 60, seed=1))
    return SimulatedSource(drill, REQUIRED_PLACEMENTS, SimulatedSensorSettings(rate_hz=args.rate), seed=1)


async def _drain(source: SimulatedSource) -> None:
    await source.start()
    async for _ in source.stream():
        pass


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--drill", default="forward-bend")
    args = parser.parse_args()
    seconds = args.minutes * 60

    start = time.perf_counter()
    asyncio.run(_drain(_source(args)))
    simulator_s = time.perf_counter() - start

    keep = _Keep()
    start = time.perf_counter()
    asyncio.run(SessionRunner(_source(args), [keep], SessionSettings(rate_hz=args.rate)).run())
    live_s = time.perf_counter() - start

    frame, angles = Frame.concatenate(keep.frames), AngleBlock.concatenate(keep.angles)
    data = SessionData(frame, angles, keep.calibration.mount_q, tuple(keep.events))
    start = time.perf_counter()
    result = analyze(data, args.drill)
    analysis_s = time.perf_counter() - start

    start = time.perf_counter()
    for k in range(len(frame.placements)):
        ok = frame.valid[:, k]
        estimate_orientation_offline(
            frame.gyr_rad_s[ok, k], frame.acc_m_s2[ok, k], OrientationSettings(rate_hz=args.rate)
        )
    offline_orientation_s = time.perf_counter() - start

    pipeline_s = live_s - simulator_s
    print(
        json.dumps(
            {
                "data_seconds": seconds,
                "sensors": len(frame.placements),
                "rate_hz": args.rate,
                "drill": args.drill,
                "simulator_alone_x_realtime": round(seconds / simulator_s, 1),
                "live_pipeline_cost_per_data_second_ms": round(1000 * pipeline_s / seconds, 3),
                "live_pipeline_x_realtime": round(seconds / pipeline_s, 1),
                "offline_analyze_x_realtime": round(seconds / analysis_s, 1),
                "offline_orientation_x_realtime": round(seconds / offline_orientation_s, 1),
                "measures_in_table": len(result.measures),
                "repetitions": int(np.nan_to_num(result.value("repetitions")))
                if args.drill == "forward-bend"
                else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
