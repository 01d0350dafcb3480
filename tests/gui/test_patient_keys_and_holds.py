"""The patient view and the keys, offscreen on real windows: answer keys and the clinician's marks
from either window, a stray push mark reported as "no response", the hold clock both windows
show equals the stored hold, and the feedback modes with their tone."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from gui.model.biofeedback import FeedbackMode, LiveAngles, TargetZone, ZoneState
from gui.model.clinic import Phase
from gui.patient_view import PatientView, patient_words
from recordings import read_recording
from recordings.analysis import analyze_recording
from sensors.events import EventKind
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.simulator import DrillOptions, make_drill
from tests.conftest import simulate
from tests.gui.test_main_window import make_window
from tests.processes import under_load_ms


@pytest.fixture(autouse=True)
def _no_real_config(monkeypatch, tmp_path):
    monkeypatch.setenv("STABMON_CONFIG_DIR", str(tmp_path / "config"))


def _activate(qtbot, window: QWidget) -> None:
    window.activateWindow()
    window.raise_()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)


STROOP = """name = "Test colour words"
drill = "quiet-stance"
instructions = "Stand still and say the ink colour."
task_s = {task_s}
get_ready_s = 0
conditions = ["dual"]
cognitive_task = "stroop"
"""


def test_answer_keys_and_push_marks_reach_the_session_from_either_window(qtbot, tmp_path, data_dir):
    window = make_window(qtbot, tmp_path, data_dir, STROOP, task_s=8.0)
    view = window.open_patient_view()
    qtbot.waitExposed(view)
    window.start_drill()
    qtbot.waitUntil(lambda: window.session.trial is not None, timeout=under_load_ms(30000))
    answers = []
    for target in (view, window, view):
        _activate(qtbot, target)
        trial = window.session.trial
        qtbot.keyClick(target, str(1 + ("red", "green", "blue", "yellow").index(trial.ink)))
        qtbot.waitUntil(lambda t=trial: window.session.trial is not t, timeout=under_load_ms(3000))
        answers.append(trial.ink)
    _activate(qtbot, view)
    qtbot.keyClick(view, Qt.Key.Key_P)  # the clinician's mark, with the patient's window in front
    qtbot.waitUntil(lambda: not window.session.busy, timeout=under_load_ms(30000))
    (result,) = window.session.results
    events = read_recording(result.path).events
    given = [e.label.split("answered ")[1] for e in events if e.source == "patient"]
    assert given == [f"'{a}' (correct)" for a in answers]
    assert [e.source for e in events if e.kind is EventKind.PERTURBATION] == ["operator"]
    window.close()


SUBTRACTION = """name = "Test serial subtraction"
drill = "quiet-stance"
instructions = "Stand still and count back aloud."
task_s = {task_s}
get_ready_s = 0
conditions = ["dual"]
cognitive_task = "serial-subtraction"
"""


def test_an_answer_said_aloud_is_entered_by_the_clinician_and_judged_from_memory(qtbot, tmp_path, data_dir):
    window = make_window(qtbot, tmp_path, data_dir, SUBTRACTION, task_s=5.0)
    view = window.open_patient_view()
    window.start_drill()
    qtbot.waitUntil(
        lambda: window.session.trial is not None and window.drill.answer.isEnabled(),
        timeout=under_load_ms(30000),
    )
    trial = window.session.trial
    start = int(trial.prompt.split()[3])
    qtbot.waitUntil(
        lambda: view.prompt.text() == f"Count back from {start} in sevens", timeout=under_load_ms(3000)
    )
    for said in (start - 7, start - 15, start - 22):  # a slip, then right again from the slip
        window.drill.answer.setText(str(said))
        qtbot.keyClick(window.drill.answer, Qt.Key.Key_Return)
    assert view.prompt.text() == f"Count back from {start} in sevens"  # nothing more is shown
    qtbot.waitUntil(lambda: not window.session.busy, timeout=under_load_ms(30000))
    (result,) = window.session.results
    events = read_recording(result.path).events
    assert [e.label.endswith("(correct)") for e in events if e.source == "patient"] == [True, False, True]
    (given,) = [e.label for e in events if e.source == "task"]
    assert given.endswith(f"cognitive_start {start}, cognitive_step 7")
    window.close()


PUSHES = """name = "Test pushes"
drill = "perturbations"
instructions = "Stand relaxed."
task_s = {task_s}
get_ready_s = 0
perturbations = true
"""


def test_a_stray_push_mark_is_no_response_in_the_results_and_not_averaged(qtbot, tmp_path, data_dir):
    # 3 s still stance and a 7 s task: the simulated series has no push in it (its first comes
    # 3 s into the task and only when 4 s remain after it), so a P is a stray press.
    window = make_window(qtbot, tmp_path, data_dir, PUSHES, task_s=7.0)
    window.start_drill()
    qtbot.waitUntil(
        lambda: window.session.status.phase is Phase.TASK and window.session.status.elapsed_s > 5.0,
        timeout=under_load_ms(30000),
    )
    qtbot.keyClick(window, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=under_load_ms(30000))
    qtbot.waitUntil(lambda: bool(window.results.shown_rows()), timeout=under_load_ms(5000))
    shown = dict(window.results.shown_rows())
    assert shown["Marks without a trunk response"] == "1"
    assert shown["Pushes measured"] == "0"
    offline = analyze_recording(read_recording(window.session.results[0].path))
    assert offline.value("marks_without_response") == 1.0
    assert offline.value("repetitions") == 0.0  # nothing was averaged
    assert not any(m.name.endswith("_latency") for m in offline.measures)
    window.close()


PLANK = """name = "Test plank"
drill = "plank"
instructions = "Hold the plank. Clinician: press E when the position is lost."
task_s = {task_s}
get_ready_s = 0
hold_to_failure = true
"""


def test_the_hold_clock_counts_up_the_same_on_both_screens_and_e_stores_what_it_showed(
    qtbot, tmp_path, data_dir
):
    window = make_window(qtbot, tmp_path, data_dir, PLANK, task_s=40.0)
    view = window.open_patient_view()
    qtbot.waitExposed(view)
    window.start_drill()
    qtbot.waitUntil(lambda: window.session.status.phase is Phase.TASK, timeout=under_load_ms(30000))
    qtbot.waitUntil(lambda: view.countdown.text() == "Get into position", timeout=under_load_ms(5000))
    assert "Clinician" not in view.instruction.text() and "press E" not in view.instruction.text()
    qtbot.waitUntil(lambda: window.hold_clock.clock.state.phase == "holding", timeout=under_load_ms(20000))
    qtbot.waitUntil(
        lambda: window.hold_clock.shown_s(window.now_session_s()) > 2.0, timeout=under_load_ms(10000)
    )
    first = window.hold_clock.shown_s(window.now_session_s())
    qtbot.wait(300)
    assert window.hold_clock.shown_s(window.now_session_s()) > first  # counts up
    # The patient holding the plank sees the hold position inside its zone (not a red dot).
    assert window.feedback() == (FeedbackMode.HOLD_POSITION, 5.0)
    assert window.drill.zone_label.text() == "Hold zone radius"
    assert view.feedback_area.currentWidget() is view.zone
    assert view.feedback.state in (ZoneState.INSIDE, ZoneState.NEAR_EDGE)
    # Both windows show the same clock.
    assert view.countdown.text().startswith("Hold ") and view.countdown.text() in window.phase.text()
    _activate(qtbot, view)
    shown = window.hold_clock.shown_s(window.now_session_s())
    qtbot.keyClick(view, Qt.Key.Key_E)  # from the patient's window
    qtbot.waitUntil(lambda: not window.session.busy, timeout=under_load_ms(30000))
    (result,) = window.session.results
    assert result.measures.value("held") == pytest.approx(shown, abs=0.2)
    assert result.measures.value("position_lost") == 1.0
    ends = [e for e in read_recording(result.path).events if e.kind is EventKind.HOLD_END]
    assert [e.label for e in ends] == ["position lost"]
    window.close()


def test_each_feedback_mode_draws_its_widget_and_the_tone_sounds_once_per_crossing(qtbot):
    view = PatientView()
    qtbot.addWidget(view)
    played: list[int] = []
    view.tone.enabled = True
    view.tone._effect = None  # QApplication.beep: silent offscreen, counted by `played`
    zone = TargetZone(radius_deg=3.0)
    for flexion in (10.0, 35.0, 36.0, 10.0, 40.0):
        view.show_feedback(FeedbackMode.LUMBAR_FLEXION, 30.0, zone, LiveAngles(lumbar_flexion=flexion))
        played.append(view.tone.played)
    assert played == [0, 1, 1, 1, 2]
    assert view.feedback_area.currentWidget() is view.gauge and view.gauge.state is ZoneState.OUTSIDE
    assert "hips" in view.words.text()
    view.tone.enabled = False
    view.show_feedback(FeedbackMode.LUMBAR_FLEXION, 30.0, zone, LiveAngles(lumbar_flexion=10.0))
    view.show_feedback(FeedbackMode.LUMBAR_FLEXION, 30.0, zone, LiveAngles(lumbar_flexion=45.0))
    assert view.tone.played == 2  # sound off: silent
    # A plank held 2° from its posture is inside the hold zone: no red dot for doing it right.
    view.show_feedback(FeedbackMode.HOLD_POSITION, 5.0, zone, LiveAngles((2.0, 0.5), (1.0, 0.0)))
    assert view.feedback_area.currentWidget() is view.zone and view.zone.state is ZoneState.INSIDE
    assert view.words.text() == "Good — hold it"
    view.show_feedback(FeedbackMode.BEND, 90.0, zone, LiveAngles((60.0, 0.0), (30.0, 0.0)))
    assert view.feedback_area.currentWidget() is view.bend_area
    assert view.share_gauge.value == pytest.approx(50.0) and view.range_gauge.value == 60.0
    assert view.words.text() == "Keep going — 30° to go"
    view.show_feedback(FeedbackMode.STANCE_SWAY, 3.0, zone, LiveAngles((0.5, 0.5)))
    assert view.zone.state is ZoneState.INSIDE and view.words.text() == "Good — stay still"
    view.resize(900, 760)  # as the main window opens it
    view.show()
    assert view.full_screen_button.isVisible()
    # Its frame fits the screen's available area (the test screen is 800 × 800).
    available = view.screen().availableGeometry()
    assert available.contains(view.frameGeometry()), (view.frameGeometry(), available)
    view.toggle_full_screen()
    assert view.isFullScreen()
    # Walkthrough s9 #14: the "Full screen (F11)" button stayed on the patient's full screen.
    assert not view.full_screen_button.isVisible()
    view.toggle_full_screen()
    assert not view.isFullScreen()
    assert view.full_screen_button.isVisible()


WALKING = """name = "Test walking"
drill = "gait"
instructions = "Walk along the corridor."
task_s = {task_s}
get_ready_s = 0
"""


def test_a_walking_patient_gets_no_stance_feedback(qtbot, tmp_path, data_dir):
    """Walking drills had the stance circle: with the trunk swinging as it does in walking, the
    patient view said "Back to the middle" in red for the whole walk (seen in a walkthrough of
    every drill family). Walking gets no feedback: the words and the clock only, and the drill
    panel offers no zone to set."""
    drill = make_drill("gait", DrillOptions(duration_s=12, seed=3))
    sink, _ = simulate(drill, SessionSettings(drill="gait"), seed=3)
    trunk = np.degrees(sink.all_angles.inclination(Placement.LUMBAR))
    worst = trunk[np.nanargmax(np.hypot(trunk[:, 0], trunk[:, 1]))]
    assert np.hypot(*worst) > 3.0  # outside the stance circle's default radius
    window = make_window(qtbot, tmp_path, data_dir, WALKING)
    assert window.drill.zone_label.text() == "No feedback for the patient"
    assert not window.drill.zone.isVisibleTo(window) and not window.drill.sound.isVisibleTo(window)
    view = window.open_patient_view()
    mode, limit = window.feedback()
    view.show_feedback(mode, limit, window.zone, LiveAngles((float(worst[0]), float(worst[1]))))
    assert not view.feedback_area.isVisibleTo(view)
    assert view.words.text() == "" and view.feedback is None
    window.close()


def test_the_patient_reads_no_words_meant_for_the_clinician():
    text = "Lie prone. Hold the trunk horizontal. Clinician: press E when the posture is lost."
    assert patient_words(text) == "Lie prone. Hold the trunk horizontal."
    assert patient_words("Stand still.", "cognitive").startswith("Sit")


def test_feedback_words_beside_a_colour_word_trial_carry_no_colour_of_their_own(qtbot):
    """In the colour-word task the patient names the ink of a word: the feedback words just above
    it ("Good — stay still" in green) would be one more coloured word. They are neutral while a
    colour-word trial shows, in their zone's colour otherwise."""
    from gui.model.cognitive import Trial
    from gui.patient_view import INK, NEUTRAL_INK

    view = PatientView()
    qtbot.addWidget(view)
    zone = TargetZone(radius_deg=3.0)
    still = LiveAngles((0.5, 0.5))

    def words_colour() -> str:
        return view.words.styleSheet().split("color: ")[1].split(";")[0]

    view.show_feedback(FeedbackMode.STANCE_SWAY, 3.0, zone, still)
    assert view.words.text() == "Good — stay still" and words_colour() not in (NEUTRAL_INK, "")
    view._show_task(
        Trial(prompt="RED", ink="green", answer="green", choices=("red", "green", "blue", "yellow"))
    )
    view.show_feedback(FeedbackMode.STANCE_SWAY, 3.0, zone, still)
    assert words_colour() == NEUTRAL_INK and NEUTRAL_INK not in INK.values()
    view._show_task(
        Trial(prompt="17 - 3 = ?", ink="", answer="14", choices=())
    )  # serial subtraction: no inks
    view.show_feedback(FeedbackMode.STANCE_SWAY, 3.0, zone, still)
    assert words_colour() != NEUTRAL_INK


def test_the_seated_baseline_is_not_told_to_stand_and_a_wait_for_the_sensors_has_no_clock(qtbot):
    """Walkthrough s11 #7: the cognitive-only baseline (done seated) read "Stand still · 3 s";
    #6: a repetition held back for a dead sensor shows why the patient waits, with no countdown."""
    from gui.model.clinic import RunStatus

    view = PatientView()
    qtbot.addWidget(view)
    seated = RunStatus(Phase.CALIBRATING, condition="cognitive", remaining_s=2.4)
    assert view._clock_text(seated, None, 0.0) == "Sit still · 3 s"
    standing = RunStatus(Phase.CALIBRATING, condition="dual", remaining_s=2.4)
    assert view._clock_text(standing, None, 0.0) == "Stand still · 3 s"
    waiting = RunStatus(Phase.WAITING_FOR_SENSORS, condition="dual")
    assert view._clock_text(waiting, None, 0.0) == "Waiting for the sensors"


def test_the_gauge_never_shows_minus_zero(qtbot):
    """Walkthrough s11 #8: "-0°" on the patient's gauge (a value between -0.5 and 0)."""
    from gui.feedback_widgets import GaugeWidget

    gauge = GaugeWidget("Low back bend")
    qtbot.addWidget(gauge)
    gauge.show_value(-0.3, 20.0, "°", ZoneState.INSIDE)
    assert gauge.value_text == "0°"
    gauge.show_value(-0.6, 20.0, "°", ZoneState.INSIDE)
    assert gauge.value_text == "-1°"
