"""Real-time virtual sensors run in a radio process of their own, as real sensors are: the
recording holds exactly what they sent; the process ends with the session (closed, or its engine
killed); and when it dies mid-session its sensors are lost like real ones, the file complete."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from engine.client import EngineClient
from engine.factory import Impairments, record
from engine.messages import (
    Calibrate,
    HealthReport,
    JobDone,
    Notice,
    ProtocolPlan,
    RecordingFinished,
    Severity,
    StartProtocol,
    StatusReport,
    Stop,
)
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from sensors.ble.virtual.remote import RemoteRadio
from sensors.constants import GRAVITY_M_S2
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.source import LinkState
from tests.processes import child_processes, wait_ended, wait_for_report

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the radio process needs POSIX socket pairs")

PAIR = (Placement.LUMBAR, Placement.PELVIS)
#: One count of the stabmon encoding: acc (m/s²), gyr (rad/s).
LSB = (8 * GRAVITY_M_S2 / 32768, np.radians(2000 / 32768))


def _spec(seconds: float, give_up_after_s: float = 120.0) -> SessionSpec:
    return SessionSpec(
        SourceSpec(
            SourceKind.VIRTUAL_BLE, placements=PAIR, seed=7, realtime=True, give_up_after_s=give_up_after_s
        ),
        processing=SessionSettings(rate_hz=100.0, duration_s=seconds),
    )


class AppendOnlyLog:
    """A sent log that can only be appended to, as the soak's compact log."""

    def __init__(self) -> None:
        self.blocks: list[object] = []

    def append(self, block: object) -> None:
        self.blocks.append(block)


def test_a_realtime_virtual_session_records_exactly_what_the_radio_process_sent(tmp_path):
    done = asyncio.run(
        record(
            _spec(5.0),
            "RAD1",
            tmp_path / "r.h5",
            "quiet-stance",
            10.0,
            impairments=Impairments(keep_sent=True, sent_log=AppendOnlyLog),
        )
    )
    radios = {sensor.radio for sensor in done.opened.fleet.values()}
    assert len(radios) == 1
    radio = radios.pop()
    assert isinstance(radio, RemoteRadio) and radio.pid != os.getpid()
    assert wait_ended(radio.pid, 5.0), "the radio process outlived its session"
    recording = read_recording(done.path)
    assert not recording.left_open
    for placement in PAIR:
        got = recording.samples[placement]
        blocks = done.opened.fleet[placement].sent_blocks.blocks
        sent_values = np.concatenate([np.concatenate([b.acc_m_s2, b.gyr_rad_s], axis=1) for b in blocks])
        sent_counter = np.concatenate([b.sequence for b in blocks])
        got_values = np.concatenate([got.acc_m_s2, got.gyr_rad_s], axis=1)
        # ~5 s at 100 Hz; at least 1 s even if the start is slow (a busy computer loading modules)
        assert len(got) > 100, (len(got), done.report, recording.events)
        tolerance = np.repeat(np.array(LSB) * 0.51 + 1e-9, 3)
        # The recording is one unbroken stretch of what was sent, sample for sample.
        first = next(
            j for j in range(len(sent_values)) if np.all(np.abs(sent_values[j] - got_values[0]) <= tolerance)
        )
        stretch = slice(first, first + len(got))
        assert first + len(got) <= len(sent_values)
        assert np.all(np.abs(sent_values[stretch] - got_values) <= tolerance)
        np.testing.assert_array_equal(np.diff(got.sequence), np.diff(sent_counter[stretch]))
        assert not np.any(recording.lost_before[placement])


def _engine(reports: list[object]) -> EngineClient:
    return EngineClient(reports.append)


def _recording_started(reports: list[object]) -> Path:
    status = wait_for_report(
        reports,
        "recording",
        lambda r: isinstance(r, StatusReport) and r.status.recording is not None and r.status.elapsed_s > 1.5,
    )
    return status.status.recording


PLAN = ProtocolPlan("r", "Radio", "quiet-stance", "Stand still.", 30.0, get_ready_s=0.0, calibration_s=1.0)


def test_a_radio_process_that_dies_loses_its_sensors_and_the_stopped_file_is_complete(tmp_path):
    """The engine tells the clinician; the sensors go lost as real ones out of range do; Stop
    still ends the recording though no sensor sends anything (it waited for ever before), and
    the file is complete and closed; the engine ends with no radio process left."""
    reports: list[object] = []
    client = _engine(reports)
    try:
        client.send(StartProtocol(_spec(30.0, give_up_after_s=0.5), PLAN, "RAD2", data_dir=tmp_path))
        path = _recording_started(reports)
        radios = child_processes(client.pid, b"radio_process", zombies=True)
        assert len(radios) == 1, radios
        os.kill(radios[0], signal.SIGKILL)
        notice = wait_for_report(
            reports, "notice", lambda r: isinstance(r, Notice) and "radio process" in r.text
        )
        assert notice.severity is Severity.ERROR and "kept" in notice.text
        wait_for_report(
            reports,
            "sensors lost",
            lambda r: (
                isinstance(r, HealthReport) and all(h.state is LinkState.LOST for h in r.health.values())
            ),
            20.0,
        )
        client.send(Stop())
        finished = wait_for_report(
            reports, "finished recording", lambda r: isinstance(r, RecordingFinished), 20.0
        )
        wait_for_report(reports, "job done", lambda r: isinstance(r, JobDone), 20.0)
        assert finished.path == path
    finally:
        client.close(10.0)
    recording = read_recording(path)
    assert not recording.left_open  # closed by its writer
    labels = [e.label for e in recording.events]
    for placement in PAIR:
        assert any(label.startswith(f"{placement.value} reconnecting: link lost") for label in labels), labels
        assert any(label.startswith(f"{placement.value} lost") for label in labels), labels
        assert len(recording.samples[placement]) >= 100 * 1.5  # what came before the kill is kept
    assert "stopped by the clinician" in labels


def test_the_calibration_step_ends_when_its_radio_process_dies():
    """The unrecorded calibration step too: with every sensor silent its runner never saw the
    stop, and the step (and so the engine) waited for ever."""
    reports: list[object] = []
    client = _engine(reports)
    try:
        client.send(Calibrate(_spec(30.0, give_up_after_s=0.5), with_bend=True))
        wait_for_report(
            reports, "calibration", lambda r: isinstance(r, StatusReport) and r.status.elapsed_s > 1.0
        )
        radios = child_processes(client.pid, b"radio_process", zombies=True)
        assert len(radios) == 1, radios
        os.kill(radios[0], signal.SIGKILL)
        wait_for_report(reports, "notice", lambda r: isinstance(r, HealthReport) and _all_lost(r), 20.0)
        client.send(Stop())
        wait_for_report(reports, "job done", lambda r: isinstance(r, JobDone), 20.0)
    finally:
        client.close(10.0)


def _all_lost(report: HealthReport) -> bool:
    return all(h.state is LinkState.LOST for h in report.health.values())


def test_no_radio_process_is_left_when_the_engine_is_killed(tmp_path):
    statuses: list[StatusReport] = []
    client = EngineClient(
        lambda report: statuses.append(report) if isinstance(report, StatusReport) else None
    )
    plan = ProtocolPlan(
        "r", "Radio", "quiet-stance", "Stand still.", 30.0, get_ready_s=0.0, calibration_s=1.0
    )
    try:
        client.send(StartProtocol(_spec(30.0), plan, "RAD3", data_dir=tmp_path))
        deadline = time.monotonic() + 60.0
        while not any(s.status.recording is not None for s in statuses):
            assert time.monotonic() < deadline, "no recording started"
            time.sleep(0.05)
        assert client.pid is not None
        radios = child_processes(client.pid, b"radio_process", zombies=True)
        assert len(radios) == 1, radios
        os.kill(client.pid, signal.SIGKILL)
        assert wait_ended(radios[0], 5.0), "the radio process outlived its killed engine"
    finally:
        client.close(5.0)
