"""A "saving is falling behind" warning does not outlive the recording it was about: when the file
is closed with everything on disk, the clinician is told saving caught up, even if the recording
ended before its writer did. (Seen under load: a short drill ended while its start-up backlog was
still unwritten, and the banner said saving was falling behind over a recording already saved.)
Checked the real way: an engine process, a real-time session, its writer process SIGSTOPped until
the recording ends."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from engine.client import EngineClient
from engine.messages import (
    JobDone,
    Notice,
    Phase,
    ProtocolPlan,
    RecordingFinished,
    Severity,
    StartProtocol,
    StatusReport,
    Topic,
)
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from sensors.placements import Placement
from sensors.processing import SessionSettings
from tests.processes import child_processes, under_load_ms, wait_for_report

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the writer process is POSIX only")

PAIR = (Placement.LUMBAR, Placement.PELVIS)
PLAN = ProtocolPlan("s", "Saving", "quiet-stance", "Stand still.", 8.0, get_ready_s=0.0, calibration_s=1.0)


def _wait_for(reports: list[object], what: str, test) -> object:
    return wait_for_report(reports, what, test, timeout_s=under_load_ms(60_000) / 1000)


def _saving(reports: list[object]) -> list[Notice]:
    return [r for r in list(reports) if isinstance(r, Notice) and r.topic is Topic.SAVING]


def test_a_saving_warning_is_taken_back_once_the_recording_is_saved(tmp_path):
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, placements=PAIR, seed=7, realtime=True),
        processing=SessionSettings(rate_hz=100.0, duration_s=30.0),
    )
    reports: list[object] = []
    client = EngineClient(reports.append)
    try:
        client.send(StartProtocol(spec, PLAN, "SAV1", data_dir=tmp_path))
        status = _wait_for(
            reports,
            "recording",
            lambda r: (
                isinstance(r, StatusReport) and r.status.recording is not None and r.status.elapsed_s > 1.0
            ),
        )
        path = status.status.recording
        writers = child_processes(client.pid, b"recordings.writer_server", zombies=False)
        assert len(writers) == 1, writers
        os.kill(writers[0], signal.SIGSTOP)  # nothing reaches the disk until the recording ends
        try:
            _wait_for(
                reports, "saving warning", lambda r: r in _saving(reports) and r.severity is Severity.WARNING
            )
            _wait_for(
                reports, "saving", lambda r: isinstance(r, StatusReport) and r.status.phase is Phase.SAVING
            )
            assert [n.severity for n in _saving(reports)] == [Severity.WARNING]  # the writer never caught up
        finally:
            os.kill(writers[0], signal.SIGCONT)
        _wait_for(reports, "job done", lambda r: isinstance(r, JobDone))
    finally:
        client.close(10.0)
    finished = [r for r in reports if isinstance(r, RecordingFinished)]
    assert len(finished) == 1 and finished[0].path == path
    # The warning taken back by an INFO of its topic (which takes its banner line down), after
    # the file was closed.
    saving = _saving(reports)
    assert [n.severity for n in saving] == [Severity.WARNING, Severity.INFO], saving
    assert reports.index(saving[1]) > reports.index(saving[0])
    assert "everything recorded is on disk" in saving[1].text
    assert not [r for r in reports if isinstance(r, Notice) and r.severity is Severity.ERROR]
    rec = read_recording(path)  # everything the stall held back is in the file
    for placement in PAIR:
        sequence = rec.samples[placement].sequence
        assert len(sequence) >= 100 * 8 and np.all(np.diff(sequence) == 1), placement
