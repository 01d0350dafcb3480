"""Replaying a recording through the live pipeline reproduces the live session exactly."""

import asyncio

import numpy as np
import pytest

from recordings import RecordingSink, RecordingWriter, SessionMetadata, read_recording
from recordings.analysis import analyze_recording, replay
from recordings.replay import ReplaySource
from sensors.processing import SessionRunner, SessionSettings
from sensors.processing.collector import SessionCollector
from sensors.simulator import (
    DrillOptions,
    RadioSettings,
    SimulatedSensorSettings,
    SimulatedSource,
    make_drill,
)
from tests.conftest import CollectingSink


def _record(tmp_path, drill_name: str, seconds: float, loss: bool = True, store_angles: bool = True):
    drill = make_drill(drill_name, DrillOptions(duration_s=seconds, seed=3))
    radio = RadioSettings(burst_start_probability=0.01) if loss else RadioSettings()
    source = SimulatedSource(drill, settings=SimulatedSensorSettings(radio=radio), seed=3)
    settings = SessionSettings(rate_hz=100.0, duration_s=seconds - 1.0)
    metadata = SessionMetadata("R1", drill_name, settings, store_angles=store_angles)
    writer = RecordingWriter(tmp_path / "s.h5", metadata, source.sensors)
    live = CollectingSink()
    collector = SessionCollector()

    runner = SessionRunner(source, [RecordingSink(writer), live, collector], settings)
    asyncio.run(runner.run())
    writer.close()
    return read_recording(tmp_path / "s.h5"), live, collector


@pytest.mark.parametrize("drill", ["quiet-stance", "perturbations"])
def test_replay_reproduces_live_frames_angles_and_measures_exactly(tmp_path, drill):
    rec, live, live_collector = _record(tmp_path, drill, 40.0)
    assert sum(int(lost.sum()) for lost in rec.lost_before.values()) > 0  # losses were exercised
    again = CollectingSink()
    replayed = replay(rec, extra_sinks=[again])
    live_frame, again_frame = live.frame, again.frame
    np.testing.assert_array_equal(again_frame.time_s, live_frame.time_s)
    np.testing.assert_array_equal(again_frame.valid, live_frame.valid)
    np.testing.assert_array_equal(again_frame.acc_m_s2, live_frame.acc_m_s2)
    live_angles, again_angles = live.all_angles, again.all_angles
    np.testing.assert_array_equal(again_angles.inclination_rad, live_angles.inclination_rad)
    np.testing.assert_array_equal(again_angles.lumbar_rad, live_angles.lumbar_rad)
    # The angles stored live equal the replayed ones too.
    np.testing.assert_array_equal(rec.processing.inclination_rad, live_angles.inclination_rad)
    assert len(again.measures) == len(live.measures) > 10
    for a, b in zip(again.measures, live.measures, strict=True):
        assert a == b
    live_result = live_collector.analysis(drill)
    assert analyze_recording(rec).measures == live_result.measures
    assert replayed.report.frames == len(live_frame)


def test_a_file_without_stored_angles_gives_the_live_angles_by_replay(tmp_path):
    """The default since schema 0.3.0: /processing holds the frame grid and gap flags only, and
    `Recording.processing` recomputes the angles, bit for bit what the live session computed."""
    rec, live, _ = _record(tmp_path, "perturbations", 20.0, store_angles=False)
    assert rec.stored_processing is None
    live_frame, live_angles = live.frame, live.all_angles
    np.testing.assert_array_equal(rec.frame_time_s, live_frame.time_s)  # stored
    for name in ("orientation", "inclination_rad", "axial_rad", "angular_velocity_rad_s", "lumbar_rad"):
        np.testing.assert_array_equal(getattr(rec.processing, name), getattr(live_angles, name))
    np.testing.assert_array_equal(rec.processing.time_s, live_frame.time_s)
    np.testing.assert_array_equal(rec.processing.valid, live_frame.valid)
    assert rec.duration_s == pytest.approx(len(live_frame.time_s) / 100.0)


def test_drill_events_are_replayed_and_derived_ones_recomputed(tmp_path):
    rec, live, _ = _record(tmp_path, "perturbations", 20.0)
    assert {"simulator", "pipeline"} <= {e.source for e in rec.events}
    again = CollectingSink()
    replay(rec, extra_sinks=[again])
    key = lambda e: (e.time_s, e.kind, e.label, e.source)  # noqa: E731
    assert sorted(map(key, again.events)) == sorted(map(key, rec.events))
    assert sorted(map(key, rec.events)) == sorted(
        map(key, live.events + [e for e in rec.events if e.source == "link"])
    )


def test_realtime_replay_keeps_pace(tmp_path):
    rec, _, _ = _record(tmp_path, "quiet-stance", 6.0, loss=False)
    source = ReplaySource(rec, realtime=True, speed=4.0)

    async def run():
        loop = asyncio.get_running_loop()
        start = loop.time()
        await source.start()
        async for _ in source.stream():
            pass
        return loop.time() - start

    elapsed = asyncio.run(run())
    span_s = (rec.samples[rec.placements[0]].host_receive_ns[-1] - rec.arrival.host_origin_ns) * 1e-9
    assert span_s / 4.0 * 0.8 < elapsed < span_s / 4.0 + 1.0
