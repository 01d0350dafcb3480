"""A protocol's next repetition does not start while a sensor it needs is dead (walkthrough s11
#6: the dual-task repetition ran its 30 s with the lumbar sensor reconnecting, "Motor: Not
measured"): it waits, saying why, with no countdown and nothing recorded, until the sensor
streams again or the clinician skips it."""

from __future__ import annotations

import asyncio
import math

from engine import work
from engine.factory import Impairments
from engine.messages import Notice, Phase, ProtocolPlan, RecordingFinished, StatusReport
from engine.spec import SessionSpec, SourceKind, SourceSpec
from engine.work import SessionWork
from recordings import read_recording
from sensors.ble.virtual.base import FaultPlan
from sensors.placements import Placement
from sensors.processing.session import NullSink, SessionSettings


def _run(tmp_path, monkeypatch, fault: FaultPlan, skip_after: int | None):
    """Two 3-s repetitions on virtual BLE sensors in real time, the pelvis sensor impaired by
    `fault` (world time, s: the first repetition runs from about 0 to 3 s); the clinician presses
    Skip repetition after `skip_after` status reports of a waiting repetition (None: never)."""
    impaired = Impairments(faults={Placement.PELVIS: fault})
    opened = work.open_shared_source
    monkeypatch.setattr(work, "open_shared_source", lambda spec, drill, _: opened(spec, drill, impaired))
    spec = SessionSpec(
        source=SourceSpec(kind=SourceKind.VIRTUAL_BLE, seed=3, realtime=True, scan_timeout_s=1.0),
        processing=SessionSettings(rate_hz=50.0),
    )
    plan = ProtocolPlan(
        "t", "two stances", "quiet-stance", "stand", task_s=2.0, repetitions=2, rest_s=0.2,
        get_ready_s=0.0, calibration_s=1.0, conditions=("single", "dual"),
    )  # fmt: skip
    reports: list = []

    def send(report) -> None:
        reports.append(report)
        waiting = isinstance(report, StatusReport) and report.status.phase is Phase.WAITING_FOR_SENSORS
        if waiting and skip_after is not None and sum(map(_waiting, reports)) == skip_after:
            worker.skip_wait_requested.set()  # the clinician read why, then pressed Skip repetition (Space)

    worker = SessionWork(send, NullSink())
    asyncio.run(worker.run_protocol(spec, plan, "W01", "", tmp_path))
    finished = [r for r in reports if isinstance(r, RecordingFinished)]
    waited = [r.status for r in reports if _waiting(r)]
    notices = [r.text for r in reports if isinstance(r, Notice)]
    return finished, waited, notices


def _waiting(report: object) -> bool:
    return isinstance(report, StatusReport) and report.status.phase is Phase.WAITING_FOR_SENSORS


def test_a_repetition_waits_for_a_dead_sensor_and_the_clinician_can_skip_it(tmp_path, monkeypatch):
    # The pelvis sensor's battery dies during the first repetition's task.
    finished, waited, notices = _run(tmp_path, monkeypatch, FaultPlan(dies_at_s=2.5), skip_after=5)
    assert [f.repetition for f in finished] == [1]  # the second was never recorded
    assert len(list(tmp_path.rglob("*.h5"))) == 1
    assert len(waited) >= 5 and all(
        s.repetition == 2 and s.recording is None and math.isnan(s.remaining_s) for s in waited
    )
    told = [t for t in notices if "Repetition 2 waits for the sensors" in t]
    assert len(told) == 1 and "pelvis sensor" in told[0], notices
    assert any("Repetition 2 was skipped, not recorded" in t for t in notices), notices


def test_a_repetition_starts_once_its_sensor_streams_again(tmp_path, monkeypatch):
    # The pelvis sensor drops its link at the first repetition's end, unreachable for 2.5 s.
    fault = FaultPlan(disconnect_at_s=(2.8,), outage_s=2.5)
    finished, waited, notices = _run(tmp_path, monkeypatch, fault, skip_after=None)
    assert [f.repetition for f in finished] == [1, 2] and waited
    assert any("The sensors stream again: repetition 2 starts" in t for t in notices), notices
    second = read_recording(finished[1].path)
    pelvis = second.samples[Placement.PELVIS]
    assert len(pelvis) > 0.9 * 50 * 3.0  # the whole repetition, with the pelvis sensor
