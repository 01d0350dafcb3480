"""Short versions of benchmarks/soak.py and benchmarks/latency.py, as regression tests."""

from __future__ import annotations

import asyncio

import numpy as np

from benchmarks.latency_probe import latencies_ms
from benchmarks.soak_check import check
from benchmarks.soak_harness import run_soak
from benchmarks.soak_plan import SoakPlan
from engine.factory import open_source, session_runner
from engine.probe import Probe
from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors.placements import Placement
from sensors.processing import SessionSettings


def test_a_short_soak_under_every_fault_loses_nothing(tmp_path):
    plan = SoakPlan.scaled(30.0, realtime=False)
    run = asyncio.run(run_soak(plan, tmp_path))
    report = check(run)
    assert report.problems == []
    # The faults really happened: bursts, drops, a storm, a dead sensor, a full disk, a failed write.
    assert all(n > 0 for n in report.samples_flagged_lost.values())
    assert {p.value for p, _ in plan.disconnects} <= {k for k, v in report.reconnections.items() if v >= 1}
    assert report.lost_sensors == [Placement.LEFT_THIGH.value]
    assert report.samples_spoiled[Placement.PELVIS.value] > 0 and run.decode_errors[Placement.PELVIS] > 0
    assert run.writer_held_back == 1 and run.rescued
    assert report.measures_compared >= 15


def test_every_notification_reaches_a_frame_and_the_measures(tmp_path):
    """No data is ever stuck: each notification's newest sample is covered by a later frame,
    and each running-measures update follows the notifications it needs (no timing bounds:
    those are the benchmark's job)."""
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, realtime=True),
        processing=SessionSettings(rate_hz=200.0, duration_s=13.0),  # the rate, given once
    )
    probe = Probe()

    async def run() -> None:
        async with open_source(spec, "quiet-stance", 14.0) as opened:
            await session_runner(spec, opened.source, [probe]).run()

    asyncio.run(run())
    arrivals = {p: [a for a in v if a[1] < 12.5] for p, v in probe.arrivals.items()}
    delays = latencies_ms(arrivals, probe.frames, 1 / 200)
    assert len(delays) == sum(len(v) for v in arrivals.values())  # every notification covered
    assert np.all(delays >= 0)  # a frame never precedes the data it holds
    assert len(probe.measures) >= 2
