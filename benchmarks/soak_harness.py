"""A simulated clinic session under faults, end to end (`run_soak`); the checks that nothing was
lost are in `benchmarks/soak_check.py`.

Four virtual stabmon sensors on bumble's in-process link, opened by `engine.factory` from the
plan's specification (`benchmarks/soak_plan.py`), record a long quiet-stance session into HDF5
through the factory's `Recording`, while:
  - every sensor's radio loses packets in bursts (Gilbert–Elliott);
  - three sensors drop out of range once each and come back (reconnection);
  - one sensor's battery dies for good (it is reported lost; the session goes on);
  - one sensor sends a storm of malformed packets;
  - the disk is full for a while (the writer holds the data in memory);
  - a write to the recording really fails (the file-size limit stands in for a disk another
    program filled), and the writer continues in a rescue file that replaces it on close.
The sensors' faults go in through `engine.factory.Impairments`; the disk's and the failing
write through `benchmarks/soak_writer_faults.py`.

A harness for `benchmarks/soak.py` and its short test, not part of the product (it uses POSIX-only
`resource` and signals).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import numpy as np

from benchmarks.soak_plan import PLACEMENTS, CompactSentLog, SoakPlan
from benchmarks.soak_writer_faults import Disk, FailingWrite, rss_bytes
from engine.factory import Recording, open_source, recording_metadata
from recordings.writer import rescue_path
from sensors.placements import Placement
from sensors.processing.live_measures import RunningMeasures
from sensors.processing.session import NullSink
from sensors.samples import SampleBlock
from sensors.source import StatusChange


class SoakSink(NullSink):
    """Keeps the live running measures and status changes, samples memory, drives the disk and
    the failing write (`failing_write`, set once the recording's writer exists)."""

    def __init__(self, plan: SoakPlan, disk: Disk, memory_every_s: float, harness_bytes: Callable[[], int]):
        self.plan = plan
        self.disk = disk
        self.failing_write: FailingWrite | None = None
        self.measures: list[RunningMeasures] = []
        self.status: list[StatusChange] = []
        self.memory: list[tuple[float, int]] = []  # (session s, RSS − harness bytes)
        self.memory_every_s = memory_every_s
        self.harness_bytes = harness_bytes
        self.progress: Callable[[float], None] | None = None

    def on_samples(self, block: SampleBlock, session_time_s: np.ndarray) -> None:
        now = float(session_time_s[-1])
        window = self.plan.disk_full_s
        if window is not None:
            inside = window[0] <= now < window[1]
            if inside != self.disk.full.is_set():
                (self.disk.full.set if inside else self.disk.full.clear)()
        failing = self.failing_write
        if failing is not None and self.plan.write_fails_at_s is not None:
            if not failing.armed and now >= self.plan.write_fails_at_s:
                failing.arm()
            failing.lift_once_rescued()
        if not self.memory or now - self.memory[-1][0] >= self.memory_every_s:
            self.memory.append((now, rss_bytes() - self.harness_bytes()))
            if self.progress is not None:
                self.progress(now / self.plan.seconds)

    def on_measures(self, measures: RunningMeasures) -> None:
        self.measures.append(measures)

    def on_status(self, status: StatusChange) -> None:
        self.status.append(status)


@dataclass
class SoakRun:
    """What a soak produced: the file, the sensors' sent logs, the sink's observations."""

    plan: SoakPlan
    path: Path
    sent: dict[Placement, CompactSentLog]
    spoiled: dict[Placement, CompactSentLog]
    sink: SoakSink
    wall_s: float
    writer_held_back: int
    decode_errors: dict[Placement, int]
    rescued: bool = False  # the writer continued in a rescue file after a failed write


def soak_path(plan: SoakPlan, folder: Path) -> Path:
    """The soak's file in `folder`, with what an earlier soak of the same plan left removed."""
    path = folder / f"soak-{'realtime' if plan.realtime else 'fast'}-{plan.seconds:.0f}s.h5"
    for leftover in (path, path.with_name(path.name + ".damaged"), rescue_path(path)):
        leftover.unlink(missing_ok=True)
    return path


async def run_soak(plan: SoakPlan, folder: Path, progress: Callable[[float], None] | None = None) -> SoakRun:
    """Record the session of `plan` into `folder` under its faults."""
    started = time.monotonic()
    spec = plan.spec()
    async with open_source(spec, plan.drill(), impairments=plan.impairments()) as opened:
        sent = {p: cast(CompactSentLog, sensor.sent_blocks) for p, sensor in opened.fleet.items()}
        spoiled = {p: cast(CompactSentLog, sensor.spoiled_blocks) for p, sensor in opened.fleet.items()}
        assert set(sent) == set(PLACEMENTS)
        harness = lambda: sum(log.nbytes for log in (*sent.values(), *spoiled.values()))  # noqa: E731
        disk = Disk()
        sink = SoakSink(plan, disk, max(1.0, plan.seconds / 200), harness)
        sink.progress = progress
        metadata = recording_metadata(spec, "SOAK01", opened, "soak test", {"harness": "soak"})
        path = soak_path(plan, folder)
        recording = Recording(
            spec, opened.source, replace(metadata, drill="quiet-stance"), path, [sink], free_space=disk.free
        )
        writer = recording.writer
        failing = sink.failing_write = FailingWrite(writer) if plan.write_fails_at_s is not None else None
        try:
            report = await recording.runner.run()
        finally:
            while failing is not None and failing.armed and not failing.done and writer.rescue_file is None:
                await asyncio.sleep(0.05)  # the failing write comes with the next flush
            if failing is not None:
                failing.lift()
            await recording.close()
    return SoakRun(
        plan,
        path,
        sent,
        spoiled,
        sink,
        time.monotonic() - started,
        writer.held_back_episodes,
        {p: health.decode_errors for p, health in report.health.items()},
        writer.rescue_file is not None,
    )
