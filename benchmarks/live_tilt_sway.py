"""The live tilt-sway card against the simulator's true trunk sway in quiet stance.

Each seed × sway scale is one simulated quiet stance (every sensor error on, no radio) opened
and run by engine.factory as live; every running measure whose 10-s window lies in the task (after the
calibration's fade into the task's sway) is compared with the centred RMS of the true trunk
inclination over the same samples. Printed: per sway scale, measured/true of the card's
sagittal (AP) and frontal (ML) tilt RMS: mean, min and max over the cards, and the RMS of
(measured − true) in degrees; over all those cards, and over the settled ones (the window's
start at least 10 s into the task).

Usage: python benchmarks/live_tilt_sway.py [--seeds 3 5 7 11 14 21] [--scales 1 2] [--duration 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import numpy as np

from engine.factory import open_source, session_runner
from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors import Placement
from sensors.processing import SessionSettings
from sensors.processing.angles import inclination_angles
from sensors.processing.live_measures import RunningMeasures
from sensors.processing.session import NullSink
from sensors.simulator import DrillOptions, make_drill
from sensors.simulator.body import segment_quaternions


class _Measures(NullSink):
    def __init__(self) -> None:
        self.measures: list[RunningMeasures] = []

    def on_measures(self, measures: RunningMeasures) -> None:
        self.measures.append(measures)


def card_ratios(seed: int, scale: float, duration_s: float) -> list[tuple[float, ...]]:
    """(measured AP, true AP, measured ML, true ML), deg, and the window's start after the task's
    start, s, of every card of one simulated stance whose window lies in the task's steady sway."""
    drill = make_drill("quiet-stance", DrillOptions(duration_s=duration_s, seed=seed, sway_scale=scale))
    sink = _Measures()
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=seed, realtime=False),
        processing=SessionSettings(drill="quiet-stance"),
    )

    async def run() -> None:
        async with open_source(spec, drill, keep_sampling_s=0.0) as opened:
            await session_runner(spec, opened.source, [sink]).run()

    asyncio.run(run())
    task_start = drill.truth.task_start_s
    rows = []
    for m in sink.measures:
        rate = 100.0
        t = m.time_s - np.arange(round(m.window_s * rate))[::-1] / rate
        if t[0] < task_start:
            continue
        q = segment_quaternions(drill.pose(t), drill.heading_rad)[Placement.LUMBAR]
        truth = np.degrees(inclination_angles(q))
        rms = np.sqrt(np.mean((truth - truth.mean(axis=0)) ** 2, axis=0))
        sway = m.trunk_angle_sway
        rows.append((sway.rms_ap, float(rms[0]), sway.rms_ml, float(rms[1]), float(t[0] - task_start)))
    return rows


def summary(rows: list[tuple[float, ...]]) -> dict[str, float]:
    a = np.array(rows)
    out: dict[str, float] = {"cards": len(a)}
    for name, measured, true in (("ap", a[:, 0], a[:, 1]), ("ml", a[:, 2], a[:, 3])):
        ratio = measured / true
        out[f"{name}_ratio_mean"] = round(float(ratio.mean()), 3)
        out[f"{name}_ratio_min"] = round(float(ratio.min()), 3)
        out[f"{name}_ratio_max"] = round(float(ratio.max()), 3)
        out[f"{name}_error_rms_deg"] = round(float(np.sqrt(np.mean((measured - true) ** 2))), 3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[3, 5, 7, 11, 14, 21])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args()
    result = {}
    for scale in args.scales:
        rows = [r for seed in args.seeds for r in card_ratios(seed, scale, args.duration)]
        result[f"sway_scale_{scale:g}"] = summary(rows)
        result[f"sway_scale_{scale:g}_settled"] = summary([r for r in rows if r[4] >= 10.0])
    json.dump(result, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
