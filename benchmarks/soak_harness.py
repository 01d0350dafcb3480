"""A simulated clinic session under faults, end to end, and the checks that nothing was lost.

Four virtual stabmon sensors on bumble's in-process link, reached through bleak and `BleSource`,
record a long quiet-stance session through `SessionRunner` into HDF5, while:
  - every sensor's radio loses packets in bursts (Gilbert–Elliott);
  - three sensors drop out of range once each and come back (reconnection);
  - one sensor's battery dies for good (it is reported lost; the session goes on);
  - one sensor sends a storm of malformed packets;
  - the disk is full for a while (the writer holds the data in memory);
  - a write to the recording really fails (the file-size limit stands in for a disk another
    program filled), and the writer continues in a rescue file that replaces it on close.
Afterwards (`check`): every sample the sensors sent whole is in the file, every sample missing
from the file is flagged as a gap where it is missing, memory stayed flat, and the live running
measures equal those of an offline replay of the file.

A harness for `benchmarks/soak.py` and its short test, not part of the product (it uses POSIX-only
`resource` and signals).
"""

from __future__ import annotations

import asyncio
import math
import resource
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path

import numpy as np

from engine.factory import Recording as EngineRecording
from engine.spec import SessionSpec
from recordings import RecordingWriter, SessionMetadata, read_recording
from recordings.analysis import replay
from recordings.reader import Recording
from recordings.writer import MIN_FREE_BYTES, rescue_path
from sensors.ble.link import BleSource, LinkSettings
from sensors.ble.virtual.base import FaultPlan
from sensors.ble.virtual.fleet import attach_fleet
from sensors.ble.virtual.radio import VirtualRadio
from sensors.identity import SensorFamily
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.processing.live_measures import RunningMeasures
from sensors.processing.session import NullSink
from sensors.samples import SampleBlock
from sensors.scripted import with_scripted_events
from sensors.simulator import DrillOptions, SimulatedSensorSettings, make_drill
from sensors.simulator.radio import RadioSettings
from sensors.source import LinkState, StatusChange

PLACEMENTS = (Placement.LUMBAR, Placement.PELVIS, Placement.THORAX, Placement.LEFT_THIGH)


@dataclass(frozen=True)
class SoakPlan:
    """The session and its faults; times are session seconds."""

    seconds: float
    realtime: bool
    rate_hz: float = 100.0
    seed: int = 7
    burst_start_probability: float = 0.01
    disconnects: tuple[tuple[Placement, float], ...] = ()
    outage_s: float = 3.0
    dies: tuple[Placement, float] | None = None
    storm: tuple[Placement, float, float] | None = None
    disk_full_s: tuple[float, float] | None = None
    write_fails_at_s: float | None = None
    give_up_after_s: float = 20.0

    @staticmethod
    def scaled(seconds: float, realtime: bool) -> SoakPlan:
        """The standard fault schedule spread over a session of `seconds`."""
        at = [seconds * f for f in (0.2, 0.45, 0.7)]
        return SoakPlan(
            seconds=seconds,
            realtime=realtime,
            disconnects=((Placement.PELVIS, at[0]), (Placement.THORAX, at[1]), (Placement.LUMBAR, at[2])),
            outage_s=min(5.0, seconds * 0.04),
            dies=(Placement.LEFT_THIGH, seconds * 0.6),
            storm=(Placement.PELVIS, seconds * 0.3, seconds * 0.3 + min(10.0, seconds * 0.05)),
            disk_full_s=(seconds * 0.55, seconds * 0.55 + min(30.0, seconds * 0.1)),
            write_fails_at_s=seconds * 0.8,
            give_up_after_s=min(20.0, max(2.0, seconds * 0.03)),
        )


class CompactSentLog(list[SampleBlock]):
    """Stands in for a virtual sensor's `sent_blocks`: keeps only sequence numbers and the
    accelerometer (float32) in arrays that grow by doubling, 20 bytes a sample and no per-block
    objects, so ground truth for an hour stays small and its size is known (`nbytes`)."""

    def __init__(self) -> None:
        super().__init__()
        self._sequence = np.zeros(4096, np.int64)
        self._acc = np.zeros((4096, 3), np.float32)
        self.samples = 0

    def append(self, block: SampleBlock) -> None:
        end = self.samples + len(block)
        if end > len(self._sequence):
            size = max(end, 2 * len(self._sequence))
            self._sequence = np.resize(self._sequence, size)
            self._acc = np.resize(self._acc, (size, 3))
        self._sequence[self.samples : end] = block.sequence
        self._acc[self.samples : end] = block.acc_m_s2
        self.samples = end

    @property
    def nbytes(self) -> int:
        """Memory the log holds, bytes (its arrays' capacity)."""
        return self._sequence.nbytes + self._acc.nbytes

    def sequences(self) -> np.ndarray:
        return self._sequence[: self.samples].copy()

    def accelerations(self) -> np.ndarray:
        return self._acc[: self.samples].copy()


class Disk:
    """Free space as the writer sees it: none while session time is inside the full window."""

    def __init__(self) -> None:
        self.full = threading.Event()
        self.held_back = 0

    def free(self, folder: Path) -> int:
        return MIN_FREE_BYTES - 1 if self.full.is_set() else 100 * MIN_FREE_BYTES


def rss_bytes() -> int:
    """Resident memory of this process now, bytes (Linux /proc; peak RSS elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class FailingWrite:
    """Makes the recording's next write that grows it fail for real: the process's file-size
    limit is set just above the file's size, and lifted again as soon as the writer has switched
    to its rescue file (or at the end). SIGXFSZ is ignored meanwhile, so the write fails with
    EFBIG instead of killing the process; only the main thread may change that."""

    def __init__(self, writer: RecordingWriter) -> None:
        self.writer = writer
        self.armed = self.done = False
        self._limits = resource.getrlimit(resource.RLIMIT_FSIZE)
        self._signal = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def arm(self) -> None:
        size = self.writer.path.stat().st_size
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 1, self._limits[1]))
        self.armed = True

    def lift_once_rescued(self) -> None:
        if self.armed and not self.done and self.writer.rescue_file is not None:
            self.lift()

    def lift(self) -> None:
        if not self.done:
            resource.setrlimit(resource.RLIMIT_FSIZE, self._limits)
            signal.signal(signal.SIGXFSZ, self._signal)
            self.done = True


class SoakSink(NullSink):
    """Keeps the live running measures and status changes, samples memory, drives the disk."""

    def __init__(
        self,
        plan: SoakPlan,
        disk: Disk,
        memory_every_s: float,
        harness_bytes: Callable[[], int],
        failing_write: FailingWrite | None = None,
    ):
        self.plan = plan
        self.disk = disk
        self.failing_write = failing_write
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


async def run_soak(plan: SoakPlan, folder: Path, progress: Callable[[float], None] | None = None) -> SoakRun:
    """Record the session of `plan` into `folder` under its faults."""
    started = time.monotonic()
    radio = VirtualRadio(realtime=plan.realtime)
    try:
        drill = make_drill("quiet-stance", DrillOptions(duration_s=plan.seconds + 5.0, seed=plan.seed))
        faults = {p: FaultPlan(outage_s=plan.outage_s) for p in PLACEMENTS}
        for placement, at in plan.disconnects:
            faults[placement] = replace(
                faults[placement], disconnect_at_s=(*faults[placement].disconnect_at_s, at)
            )
        if plan.dies is not None:
            faults[plan.dies[0]] = replace(faults[plan.dies[0]], dies_at_s=plan.dies[1])
        if plan.storm is not None:
            placement, start, end = plan.storm
            faults[placement] = replace(faults[placement], storm_s=(start, end))
        radio_settings = RadioSettings(
            burst_start_probability=plan.burst_start_probability, mean_burst_packets=4.0
        )
        fleet = await attach_fleet(
            radio,
            drill,
            PLACEMENTS,
            SensorFamily.STABMON,
            SimulatedSensorSettings(rate_hz=plan.rate_hz, radio=radio_settings),
            seed=plan.seed,
            faults=faults,
        )
        sent = {p: CompactSentLog() for p in PLACEMENTS}
        spoiled = {p: CompactSentLog() for p in PLACEMENTS}
        for placement, sensor in fleet.items():
            sensor.sent_blocks = sent[placement]
            sensor.spoiled_blocks = spoiled[placement]
        link = LinkSettings(rate_hz=plan.rate_hz, scan_timeout_s=1.5, give_up_after_s=plan.give_up_after_s)
        ble = BleSource(
            {p: s.address for p, s in fleet.items()}, link, backend=radio.backend(), clock=radio.clock
        )
        source = with_scripted_events(ble, drill.events())
        await source.start()
        disk = Disk()
        spec = SessionSpec(processing=SessionSettings(rate_hz=plan.rate_hz, duration_s=plan.seconds))
        metadata = SessionMetadata(
            "SOAK01",
            "quiet-stance",
            spec.processing,
            "soak test",
            {"source": "soak"},
            spec_json=spec.to_json(),
        )
        path = folder / f"soak-{'realtime' if plan.realtime else 'fast'}-{plan.seconds:.0f}s.h5"
        if path.exists():
            path.unlink()
        for leftover in (path.with_name(path.name + ".damaged"), rescue_path(path)):
            leftover.unlink(missing_ok=True)
        recording = EngineRecording(spec, source, metadata, path, free_space=disk.free)
        writer = recording.writer
        failing = FailingWrite(writer) if plan.write_fails_at_s is not None else None
        harness = lambda: sum(log.nbytes for log in (*sent.values(), *spoiled.values()))  # noqa: E731
        sink = SoakSink(plan, disk, max(1.0, plan.seconds / 200), harness, failing)
        sink.progress = progress
        recording.runner.sinks.append(sink)
        try:
            await recording.runner.run()
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
            dict(ble.decode_errors()),
            writer.rescue_file is not None,
        )
    finally:
        await radio.close()


@dataclass
class SoakReport:
    """The checks' figures; `problems` is empty when everything held."""

    samples_sent: dict[str, int] = field(default_factory=dict)
    samples_recorded: dict[str, int] = field(default_factory=dict)
    samples_spoiled: dict[str, int] = field(default_factory=dict)
    samples_flagged_lost: dict[str, int] = field(default_factory=dict)
    reconnections: dict[str, int] = field(default_factory=dict)
    lost_sensors: list[str] = field(default_factory=list)
    memory_growth_mb: float = math.nan
    measures_compared: int = 0
    problems: list[str] = field(default_factory=list)


def check(run: SoakRun, acc_tolerance_m_s2: float = 0.005) -> SoakReport:
    """Everything sent is recorded or flagged; memory flat; live measures = offline replay."""
    report = SoakReport()
    recording = read_recording(run.path)
    for placement in PLACEMENTS:
        _check_samples(recording, placement, run, report, acc_tolerance_m_s2)
        changes = [s for s in run.sink.status if s.placement is placement]
        report.reconnections[placement.value] = sum(
            1
            for a, b in pairwise(changes)
            if a.state is LinkState.RECONNECTING and b.state is LinkState.STREAMING
        )
        if any(s.state is LinkState.LOST for s in changes):
            report.lost_sensors.append(placement.value)
    for placement, at in run.plan.disconnects:
        if report.reconnections.get(placement.value, 0) < 1:
            report.problems.append(f"{placement.value}: no reconnection after the drop at {at:.0f} s")
    if run.plan.dies is not None and run.plan.dies[0].value not in report.lost_sensors:
        report.problems.append(f"{run.plan.dies[0].value}: dead sensor was never reported lost")
    if run.plan.disk_full_s is not None and run.writer_held_back < 1:
        report.problems.append("the writer never held data back while the disk was full")
    if run.plan.write_fails_at_s is not None and not run.rescued:
        report.problems.append("the write that should have failed did not (no rescue file)")
    _check_memory(run, report)
    _check_measures(run, recording, report)
    return report


def _check_samples(
    recording: Recording, placement: Placement, run: SoakRun, report: SoakReport, tolerance: float
) -> None:
    name = placement.value
    seq = recording.samples[placement].sequence.astype(np.int64)
    lost = recording.lost_before[placement].astype(np.int64)
    sent_seq = run.sent[placement].sequences()
    spoiled_seq = run.spoiled[placement].sequences()
    report.samples_sent[name] = len(sent_seq)
    report.samples_recorded[name] = len(seq)
    report.samples_spoiled[name] = len(spoiled_seq)
    report.samples_flagged_lost[name] = int(lost.sum())
    if len(seq) == 0:
        report.problems.append(f"{name}: nothing recorded")
        return
    if np.any(np.diff(seq) <= 0):
        report.problems.append(f"{name}: sequence numbers repeat or go back in the file")
    # Every gap in the file is flagged where it is, with its size.
    expected_lost = np.concatenate([[0], np.diff(seq) - 1])
    if not np.array_equal(lost, expected_lost):
        report.problems.append(f"{name}: gap flags do not match the gaps in the sequence")
    # Every sample sent whole before the session ended is in the file, with its values.
    whole = ~np.isin(sent_seq, spoiled_seq)
    due = whole & (sent_seq <= seq[-1]) & (sent_seq >= seq[0])
    present = np.isin(sent_seq[due], seq)
    if not present.all():
        report.problems.append(
            f"{name}: {int((~present).sum())} samples sent whole are missing from the file"
        )
    index = np.searchsorted(seq, sent_seq[due][present])
    acc_sent = run.sent[placement].accelerations()[due][present]
    error = np.abs(recording.samples[placement].acc_m_s2[index] - acc_sent)
    if len(error) and float(error.max()) > tolerance:
        report.problems.append(
            f"{name}: recorded accelerations differ from the sent ones by {error.max():.3g}"
        )
    # Nothing in the file that was not sent.
    if not np.isin(seq, sent_seq).all():
        report.problems.append(f"{name}: the file holds samples that were never sent")


def _check_memory(run: SoakRun, report: SoakReport, limit_mb: float = 40.0) -> None:
    """Flat: the process (less the harness's own sent logs) grows by less than limit_mb from the
    first fifth of the session to its end."""
    memory = run.sink.memory
    if len(memory) < 5:
        return
    t = np.array([m[0] for m in memory])
    rss = np.array([m[1] for m in memory], dtype=float) / 2**20
    settled = rss[t >= 0.2 * t[-1]]
    report.memory_growth_mb = float(np.median(settled[-max(1, len(settled) // 5) :]) - settled[0])
    if report.memory_growth_mb > limit_mb:
        report.problems.append(f"memory grew by {report.memory_growth_mb:.0f} MB over the session")


def _check_measures(run: SoakRun, recording: Recording, report: SoakReport) -> None:
    offline = replay(recording).collector.measures
    live = run.sink.measures
    report.measures_compared = len(live)
    if len(offline) != len(live):
        report.problems.append(f"{len(live)} live measure updates, {len(offline)} from the file")
        return
    for a, b in zip(live, offline, strict=True):
        if not _same(a, b):
            report.problems.append(f"live measures at {a.time_s:.1f} s differ from the offline replay")
            return


def _same(a: object, b: object) -> bool:
    if hasattr(a, "__dataclass_fields__"):
        return all(_same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    if isinstance(a, float):
        return a == b or (math.isnan(a) and isinstance(b, float) and math.isnan(b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b, equal_nan=True)
    return a == b
