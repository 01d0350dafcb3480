"""Latency probes: when each notification reached the host, and when the frame, the measures
update and the dashboard's buffers first held its newest sample (used by benchmarks/latency.py
and its short regression test)."""

from __future__ import annotations

import time

import numpy as np

from sensors.processing.live_measures import RunningMeasures
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import NullSink
from sensors.samples import Frame, SampleBlock


class Probe(NullSink):
    """Session-thread timestamps: each notification's arrival and newest sample time, and when
    each frame and measures update was handed to the sinks."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[tuple[int, float]]] = {}  # placement → (host ns, sample s)
        self.frames: list[tuple[int, float]] = []  # (monotonic ns, newest frame time s)
        self.measures: list[tuple[int, float]] = []  # (monotonic ns, window end s)

    def on_samples(self, block: SampleBlock, session_time_s: np.ndarray) -> None:
        self.arrivals.setdefault(block.placement.value, []).append(
            (int(block.host_receive_ns[-1]), float(session_time_s[-1]))
        )

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        self.frames.append((time.monotonic_ns(), float(frame.time_s[-1])))

    def on_measures(self, measures: RunningMeasures) -> None:
        self.measures.append((time.monotonic_ns(), measures.time_s))


def latencies_ms(
    arrivals: dict[str, list[tuple[int, float]]], outputs: list[tuple[int, float]], period_s: float
) -> np.ndarray:
    """For every notification, the delay (ms) from its arrival to the first output whose newest
    time covers its newest sample (outputs are in order)."""
    out_ns = np.array([o[0] for o in outputs], dtype=np.int64)
    out_t = np.maximum.accumulate(np.array([o[1] for o in outputs]))
    delays = []
    for per_sensor in arrivals.values():
        a = np.array(per_sensor, dtype=float)
        k = np.searchsorted(out_t, a[:, 1] - period_s / 2)
        ok = k < len(out_t)
        delays.append((out_ns[k[ok]] - a[ok, 0].astype(np.int64)) / 1e6)
    return np.concatenate(delays)


def measure_latencies_ms(
    arrivals: dict[str, list[tuple[int, float]]], updates: list[tuple[int, float]]
) -> np.ndarray:
    """For every measures update, the delay (ms) from the arrival of the last notification it
    needed (the latest, over sensors, of the first notification covering its window end)."""
    delays = []
    for wall_ns, end_s in updates:
        needed = []
        for per_sensor in arrivals.values():
            a = np.array(per_sensor, dtype=float)
            k = int(np.searchsorted(a[:, 1], end_s - 1e-9))
            if k < len(a):
                needed.append(a[k, 0])
        if needed:
            delays.append((wall_ns - max(needed)) / 1e6)
    return np.array(delays)
