"""The small Qt-free pieces: ring buffer, cognitive tasks, biofeedback zone, settings."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from gui.model.biofeedback import HoldTimer, TargetZone, ZoneState
from gui.model.cognitive import ColourWords, score_responses
from gui.model.live import RingBuffer
from gui.model.settings import DashboardSettings, load_settings, save_settings


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


def test_zone_states_and_the_hold_timer():
    zone = TargetZone(centre_ap_deg=2.0, centre_ml_deg=0.0, radius_deg=3.0)
    assert zone.state(2.0, 0.0) is ZoneState.INSIDE
    assert zone.state(2.0 + 2.7, 0.0) is ZoneState.NEAR_EDGE
    assert zone.state(2.0, 3.1) is ZoneState.OUTSIDE
    assert zone.state(math.nan, 0.0) is ZoneState.NO_DATA
    with pytest.raises(ValueError, match="positive radius"):
        TargetZone(radius_deg=0.0)
    timer = HoldTimer()
    states = [ZoneState.INSIDE] * 11 + [ZoneState.OUTSIDE] * 3 + [ZoneState.INSIDE] * 5
    for k, state in enumerate(states):
        timer.update(k * 0.5, state)
    assert timer.longest_s == pytest.approx(5.0)  # each state counts for the interval it ends
    assert timer.current_s == pytest.approx(2.5)
    assert timer.total_s == pytest.approx(7.5)
    timer.update(math.nan, ZoneState.INSIDE)  # a gap in the data changes nothing
    assert timer.total_s == pytest.approx(7.5)


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
