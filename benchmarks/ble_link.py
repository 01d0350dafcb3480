"""Sensors over the virtual BLE link in real time: sustained sample rate and host-side latency.

For each configuration (2 and 6 sensors, 100 and 200 Hz) a real-time session runs through the
production path — virtual stabmon-profile sensors on bumble's LocalLink, bleak (virtual-radio
backend), BleSource, SessionRunner with the full pipeline, assembled by engine.factory — for
--seconds. Reported:
  delivered      samples received per second per sensor, and as a share of the nominal rate
  latency        from a notification's arrival (its host stamp) to the synchronised frame that
                 first covers its newest sample, p50/p99 in ms
  cpu            process CPU seconds per second of session
Reference in the same process: the same session from `SimulatedSource` (no BLE stack, the
simulator's own arrival times), whose latency is what the synchroniser alone costs.

Usage: python benchmarks/ble_link.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import numpy as np

from engine.factory import open_source, session_runner
from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors.identity import SensorFamily
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.processing.session import NullSink


class _Latency(NullSink):
    """Pairs each block's arrival stamp with the wall time of the frame that covers it."""

    def __init__(self) -> None:
        self.blocks: list[tuple[int, float]] = []  # (host receive ns, newest session time s)
        self.frames: list[tuple[int, float]] = []  # (wall ns at emission, newest frame time s)
        self.samples = 0

    def on_samples(self, block, session_time_s) -> None:
        self.blocks.append((int(block.host_receive_ns[-1]), float(session_time_s[-1])))
        self.samples += len(block)

    def on_frame(self, frame, angles) -> None:
        self.frames.append((time.monotonic_ns(), float(frame.time_s[-1])))

    def latencies_ms(self) -> np.ndarray:
        frame_wall = np.array([f[0] for f in self.frames])
        frame_time = np.array([f[1] for f in self.frames])
        out = []
        for host_ns, t in self.blocks:
            k = np.searchsorted(frame_time, t)
            if k < len(frame_time):
                out.append((frame_wall[k] - host_ns) * 1e-6)
        return np.array(out)


async def _run(placements, rate_hz, seconds, ble: bool):
    kind = SourceKind.VIRTUAL_BLE if ble else SourceKind.SIMULATED
    spec = SessionSpec(
        SourceSpec(kind, SensorFamily.STABMON, placements, seed=1, realtime=True, scan_timeout_s=1.5),
        processing=SessionSettings(rate_hz=rate_hz, duration_s=seconds),
    )
    sink = _Latency()
    async with open_source(spec, "forward-bend", seconds) as opened:
        cpu0 = time.process_time()
        wall0 = time.monotonic()
        await session_runner(spec, opened.source, [sink]).run()
        wall = time.monotonic() - wall0
        cpu = time.process_time() - cpu0
    latency = sink.latencies_ms()
    per_sensor = sink.samples / len(placements) / seconds
    return {
        "delivered_hz_per_sensor": round(per_sensor, 1),
        "delivered_share": round(per_sensor / rate_hz, 3),
        "latency_ms_p50": round(float(np.percentile(latency, 50)), 1),
        "latency_ms_p99": round(float(np.percentile(latency, 99)), 1),
        "cpu_s_per_s": round(cpu / wall, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    results = []
    for count in (2, 6):
        placements = tuple(Placement)[:count]
        for rate in (100.0, 200.0):
            row = {"sensors": count, "rate_hz": rate}
            row["ble"] = asyncio.run(_run(placements, rate, args.seconds, ble=True))
            row["reference_no_ble"] = asyncio.run(_run(placements, rate, args.seconds, ble=False))
            print(json.dumps(row), flush=True)
            results.append(row)


if __name__ == "__main__":
    main()
