"""Cost of the hold angles: the angle pipeline over the same recorded frames, stepped in live-sized
blocks, with upright angles (reference) and with hold angles (hold-start detection, posture
angles relative to the hold posture, vertical-drift fit), as a ratio in the same process.

Usage: python benchmarks/hold_angles.py [--hold-seconds 300] [--block 10] [--drill plank]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from engine.factory import open_source, session_runner
from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors.processing import NullSink, SessionSettings
from sensors.processing.angles import AngleDefinition
from sensors.processing.pipeline import PipelineSettings, SegmentAnglePipeline
from sensors.samples import Frame
from sensors.simulator import DrillOptions, make_drill


class _Frames(NullSink):
    def __init__(self) -> None:
        self.frames: list[Frame] = []

    def on_frame(self, frame, angles):
        self.frames.append(frame)


def _run(frame: Frame, angles: AngleDefinition, block: int) -> float:
    pipeline = SegmentAnglePipeline(frame.placements, PipelineSettings(angles=angles))
    start = time.perf_counter()
    for a in range(0, len(frame), block):
        pipeline.step(frame.rows(a, min(a + block, len(frame))))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hold-seconds", type=float, default=300.0)
    parser.add_argument("--block", type=int, default=10)
    parser.add_argument("--drill", default="plank")
    args = parser.parse_args()
    drill = make_drill(args.drill, DrillOptions(seed=1), held_s=args.hold_seconds)
    sink = _Frames()
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=1, realtime=False),
        processing=SessionSettings(),
    )

    async def simulate() -> None:
        async with open_source(spec, drill, keep_sampling_s=0.0) as opened:  # the drill, whole
            await session_runner(spec, opened.source, [sink]).run()

    asyncio.run(simulate())
    frame = Frame.concatenate(sink.frames)
    runs = {d: [] for d in AngleDefinition}
    for _ in range(3):  # interleaved, best of three: the machine is shared
        for definition in AngleDefinition:
            runs[definition].append(_run(frame, definition, args.block))
    upright, hold = min(runs[AngleDefinition.UPRIGHT]), min(runs[AngleDefinition.HOLD])
    seconds = len(frame) / frame.rate_hz
    print(
        json.dumps(
            {
                "drill": args.drill,
                "data_seconds": round(seconds, 1),
                "block_samples": args.block,
                "upright_x_realtime": round(seconds / upright, 1),
                "hold_x_realtime": round(seconds / hold, 1),
                "hold_cost_ratio_to_upright": round(hold / upright, 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
