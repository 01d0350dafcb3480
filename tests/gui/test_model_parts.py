"""The small Qt-free pieces: ring buffer, cognitive tasks, biofeedback zone, settings."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from gui.model.biofeedback import LiveHoldClock, TargetZone, ZoneState, hold_clock_words
from gui.model.cognitive import ColourWords
from gui.model.live import RingBuffer
from gui.model.settings import DashboardSettings, load_settings, save_settings
from recordings.dual_task import score_responses
from sensors.events import Event, EventKind


def test_ring_buffer_keeps_the_newest_rows_in_order_across_wrap_arounds():
    ring = RingBuffer(7, 2)
    written = np.arange(40, dtype=float).reshape(20, 2)
    for chunk in (written[:3], written[3:4], written[4:13], written[13:20]):
        ring.extend(chunk)
    np.testing.assert_array_equal(ring.view(), written[-7:])
    ring.clear()
    ring.extend(written[:2])
    np.testing.assert_array_equal(ring.view(), written[:2])


def test_colour_words_ask_for_the_ink_and_are_mostly_incongruent():
    task = ColourWords(seed=1)
    trials = [task.next("") for _ in range(300)]
    assert all(t.answer == t.ink for t in trials)
    incongruent = np.mean([t.prompt.lower() != t.ink for t in trials])
    assert 0.55 < incongruent < 0.78
    assert task.score(trials[0], trials[0].ink.upper())


def test_cognitive_score():
    score = score_responses([True, True, False, True], [1.0, 2.0, 3.0, 2.0], duration_s=30.0)
    assert score.responses == 4
    assert score.accuracy == 0.75
    assert score.correct_per_min == pytest.approx(6.0)
    assert score.mean_response_time_s == 2.0
    assert math.isnan(score_responses([], [], 30.0).accuracy)


def test_zone_states():
    zone = TargetZone(centre_ap_deg=2.0, centre_ml_deg=0.0, radius_deg=3.0)
    assert zone.state(2.0, 0.0) is ZoneState.INSIDE
    assert zone.state(2.0 + 2.7, 0.0) is ZoneState.NEAR_EDGE
    assert zone.state(2.0, 3.1) is ZoneState.OUTSIDE
    assert zone.state(math.nan, 0.0) is ZoneState.NO_DATA
    with pytest.raises(ValueError, match="positive radius"):
        TargetZone(radius_deg=0.0)


def test_the_live_hold_clock_counts_up_from_the_start_and_stops_at_e():
    clock = LiveHoldClock()
    events = [Event(1.0, EventKind.TASK_START, "plank", source="protocol")]
    assert clock.update(events).phase == "waiting"
    assert hold_clock_words(clock.clock.state, clock.shown_s(4.0)) == "Get into position"
    events.append(Event(5.0, EventKind.HOLD_START, "position reached (detected)", source="pipeline"))
    clock.update(events)
    assert clock.shown_s(10.0) == pytest.approx(5.0)
    events.append(Event(5.4, EventKind.HOLD_START, "position reached"))  # the clinician's key wins
    clock.update(events)
    assert hold_clock_words(clock.clock.state, clock.shown_s(10.0)) == "Hold 4.6 s"
    events.append(Event(12.0, EventKind.HOLD_END, "position lost"))
    state = clock.update(events)
    assert state.lost and clock.shown_s(30.0) == pytest.approx(6.6)
    assert hold_clock_words(state, clock.shown_s(30.0)) == "Held 6.6 s — position lost"
    assert clock.update([]).phase == "waiting"  # a new recording's events: a new clock


def test_settings_survive_a_restart_and_a_damaged_file_falls_back_to_defaults(tmp_path: Path):
    path = tmp_path / "cfg" / "dashboard.json"
    assert load_settings(path) == DashboardSettings()
    settings = DashboardSettings(
        subject_id="P017", simulate=False, assignments={"lumbar": "AA:BB"}, zone_radius_deg=2.5
    )
    save_settings(settings, path)
    assert load_settings(path) == settings
    data = json.loads(path.read_text())
    data["from_a_newer_version"] = 1
    path.write_text(json.dumps(data))
    assert load_settings(path) == settings
    path.write_text("{not json")
    assert load_settings(path) == DashboardSettings()
