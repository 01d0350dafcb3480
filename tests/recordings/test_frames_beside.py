"""The batched replay's frames made in a forked child (`sensors.processing.batch_frames`) are
the live session's frames bit for bit, and an error in the child is raised in the parent."""

import os
import threading

import pytest

from recordings.chunk_columns import ChunkReadError
from recordings.replay import open_recorded_stream
from sensors.processing import batch_frames
from sensors.processing.batch_session import run_batched
from tests.conftest import CollectingSink
from tests.recordings.test_chunk_columns import _damaged_copy
from tests.recordings.test_replay import _assert_same_frames_and_angles, _record


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    rec, live, _ = _record(tmp_path_factory.mktemp("beside"), "forward-bend", 30.0)
    return rec, live


@pytest.fixture
def forks(monkeypatch):
    """The children the replay forked (the real fork runs)."""
    calls = []
    real = os.fork

    def fork():
        pid = real()
        if pid:
            calls.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    monkeypatch.setattr(batch_frames, "usable_cores", lambda: 2)  # as on the two-core machine
    # Threads earlier tests in this process left (idle here) count as the inflating worker does.
    left = tuple(t.name for t in threading.enumerate() if t is not threading.main_thread())
    monkeypatch.setattr(batch_frames, "FORK_SAFE_THREADS", batch_frames.FORK_SAFE_THREADS + left)
    return calls


def test_frames_from_the_child_equal_the_live_frames(recorded, forks):
    rec, live = recorded
    again = CollectingSink()
    with open_recorded_stream(rec.path) as (recording, stream):
        result = run_batched(stream, recording.settings, again.on_frame, chunk_s=2.5)
    assert len(forks) == 1
    _assert_same_frames_and_angles(again, live)
    assert result.frames == live.report.frames


def test_frames_from_rows_inflated_ahead_equal_the_live_frames(recorded, forks):
    """Part of the raw rows inflated ahead (`Prefetch`, stopped before the fork): the child reads
    those from memory and the rest from the file; this process drops them once it has forked."""
    from recordings.chunk_columns import Prefetch

    rec, live = recorded
    again = CollectingSink()
    with open_recorded_stream(rec.path) as (recording, stream):
        columns = [*stream.acc_m_s2.values(), *stream.gyr_rad_s.values()]
        ahead = Prefetch(columns, 10 * 100 * 24 * len(columns))  # ten chunks of each: ~1/3 of it
        ahead._thread.join(timeout=30)
        assert all(c._cached_rows == 1000 for c in columns)
        result = run_batched(
            stream, recording.settings, again.on_frame, chunk_s=2.5, before_frames=lambda _: ahead.stop()
        )
        assert all(c._cached_rows == 0 for c in columns)  # dropped here after the fork
    assert len(forks) == 1
    _assert_same_frames_and_angles(again, live)
    assert result.frames == live.report.frames


def test_frames_from_h5py_datasets_are_made_here(recorded, forks):
    """HDF5 must not be used in a forked child: rows read by h5py keep the frames in-process."""
    rec, live = recorded
    again = CollectingSink()
    with open_recorded_stream(rec.path) as (recording, stream):
        stream = type(stream)(**{**stream.__dict__, "acc_m_s2": _h5py_columns(rec.path)})
        run_batched(stream, recording.settings, again.on_frame, chunk_s=2.5)
    assert forks == []
    _assert_same_frames_and_angles(again, live)


def _h5py_columns(path):
    import h5py

    f = h5py.File(path, "r")
    return {p: f["acquisition"][p.value]["acc_m_s2"] for p in (p for p in _placements(f))}


def _placements(f):
    from sensors.placements import Placement

    return [Placement(p) for p in f.attrs["placements"]]


def test_a_damaged_chunk_read_in_the_child_is_raised_here(recorded, forks, tmp_path):
    rec, _ = recorded
    copy, _ = _damaged_copy(rec, tmp_path)
    with open_recorded_stream(copy) as (recording, stream), pytest.raises(ChunkReadError, match="acc_m_s2"):
        run_batched(stream, recording.settings, lambda frame, angles: None, chunk_s=2.5)
    assert len(forks) == 1


def test_an_error_while_stepping_the_frames_ends_the_child(recorded, forks):
    rec, _ = recorded

    def on_frame(frame, angles):
        raise KeyboardInterrupt  # the user stops the analysis after the first frames

    with open_recorded_stream(rec.path) as (recording, stream), pytest.raises(KeyboardInterrupt):
        run_batched(stream, recording.settings, on_frame, chunk_s=1.0)
    assert len(forks) == 1
    with pytest.raises(ChildProcessError):  # killed and reaped
        os.waitpid(forks[0], os.WNOHANG)


def test_with_other_threads_running_the_frames_are_made_here(recorded, forks):
    """A process with other threads (a window, a session engine) is not forked."""
    rec, live = recorded
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, name="engine-like")
    other.start()
    try:
        again = CollectingSink()
        with open_recorded_stream(rec.path) as (recording, stream):
            run_batched(stream, recording.settings, again.on_frame, chunk_s=2.5)
    finally:
        stop.set()
        other.join()
    assert forks == []
    _assert_same_frames_and_angles(again, live)


def test_rows_are_inflated_ahead_only_when_a_core_is_likely_idle(recorded, monkeypatch):
    from recordings import analysis

    rec, _ = recorded
    monkeypatch.setattr(batch_frames, "usable_cores", lambda: 2)
    with open_recorded_stream(rec.path) as (_, stream):
        monkeypatch.setattr(os, "getloadavg", lambda: (1.5, 1.0, 1.0))  # both cores busy
        assert analysis._inflate_ahead(stream) is None
        monkeypatch.setattr(os, "getloadavg", lambda: (0.3, 1.0, 1.0))
        ahead = analysis._inflate_ahead(stream)
        assert ahead is not None and len(ahead.columns) == 2 * len(rec.placements)
        ahead.stop()
        for column in ahead.columns:
            column.drop_cache()
        monkeypatch.setattr(batch_frames, "usable_cores", lambda: 1)
        assert analysis._inflate_ahead(stream) is None  # one core: nothing is idle


def test_an_analysis_collector_is_made_as_large_as_the_replay_once(recorded, monkeypatch):
    """The replay tells the analysis's collector how many frames are coming before the first:
    its arrays are made that large and never grow (a collector made too small would double and
    copy them: a 92 MB transient at the end of a 4-h replay)."""
    from recordings import analysis
    from sensors.processing.collector import GrowingArray, SessionCollector

    grown = []
    extend = GrowingArray.extend

    def watched(self, rows):
        before = len(self._data)
        extend(self, rows)
        if len(self._data) != before:
            grown.append((before, len(self._data)))

    monkeypatch.setattr(GrowingArray, "extend", watched)
    rec, live = recorded
    with open_recorded_stream(rec.path) as (recording, stream):
        collector = SessionCollector({"inclination_rad"}, capacity_frames=1)  # far too small
        session = analysis._replay(recording, stream, collector, [], None, running_measures=False)
    assert grown == []
    assert session.report.frames == live.report.frames == len(collector.frame.time_s)
    assert len(collector._arrays["inclination_rad"]._data) == live.report.frames
