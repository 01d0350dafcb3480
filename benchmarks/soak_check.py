"""The soak's checks (`check`): every sample the sensors sent whole is in the file, every sample
missing from the file is flagged as a gap where it is missing, the faults really happened,
memory stayed flat, and the live running measures equal those of an offline replay of the file.
Part of the soak harness (`benchmarks/soak_harness.py`), not of the product."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from benchmarks.soak_harness import SoakRun
from benchmarks.soak_plan import PLACEMENTS
from recordings import read_recording
from recordings.analysis import replay
from recordings.reader import Recording
from sensors.placements import Placement
from sensors.source import LinkState


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
