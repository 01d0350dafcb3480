"""Replaying a recording through the live pipeline reproduces the live session exactly: the
batched replay (whole arrays at once) and the block by block one (`ReplaySource` through a
`SessionRunner`) alike."""

import asyncio
import math
from dataclasses import replace

import numpy as np
import pytest

from engine.factory import Impairments, record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from recordings.analysis import analyze_recording, replay, replay_streamed
from recordings.replay import ReplaySource, recorded_stream
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.processing.batch_session import run_batched
from sensors.processing.collector import SessionCollector
from sensors.simulator import (
    RadioSettings,
)
from tests.conftest import CollectingSink


def _record(
    tmp_path,
    drill_name: str,
    seconds: float,
    loss: bool = True,
    store_angles: bool = True,
    late_pelvis: bool = False,
    seed=3,
    consolidate: bool = True,
):
    radio = RadioSettings(burst_start_probability=0.01) if loss else RadioSettings()
    radio_of: RadioSettings | dict[Placement, RadioSettings] = radio
    if late_pelvis:  # pelvis notifications often come 0.5 s and more after the lumbar ones
        late = RadioSettings(jitter_mean_s=0.25, burst_start_probability=0.01)
        radio_of = {Placement.LUMBAR: radio, Placement.PELVIS: late}
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=seed, realtime=False),
        processing=SessionSettings(rate_hz=100.0, duration_s=seconds - 1.0),
    )
    live = CollectingSink()
    collector = SessionCollector()
    done = asyncio.run(
        record(
            spec,
            "R1",
            tmp_path / "s.h5",
            drill_name,
            seconds,
            sinks=[live, collector],
            impairments=Impairments(radio=radio_of),
            store_angles=store_angles,
            consolidate=consolidate,
        )
    )
    live.report = done.report
    live.wait_s = done.recording.runner.live_wait_s
    return read_recording(tmp_path / "s.h5"), live, collector


def _assert_same_frames_and_angles(again: CollectingSink, live: CollectingSink) -> None:
    """Bit for bit: frames, gap flags, orientation and every angle."""
    for name in ("time_s", "valid", "acc_m_s2", "gyr_rad_s"):
        np.testing.assert_array_equal(getattr(again.frame, name), getattr(live.frame, name), err_msg=name)
    for name in ("orientation", "inclination_rad", "axial_rad", "angular_velocity_rad_s", "lumbar_rad"):
        np.testing.assert_array_equal(getattr(again.all_angles, name), getattr(live.all_angles, name), name)


def _assert_same_measures(a, b) -> None:
    """Equal tables (a NaN equals a NaN: the same measure could not be computed in both)."""
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        same_value = x.value == y.value or (math.isnan(x.value) and math.isnan(y.value))
        assert same_value and replace(x, value=0.0) == replace(y, value=0.0), (x, y)


def _key(event):
    return (event.time_s, event.kind, event.label, event.source)


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
    _assert_same_measures(analyze_recording(rec).measures, live_collector.analysis(drill).measures)
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


@pytest.mark.parametrize("drill", ["perturbations", "forward-bend"])
def test_batched_and_streamed_replays_equal_the_live_session(tmp_path, drill):
    rec, live, live_collector = _record(tmp_path, drill, 30.0)
    streamed, batched = CollectingSink(), CollectingSink()
    streamed_session = replay_streamed(rec, extra_sinks=[streamed])
    batched_session = replay(rec, extra_sinks=[batched])
    for again in (streamed, batched):
        _assert_same_frames_and_angles(again, live)
        assert again.measures == live.measures
        assert sorted(map(_key, again.events)) == sorted(map(_key, streamed.events))
    live_measures = live_collector.analysis(drill).measures
    assert len(live_measures) > 20
    _assert_same_measures(analyze_recording(rec).measures, live_measures)
    _assert_same_measures(batched_session.collector.analysis(drill).measures, live_measures)
    _assert_same_measures(streamed_session.collector.analysis(drill).measures, live_measures)
    a, b = batched_session.report, streamed_session.report
    assert (a.frames, a.late_samples, a.session_s) == (b.frames, b.late_samples, b.session_s)
    assert a.calibrated and b.calibrated
    for p in rec.placements:
        assert a.health[p].samples_lost == b.health[p].samples_lost > 0
        assert a.drift_ppm[p] == pytest.approx(b.drift_ppm[p], abs=1e-4)
        assert a.health[p].latency_s == pytest.approx(b.health[p].latency_s, abs=1e-9)


def test_batched_replay_equals_live_when_a_sensor_comes_late(tmp_path):
    """Samples that came after their frames had gone out are gaps in the live frames; the
    batched replay must make the same gaps (and follow the wait as it grew)."""
    rec, live, live_collector = _record(tmp_path, "quiet-stance", 30.0, late_pelvis=True, seed=4)
    assert live.report.late_samples > 0 and live.wait_s > rec.settings.max_wait_s
    again = CollectingSink()
    session = replay(rec, extra_sinks=[again])
    _assert_same_frames_and_angles(again, live)
    assert session.report.late_samples == live.report.late_samples
    assert again.measures == live.measures
    _assert_same_measures(analyze_recording(rec).measures, live_collector.analysis("quiet-stance").measures)


@pytest.fixture(scope="module")
def lossy_stance(tmp_path_factory):
    """25 s of quiet stance with packet loss, recorded once for the chunkings below:
    (recording, live sink, live collector)."""
    return _record(tmp_path_factory.mktemp("stance"), "quiet-stance", 25.0)


@pytest.mark.parametrize("chunk_s", [0.37, 7.0, 1000.0])
def test_batched_replay_maps_the_clocks_again_and_any_chunking_gives_the_same(lossy_stance, chunk_s):
    """Without the stored session times (a file that leaves them out), the clocks are mapped
    again per bin: the same times the live clock mapping gave, and the same frames."""
    rec, live, _ = lossy_stance
    again = CollectingSink()
    result = run_batched(
        recorded_stream(rec, stored_times=False), rec.settings, again.on_frame, chunk_s=chunk_s
    )
    for p in rec.placements:
        np.testing.assert_array_equal(result.session_time_s[p], rec.session_time_s[p])
        assert result.drift_ppm[p] == live.report.drift_ppm[p]
    _assert_same_frames_and_angles(again, live)
    assert result.frames == live.report.frames


@pytest.mark.parametrize(
    ("drill", "seconds"),
    [
        ("quiet-stance", 20.0),
        ("perturbations", 30.0),
        ("forward-bend", 25.0),
        ("sit-to-stand", 25.0),
        ("gait", 25.0),
        ("plank", 25.0),
    ],
)
def test_analysis_from_the_file_keeps_only_what_the_drill_reads_and_gives_the_same_table(
    tmp_path, drill, seconds
):
    """`analyze_file` reads the raw data a window at a time and keeps only the arrays the drill's
    measures read (ANALYSIS_READS): its table must be the one a replay keeping everything gives."""
    from recordings.analysis import ANALYSIS_READS, analyze_file
    from sensors.processing.analysis import drill_family

    rec, _, live_collector = _record(tmp_path, drill, seconds, loss=drill != "perturbations")
    assert ANALYSIS_READS[drill_family(drill)] < live_collector.keep  # something is left out
    recording, result = analyze_file(rec.path)
    assert recording.subject_id == "R1" and len(recording.samples[rec.placements[0]]) == 0
    expected = live_collector.analysis(drill).measures
    assert len(expected) > 5
    _assert_same_measures(result.measures, expected)
