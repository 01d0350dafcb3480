"""A recording whose first notifications come in one late burst (a host busy at the start): the
sensors' own clocks give the times, every sample reaches the frames, and a replay of the file
does the same. Read back with h5py, not through stabmon's reader."""

import asyncio
import logging
import shutil

import h5py
import numpy as np
import pytest

from engine.factory import Impairments, record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from recordings.analysis import replay
from recordings.replay import recorded_stream
from sensors.processing import SessionSettings
from sensors.processing.batch_session import run_batched
from sensors.simulator import RadioSettings
from tests.conftest import CollectingSink

BACKLOG_S = 2.0
SECONDS = 10.0
#: Session time may differ from device time by the clock fit's drift over the recording
#: (≤ 300 ppm · 10 s = 3 ms) plus the latency floor's spread: 5 ms in all.
SPAN_TOLERANCE_S = 0.005


@pytest.fixture(scope="module")
def backlogged(tmp_path_factory):
    """A 10-s recording whose first 2 s of notifications all arrive at 2 s, one by one (each
    its own block, as the BLE link delivers them), and the live session's frames."""
    path = tmp_path_factory.mktemp("backlog") / "s.h5"
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=5, realtime=False),
        processing=SessionSettings(rate_hz=100.0, duration_s=SECONDS),
    )
    live = CollectingSink()
    done = asyncio.run(
        record(
            spec,
            "R1",
            path,
            "quiet-stance",
            SECONDS + 1.0,
            sinks=[live],
            impairments=Impairments(radio=RadioSettings(start_backlog_s=BACKLOG_S)),
            delivery_s=0.0004,
        )
    )
    live.report = done.report
    return path, live


def test_the_backlog_keeps_the_sensor_clock_spacing_and_every_sample_reaches_the_frames(backlogged):
    path, _ = backlogged
    with h5py.File(path, "r") as f:
        frames = f["processing/time_s"][:]
        origin = int(f["acquisition/arrival/host_origin_ns"][0])
        ends = []
        for placement in ("lumbar", "pelvis"):
            g = f[f"acquisition/{placement}"]
            device = g["device_time_s"][:] - g["device_time_s"][0]
            session = g["session_time_s"][:]
            received = (g["host_receive_ns"][:] - origin) * 1e-9
            assert received[0] > BACKLOG_S - 0.01  # the first notifications did come late
            first_second = device <= 1.0
            assert np.all(received[first_second] > BACKLOG_S - 0.01)
            # ... but they are placed where the sensor sampled them, not where they arrived.
            assert session[0] < 0.05
            np.testing.assert_allclose(session - session[0], device, atol=SPAN_TOLERANCE_S)
            assert np.all(session <= received + 1e-9)  # nothing is placed after it arrived
            # Every sample is inside the frame grid: samples in, frames out.
            assert frames[0] <= session[0] + 0.01 and frames[-1] >= session[-1] - 0.01
            ends.append(session[-1])
        n = len(f["acquisition/lumbar/device_time_s"])
        assert len(frames) >= n - 2
        both = frames <= min(ends)  # the session stopped with one sensor a block ahead
        assert both.sum() > 990 and f["processing/valid"][:][both].all()  # no gap for the backlog
        kinds = [k.decode() if isinstance(k, bytes) else k for k in f["events/kind"][:]]
        times = dict(zip(kinds, f["events/time_s"][:], strict=False))
        assert times["calibration"] <= times["task_start"] + 0.01  # the 2-s capture before the task


def test_the_replays_of_a_backlogged_file_are_the_live_session(backlogged):
    path, live = backlogged
    rec = read_recording(path)
    again = CollectingSink()
    replayed = replay(rec, extra_sinks=[again])
    np.testing.assert_array_equal(again.frame.time_s, live.frame.time_s)
    np.testing.assert_array_equal(again.frame.valid, live.frame.valid)
    np.testing.assert_array_equal(again.frame.acc_m_s2, live.frame.acc_m_s2)
    assert replayed.report.frames == live.report.frames
    # The held blocks went in together, in time: none came after its frame, none made the wait grow.
    assert live.report.late_samples == replayed.report.late_samples == 0
    mapped = CollectingSink()
    result = run_batched(recorded_stream(rec, stored_times=False), rec.settings, mapped.on_frame)
    for p in rec.placements:
        np.testing.assert_array_equal(result.session_time_s[p], rec.session_time_s[p])
    np.testing.assert_array_equal(mapped.frame.acc_m_s2, live.frame.acc_m_s2)


def test_a_file_recorded_before_the_hold_is_mapped_again_offline(backlogged, tmp_path, caplog):
    """A recording made before the runner held its first blocks stored the backlog's times as
    they arrived (squeezed into the moment of arrival); its analysis maps the clocks again, so
    every sample reaches the frames all the same."""
    path, live = backlogged
    old = tmp_path / "old.h5"
    shutil.copyfile(path, old)
    with h5py.File(old, "r+") as f:
        origin = int(f["acquisition/arrival/host_origin_ns"][0])
        for placement in ("lumbar", "pelvis"):
            g = f[f"acquisition/{placement}"]
            received = (g["host_receive_ns"][:] - origin) * 1e-9
            stored = g["session_time_s"][:]
            backlog = received < BACKLOG_S + 0.1
            stored[backlog] = received[backlog]  # where the old runner put them
            g["session_time_s"][:] = stored
    rec = read_recording(old)
    again = CollectingSink()
    with caplog.at_level(logging.WARNING):
        replayed = replay(rec, extra_sinks=[again])
    assert replayed.report.frames >= len(rec.samples[rec.placements[0]]) - 2
    np.testing.assert_allclose(again.frame.time_s[[0, -1]], live.frame.time_s[[0, -1]], atol=0.011)
    assert "off the sensor clock" in caplog.text
