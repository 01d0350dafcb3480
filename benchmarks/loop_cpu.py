"""CPU of the engine loop's live processing alone: the `SessionRunner` (clock mapping,
synchroniser, pipeline, running measures) over simulated sensors, one block per notification as a
BLE link delivers them, without the radio, the BLE stack, the sinks or a window. The blocks are
simulated first; only the runner is timed (process CPU, best of --repeat runs). The digest covers
every frame, angle array, running measure and event, so two trees can be compared for speed and
for byte-equal output: run it from each tree.

Usage: python benchmarks/loop_cpu.py [--drills quiet-stance gait] [--lossy] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.processing.session import SessionRunner
from sensors.simulator import (
    DrillOptions,
    RadioSettings,
    SimulatedSensorSettings,
    SimulatedSource,
    make_drill,
)

SIX = (
    Placement.LUMBAR,
    Placement.PELVIS,
    Placement.THORAX,
    Placement.LEFT_THIGH,
    Placement.RIGHT_THIGH,
    Placement.LEFT_SHANK,
)


class Digest:
    """A sink that hashes everything the runner hands on."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.frames = 0
        self.measures = 0

    def on_start(self, origin_ns: int) -> None:
        pass

    def on_samples(self, block: Any, session_time: Any) -> None:
        pass

    def on_frame(self, frame: Any, angles: Any) -> None:
        self.frames += 1
        for array in (frame.time_s, frame.acc_m_s2, frame.gyr_rad_s, frame.valid):
            self.hash.update(array.tobytes())
        for f in dataclasses.fields(angles):
            value = getattr(angles, f.name)
            if isinstance(value, np.ndarray):
                self.hash.update(value.tobytes())

    def on_measures(self, update: Any) -> None:
        self.measures += 1
        self.hash.update(repr(update).encode())

    def on_event(self, event: Any) -> None:
        self.hash.update(repr(event).encode())

    def on_status(self, status: Any) -> None:
        pass

    def on_calibration(self, calibration: Any) -> None:
        self.hash.update(repr(calibration).encode())


class Replay:
    """The simulated items again, as a source."""

    def __init__(self, source: SimulatedSource, items: list[Any]) -> None:
        self.sensors = source.sensors
        self.host_origin_ns = source.host_origin_ns
        self.items = items

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def health(self) -> dict[Placement, Any]:
        return {}

    async def stream(self) -> AsyncIterator[Any]:
        for item in self.items:
            yield item


def measure(drill_name: str, seconds: float, rate_hz: float, lossy: bool, repeat: int) -> dict[str, Any]:
    drill = make_drill(drill_name, DrillOptions(duration_s=seconds, seed=1))
    radio = RadioSettings(burst_start_probability=0.03, jitter_mean_s=0.02) if lossy else RadioSettings()
    source = SimulatedSource(
        drill, SIX, SimulatedSensorSettings(rate_hz=rate_hz, radio=radio), seed=5, delivery_s=1e-9
    )

    async def simulate() -> list[Any]:
        await source.start()
        items = [item async for item in source.stream()]
        await source.stop()
        return items

    items = asyncio.run(simulate())
    best, digest = float("inf"), Digest()
    for _ in range(repeat):
        digest = Digest()
        runner = SessionRunner(
            Replay(source, items), [digest], SessionSettings(rate_hz=rate_hz, drill=drill_name)
        )
        start = time.process_time()
        asyncio.run(runner.run())
        best = min(best, time.process_time() - start)
    return {
        "drill": drill_name,
        "lossy": lossy,
        "blocks": len(items),
        "frames": digest.frames,
        "measures": digest.measures,
        "runner_cpu_s": round(best, 3),
        "digest": digest.hash.hexdigest()[:16],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drills", nargs="+", default=["quiet-stance", "gait"])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--lossy", action="store_true", help="3 % loss bursts, 20 ms mean jitter")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name in args.drills:
        print(measure(name, args.seconds, args.rate, args.lossy, args.repeat), flush=True)


if __name__ == "__main__":
    main()
