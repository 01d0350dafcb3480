"""Faults where they arrive, then the file read back: seeded random mixes of what `Impairments`
offers — duplicated, dropped (radio loss bursts), reordered and corrupted notifications, a sensor
vanishing and coming back — given to virtual BLE sensors on bumble's in-process link, a real
session recorded through the factory, and the saved file read back with h5py (and the reader)
against what the sensors sent: nothing sent and accepted is lost, nothing is there twice, order is
kept, every sample missing is flagged as lost, and every fault is accounted for in the file's event
log."""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any

import h5py
import numpy as np
import pytest

from engine.factory import Impairments, record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from sensors.ble.virtual.base import FaultPlan
from sensors.constants import GRAVITY_M_S2
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.processing.session import NullSink
from sensors.samples import SampleBlock
from sensors.simulator.radio import RadioSettings

PAIR = (Placement.LUMBAR, Placement.PELVIS)
SECONDS = 5.0
#: One count of the stabmon encoding: acc (m/s²), gyr (rad/s).
LSB = (8 * GRAVITY_M_S2 / 32768, np.radians(2000 / 32768))
KINDS = ("duplicate", "drop", "reorder", "corrupt", "vanish")


def fault_mix(seed: int) -> tuple[dict[Placement, FaultPlan], dict[Placement, RadioSettings], dict]:
    """A random mix of faults per sensor (each kind with probability 0.6, at least one), seeded."""
    rng = np.random.default_rng(seed)
    faults, radios, chosen = {}, {}, {}
    for placement in PAIR:
        kinds = [k for k in KINDS if rng.random() < 0.6] or [KINDS[rng.integers(len(KINDS))]]
        chosen[placement] = kinds
        plan: dict[str, Any] = {}
        if "duplicate" in kinds:
            plan["duplicate_every"] = int(rng.integers(3, 12))
        if "reorder" in kinds:
            plan["reorder_every"] = int(rng.integers(4, 15))
        if "corrupt" in kinds:
            plan["garbage_every"] = int(rng.integers(5, 25))
        if "vanish" in kinds:
            plan["disconnect_at_s"] = (float(rng.uniform(1.5, SECONDS - 2.5)),)
            plan["outage_s"] = float(rng.uniform(0.5, 1.2))
        faults[placement] = FaultPlan(**plan)
        radio = RadioSettings()
        if "drop" in kinds:
            radio = RadioSettings(
                burst_start_probability=float(rng.uniform(0.01, 0.05)),
                mean_burst_packets=float(rng.uniform(1.0, 4.0)),
            )
        radios[placement] = radio
    return faults, radios, chosen


class Accepted(NullSink):
    """Every block the runner accepted (delivered to its sinks, the recording's among them)."""

    def __init__(self) -> None:
        self.blocks: list[SampleBlock] = []

    def on_samples(self, block: SampleBlock, session_time_s: np.ndarray) -> None:
        self.blocks.append(block)


async def _session(tmp_path, seed: int):
    faults, radios, chosen = fault_mix(seed)
    spec = SessionSpec(
        SourceSpec(SourceKind.VIRTUAL_BLE, placements=PAIR, seed=seed, realtime=False, scan_timeout_s=1.5),
        processing=SessionSettings(rate_hz=100.0, duration_s=SECONDS),
    )
    accepted = Accepted()
    impairments = Impairments(radio=radios, faults=faults, keep_sent=True)
    done = await asyncio.wait_for(
        record(
            spec,
            "FUZ1",
            tmp_path / "fuzz.h5",
            "quiet-stance",
            SECONDS,
            sinks=[accepted],
            impairments=impairments,
        ),
        120,
    )
    return done, accepted, chosen


def _seeds() -> list[int]:
    """The seeds run: two whose mixes hold every kind of fault between them, or
    STABMON_FUZZ_SEEDS="FIRST-LAST" for a longer search (each seed a 5-s session, ~5 s)."""
    wanted = os.environ.get("STABMON_FUZZ_SEEDS")
    if not wanted:
        return [2, 5]
    first, _, last = wanted.partition("-")
    return list(range(int(first), int(last or first) + 1))


@pytest.mark.parametrize("seed", _seeds())
def test_faults_where_they_arrive_leave_a_file_that_accounts_for_every_sample(tmp_path, seed):
    done, accepted, chosen = asyncio.run(_session(tmp_path, seed))
    recording = read_recording(done.path)
    assert not recording.left_open
    tolerance = np.repeat(np.array(LSB) * 0.51 + 1e-9, 3)
    link_events = [e for e in recording.events if e.source == "link"]
    with h5py.File(done.path, "r") as f:
        for placement in PAIR:
            group = f[f"acquisition/{placement.value}"]
            sequence = group["sequence"][()]
            values = np.concatenate([group["acc_m_s2"][()], group["gyr_rad_s"][()]], axis=1)
            lost_before = group["lost_before"][()]
            # Nothing accepted is lost, nothing is there twice, the order is kept.
            taken = [b for b in accepted.blocks if b.placement is placement]
            np.testing.assert_array_equal(sequence, np.concatenate([b.sequence for b in taken]))
            assert np.all(np.diff(sequence) > 0), (placement, chosen[placement])
            # Every sample in the file was sent, as it was sent.
            sent = done.opened.fleet[placement].sent_blocks
            sent_sequence = np.concatenate([b.sequence for b in sent])
            sent_values = np.concatenate([np.concatenate([b.acc_m_s2, b.gyr_rad_s], axis=1) for b in sent])
            assert np.all(np.diff(sent_sequence) > 0)  # the sent log is the ground truth: once each
            where = np.searchsorted(sent_sequence, sequence)
            assert np.all(sent_sequence[np.minimum(where, len(sent_sequence) - 1)] == sequence), placement
            assert np.all(np.abs(sent_values[where] - values) <= tolerance), placement
            # Every sample missing between the first and the last kept is flagged as lost.
            np.testing.assert_array_equal(lost_before[1:], np.diff(sequence) - 1)
            assert len(recording.samples[placement]) == len(sequence)
            # The faults are in the event log: a vanished sensor's loss and return, and what the
            # link kept out (malformed, duplicated, out-of-order notifications) with its counts.
            health = done.report.health[placement]
            mine = [e.label for e in link_events if e.label.startswith(f"{placement.value} ")]
            if "vanish" in chosen[placement]:
                assert any("reconnecting" in label or "lost" in label for label in mine), mine
            kept_out = {
                "malformed notifications": health.decode_errors,
                "duplicated blocks": health.duplicates,
                "out-of-order blocks": health.out_of_order,
            }
            summary = [label for label in mine if "kept out" in label]
            for what, count in kept_out.items():
                if count:
                    found = [re.search(rf"(\d+) {what}", label) for label in summary]
                    assert any(m and int(m.group(1)) == count for m in found), (what, count, summary)
            if "corrupt" in chosen[placement]:
                assert health.decode_errors > 0
            plan = fault_mix(seed)[0][placement]
            if plan.duplicate_every and (not plan.reorder_every or plan.duplicate_every % plan.reorder_every):
                assert health.duplicates > 0  # (a notification held back to reorder is not sent twice)
