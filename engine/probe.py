"""Latency probe: when each notification reached the host and when each frame and measures
update was handed to the sinks, in the engine process (host monotonic clock, shared by every
process on the machine). Used by benchmarks/latency.py and its short regression test."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from sensors.processing.live_measures import RunningMeasures
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import NullSink
from sensors.samples import Frame, SampleBlock


@dataclass
class Probe(NullSink):
    """arrivals: placement → [(host ns, newest sample's session time s)] per notification block;
    frames / measures: [(monotonic ns when handed on, newest frame time / window end s)]."""

    arrivals: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    frames: list[tuple[int, float]] = field(default_factory=list)
    measures: list[tuple[int, float]] = field(default_factory=list)

    def on_samples(self, block: SampleBlock, session_time_s: np.ndarray) -> None:
        self.arrivals.setdefault(block.placement.value, []).append(
            (int(block.host_receive_ns[-1]), float(session_time_s[-1]))
        )

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        self.frames.append((time.monotonic_ns(), float(frame.time_s[-1])))

    def on_measures(self, measures: RunningMeasures) -> None:
        self.measures.append((time.monotonic_ns(), measures.time_s))
