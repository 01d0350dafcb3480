"""A protocol's next repetition does not start while a sensor it needs is dead (walkthrough s11
#6: the dual-task repetition ran its 30 s with the lumbar sensor reconnecting, "Motor: Not
measured"): it waits, saying why, with no countdown and nothing recorded, until the clinician
skips it (or the sensor streams again)."""

from __future__ import annotations

import asyncio
import math

from engine import work
from engine.factory import Impairments
from engine.messages import Notice, Phase, ProtocolPlan, RecordingFinished, StatusReport
from engine.spec import SessionSpec, SourceKind, SourceSpec
from engine.work import SessionWork
from sensors.ble.virtual.base import FaultPlan
from sensors.placements import Placement
from sensors.processing.session import NullSink, SessionSettings


def test_a_repetition_waits_for_a_dead_sensor_and_the_clinician_can_skip_it(tmp_path, monkeypatch):
    # The pelvis sensor's battery dies during the first repetition's task (world time 2.5 s).
    dies = Impairments(faults={Placement.PELVIS: FaultPlan(dies_at_s=2.5)})
    opened = work.open_shared_source
    monkeypatch.setattr(work, "open_shared_source", lambda spec, drill, _watched: opened(spec, drill, dies))
    spec = SessionSpec(
        source=SourceSpec(kind=SourceKind.VIRTUAL_BLE, seed=3, realtime=True, scan_timeout_s=1.0),
        processing=SessionSettings(rate_hz=50.0),
    )
    plan = ProtocolPlan(
        "t", "two stances", "quiet-stance", "stand", task_s=2.0, repetitions=2, rest_s=0.2,
        get_ready_s=0.0, calibration_s=1.0, conditions=("single", "dual"),
    )  # fmt: skip
    reports: list = []
    waited: list = []

    def send(report) -> None:
        reports.append(report)
        if isinstance(report, StatusReport) and report.status.phase is Phase.WAITING_FOR_SENSORS:
            waited.append(report.status)
            if len(waited) == 5:  # the clinician reads why, then presses Go now (Space)
                worker.skip_wait_requested.set()

    worker = SessionWork(send, NullSink())
    asyncio.run(worker.run_protocol(spec, plan, "W01", "", tmp_path))
    finished = [r for r in reports if isinstance(r, RecordingFinished)]
    assert [f.repetition for f in finished] == [1]  # the second was never recorded
    assert len(list(tmp_path.rglob("*.h5"))) == 1
    assert waited and all(
        s.repetition == 2 and s.recording is None and math.isnan(s.remaining_s) for s in waited
    )
    notices = [r.text for r in reports if isinstance(r, Notice)]
    told = [t for t in notices if "repetition 2 waits for the sensors" in t]
    assert len(told) == 1 and "pelvis sensor" in told[0], notices
    assert any("repetition 2 was skipped, not recorded" in t for t in notices), notices
