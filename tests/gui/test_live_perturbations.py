"""The live perturbation overlay follows the analysis's rule (`merge_perturbation_marks`): a key on
top of a detected push is that push, a key the trunk did not answer is "no response" — so the
live view and the results agree (before, every mark and every detection was a curve of its own)."""

from __future__ import annotations

import pytest

from gui.model.live import AngleRows, LiveBuffers, LiveFeed, SessionStarted
from recordings.plot_data import angle_rows
from sensors.events import Event, EventKind
from sensors.processing import SessionSettings
from sensors.processing.analysis import SessionData, analyze
from sensors.simulator import DrillOptions, make_drill
from tests.conftest import simulate


@pytest.fixture(scope="module")
def pushed():
    """24 s of the perturbations drill (two pushes, at 6.0 and 13.98 s), as the session emits it."""
    drill = make_drill("perturbations", DrillOptions(duration_s=24, seed=5))
    sink, _ = simulate(drill, SessionSettings(drill="perturbations"), seed=5)
    return drill, sink


def test_the_live_overlay_shows_what_the_analysis_analyses_with_its_verdicts(pushed):
    drill, sink = pushed
    truth = [p.instant_s for p in drill.truth.perturbations]
    assert len(truth) == 2
    stray = Event(truth[0] + 4.0, EventKind.PERTURBATION, "push")  # nothing happened then
    on_top = Event(truth[0] + 0.25, EventKind.PERTURBATION, "push")  # the clinician's key, late
    events = [*sink.events, stray, on_top]
    assert sum(e.kind is EventKind.PERTURBATION for e in events) == 6  # marks, detections, keys

    feed, buffers = LiveFeed(), LiveBuffers(rate_hz=100.0)
    feed.queue.append(SessionStarted(0))
    feed.queue.append(AngleRows(angle_rows(sink.all_angles), 0))
    feed.queue.extend(events)
    buffers.drain(feed)
    traces = buffers.perturbation_responses()

    assert [t.push.time_s for t in traces] == pytest.approx([truth[0], stray.time_s, truth[1]], abs=0.02)
    assert [t.responded for t in traces] == [True, False, True]
    assert set(traces[0].push.sources) == {"operator", "simulator"} and traces[1].push.keyed_only
    for trace in traces:  # aligned at the push, from its pre-push mean
        assert trace.time_s[0] == pytest.approx(-0.5, abs=0.011) and trace.time_s[-1] <= 3.0

    result = analyze(
        SessionData(sink.frame, sink.all_angles, sink.calibration.mount_q, tuple(events)), "perturbations"
    )
    assert result.value("repetitions") == sum(t.responded is True for t in traces)
    unanswered = [m.value for m in result.measures if m.name == "no_response"]
    assert unanswered == pytest.approx([t.push.time_s for t in traces if t.responded is False])


def test_a_push_is_judged_once_its_response_window_is_over(pushed):
    _, sink = pushed
    rows = angle_rows(sink.all_angles)
    stray = Event(10.0, EventKind.PERTURBATION, "push")
    feed, buffers = LiveFeed(), LiveBuffers(rate_hz=100.0)
    feed.queue.append(SessionStarted(0))
    feed.queue.append(AngleRows(rows[rows[:, 0] < 11.0], 0))
    feed.queue.append(stray)
    buffers.drain(feed)
    (pending,) = [t for t in buffers.perturbation_responses() if t.push.time_s == 10.0]
    assert pending.responded is None  # 1 s of its 3 s window: not judged yet
    feed.queue.append(AngleRows(rows[rows[:, 0] >= 11.0], 0))
    buffers.drain(feed)
    (judged,) = [t for t in buffers.perturbation_responses() if t.push.time_s == 10.0]
    assert judged.responded is False
