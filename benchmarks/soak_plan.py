"""The soak's session and its faults: `SoakPlan` says when each fault strikes, and gives the
session's specification and the sensors' impairments for `engine.factory`; `CompactSentLog` is
what each virtual sensor keeps of the blocks it sent (the ground truth the file is checked
against). Part of the soak harness (`benchmarks/soak_harness.py`), not of the product."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.factory import Impairments
from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors.ble.virtual.base import FaultPlan
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.samples import SampleBlock
from sensors.simulator import DrillOptions, make_drill
from sensors.simulator.drills.base import Drill
from sensors.simulator.radio import RadioSettings

PLACEMENTS = (Placement.LUMBAR, Placement.PELVIS, Placement.THORAX, Placement.LEFT_THIGH)


@dataclass(frozen=True)
class SoakPlan:
    """The session and its faults; times are session seconds. disconnects: (sensor, when) it
    drops out of range for outage_s; dies: (sensor, when) its battery dies for good; storm:
    (sensor, from, to) it sends malformed packets; disk_full_s: (from, to) the disk is full;
    write_fails_at_s: a write to the recording fails for real; give_up_after_s: a sensor silent
    this long is reported lost."""

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

    def spec(self) -> SessionSpec:
        """Four virtual stabmon sensors on the in-process radio, recording `seconds` of session
        time at `rate_hz` (every live measure: no drill in the processing settings)."""
        source = SourceSpec(
            SourceKind.VIRTUAL_BLE,
            placements=PLACEMENTS,
            seed=self.seed,
            realtime=self.realtime,
            scan_timeout_s=1.5,
            give_up_after_s=self.give_up_after_s,
        )
        return SessionSpec(source, processing=SessionSettings(rate_hz=self.rate_hz, duration_s=self.seconds))

    def drill(self) -> Drill:
        """Quiet stance, a little longer than the session (the sensors never run out of data)."""
        return make_drill("quiet-stance", DrillOptions(duration_s=self.seconds + 5.0, seed=self.seed))

    def impairments(self) -> Impairments:
        """The sensors' faults: bursts of lost packets on every radio, the drops, the dead
        battery and the storm; each sensor keeps what it sent in a `CompactSentLog`."""
        faults = {p: FaultPlan(outage_s=self.outage_s) for p in PLACEMENTS}
        for placement, at in self.disconnects:
            faults[placement] = replace(
                faults[placement], disconnect_at_s=(*faults[placement].disconnect_at_s, at)
            )
        if self.dies is not None:
            faults[self.dies[0]] = replace(faults[self.dies[0]], dies_at_s=self.dies[1])
        if self.storm is not None:
            placement, start, end = self.storm
            faults[placement] = replace(faults[placement], storm_s=(start, end))
        radio = RadioSettings(burst_start_probability=self.burst_start_probability, mean_burst_packets=4.0)
        return Impairments(radio=radio, faults=faults, keep_sent=True, sent_log=CompactSentLog)


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
        """Sequence numbers of the samples sent, shape (n,)."""
        return self._sequence[: self.samples].copy()

    def accelerations(self) -> np.ndarray:
        """Accelerometer of the samples sent, m/s², shape (n, 3)."""
        return self._acc[: self.samples].copy()
