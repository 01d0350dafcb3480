"""Consecutive recordings on one open BLE link (the repetitions of a protocol): each file starts
at its own session time 0, and the link is not reconnected between them."""

from __future__ import annotations

import asyncio

import numpy as np

from engine.factory import Recording, open_source, recording_metadata, recording_path
from engine.segments import SharedSource
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from sensors.placements import Placement
from sensors.processing.session import SessionSettings
from sensors.source import LinkState
from tests.conftest import CollectingSink


def test_repetitions_share_one_link_and_each_file_starts_at_zero(tmp_path):
    spec = SessionSpec(
        source=SourceSpec(kind=SourceKind.VIRTUAL_BLE, seed=4, realtime=False, scan_timeout_s=1.5),
        processing=SessionSettings(rate_hz=100.0),
    )

    async def go():
        out = []
        async with open_source(spec, "quiet-stance", 12.0) as opened:
            shared = SharedSource(opened.source)
            try:
                for repetition in (1, 2):
                    segment_spec = spec.for_drill("quiet-stance", 4.0)
                    segment = shared.segment()
                    metadata = recording_metadata(
                        segment_spec, "SEG1", opened, protocol={"repetition": repetition}
                    )
                    path = recording_path(metadata, out_dir=tmp_path / str(repetition))
                    sink = CollectingSink()
                    await Recording(segment_spec, segment, metadata, path, [sink]).run()
                    out.append((path, sink))
                    await asyncio.sleep(0.2)  # a rest: the sensors go on sending
            finally:
                await shared.close()
        return out

    (first_path, _), (second_path, second) = asyncio.run(go())
    # No reconnection for the second recording: no link state changes reached it.
    assert not [s for s in second.statuses if s.state is not LinkState.STREAMING]
    for path in (first_path, second_path):
        recording = read_recording(path)
        assert not recording.left_open and recording.problems == ()
        assert 3.5 < recording.duration_s < 5.0
        assert recording.frame_time_s[0] < 0.5
    # The second file continues the same stream: its counters carry on past the first file's.
    one = read_recording(first_path).samples[Placement.LUMBAR].sequence
    two = read_recording(second_path).samples[Placement.LUMBAR].sequence
    assert len(one) > 300 and len(two) > 300
    assert int(two[0]) > int(one[-1])
    assert np.all(np.diff(two) >= 1)


def test_a_sensor_silent_since_an_earlier_repetition_has_sent_nothing_since_this_one_began(tmp_path):
    """The pelvis sensor's battery dies 1.5 s into the first of two recordings on one link: the
    first's health says its data stopped at 1.5 s, the second's (in its own session time) that it
    has sent nothing since it began, not since 1.5 s."""
    from engine.factory import Impairments
    from sensors.ble.virtual.base import FaultPlan

    spec = SessionSpec(
        source=SourceSpec(kind=SourceKind.VIRTUAL_BLE, seed=5, realtime=False, scan_timeout_s=1.5),
        processing=SessionSettings(rate_hz=100.0),
    )
    dies = Impairments(faults={Placement.PELVIS: FaultPlan(dies_at_s=1.5)})

    async def go():
        reports = []
        async with open_source(spec, "quiet-stance", 10.0, impairments=dies) as opened:
            shared = SharedSource(opened.source)
            try:
                for repetition in (1, 2):
                    segment_spec = spec.for_drill("quiet-stance", 3.5)
                    metadata = recording_metadata(
                        segment_spec, "SEG2", opened, protocol={"repetition": repetition}
                    )
                    path = recording_path(metadata, out_dir=tmp_path / str(repetition))
                    reports.append(await Recording(segment_spec, shared.segment(), metadata, path, []).run())
            finally:
                await shared.close()
        return reports

    first, second = asyncio.run(go())
    assert 0.5 < first.health[Placement.PELVIS].data_until_s < 1.6  # its world's 1.5 s, in the segment's time
    assert second.health[Placement.PELVIS].data_until_s == 0.0
    assert np.isnan(second.health[Placement.LUMBAR].data_until_s)


CONDITIONS = ("single", "dual")


def _protocol(kind: SourceKind, tmp_path, realtime: bool = False):
    """A 2-repetition protocol (single, then dual task) run by the engine's work on `kind`."""
    from engine.messages import ProtocolPlan, RecordingFinished
    from engine.work import SessionWork
    from sensors.processing.session import NullSink

    spec = SessionSpec(
        source=SourceSpec(kind=kind, seed=11, realtime=realtime),
        processing=SessionSettings(rate_hz=100.0),
    )
    plan = ProtocolPlan(
        "t",
        "two stances",
        "quiet-stance",
        "stand",
        task_s=3.0,
        repetitions=2,
        rest_s=0.3,
        get_ready_s=0.0,
        calibration_s=2.0,
        conditions=CONDITIONS,
    )
    reports: list = []
    work = SessionWork(reports.append, NullSink())
    asyncio.run(work.run_protocol(spec, plan, "SEG2", "", tmp_path))
    return [r for r in reports if isinstance(r, RecordingFinished)]


def _assert_one_stream_in_two_complete_files(finished, seconds: float) -> None:
    assert [f.repetition for f in finished] == [1, 2]
    # a 3-s stance is shorter than its measures need: that is all that is said of either recording
    assert all(f.problem.startswith("not measured: the task lasted 3.0 s") for f in finished)
    one, two = (read_recording(f.path) for f in finished)
    for recording in (one, two):
        assert not recording.left_open and recording.problems == ()
        # (simulated faster than real time, a file may run past the task's end: the protocol polls)
        assert recording.duration_s > seconds - 0.2
        marks = [(e.kind.value, e.time_s) for e in recording.events if e.source == "protocol"]
        assert marks == [("task_start", 2.0), ("task_end", seconds)]
        link = [e for e in recording.events if e.source == "link"]  # at most: connected, streaming
        assert all(e.time_s == 0.0 and " streaming" in e.label for e in link), link
        assert recording.frame_time_s[0] < 0.5
    assert not [e for e in two.events if e.source == "link"]  # no reconnection, no link change at all
    # The same sensors, never restarted: counters and device clocks carry on from file to file.
    assert two.protocol["dual_task_factor"] > one.protocol["dual_task_factor"] == 1.0
    # One run: its recordings share the run's id, so a visit takes them as its repetitions.
    assert one.protocol["protocol_run"] == two.protocol["protocol_run"] != ""
    for placement in (Placement.LUMBAR, Placement.PELVIS):
        a, b = one.samples[placement], two.samples[placement]
        assert int(b.sequence[0]) > int(a.sequence[-1])
        assert float(b.device_time_s[0]) > float(a.device_time_s[-1])
        assert np.all(np.diff(b.sequence) >= 1) and len(b) > 0.9 * 100 * seconds


def test_a_protocol_on_virtual_ble_sensors_keeps_their_link_between_repetitions(tmp_path):
    finished = _protocol(SourceKind.VIRTUAL_BLE, tmp_path)
    _assert_one_stream_in_two_complete_files(finished, 5.0)


def test_a_protocol_on_the_simulator_keeps_one_source_and_switches_the_drill(tmp_path):
    finished = _protocol(SourceKind.SIMULATED, tmp_path)
    _assert_one_stream_in_two_complete_files(finished, 5.0)
