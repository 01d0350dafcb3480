"""The real main window, offscreen, driven by its keys: virtual sensors over the BLE stack,
calibration, a short drill with a marked push, a note and a pain rating, then the recording."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QInputDialog, QLabel, QStyle, QStyleOptionComboBox

from engine.messages import Notice, Severity, Topic
from gui.app import show_unexpected_errors
from gui.main_window import SHORTCUTS, MainWindow
from gui.model.clinic import Phase, RecordingResult
from gui.model.protocols import load_protocols
from gui.model.settings import DashboardSettings, load_settings
from recordings import read_recording
from recordings.analysis import analyze_recording
from recordings.recovery import needs_recovery
from sensors.events import EventKind
from sensors.placements import Placement
from sensors.processing.errors import ProcessingError
from sensors.source import LinkState, SensorHealth
from tests.gui.conftest import write_protocol
from tests.processes import under_load_ms

STANCE = """name = "Test stance"
drill = "quiet-stance"
instructions = "Stand still."
task_s = {task_s}
get_ready_s = 0
"""


def make_window(qtbot, tmp_path: Path, data_dir: Path, protocol: str, task_s: float = 4.0) -> MainWindow:
    folder = tmp_path / "protocols"
    write_protocol(folder, "zz-test", protocol.format(task_s=task_s))
    protocols, problems = load_protocols(folder)
    settings = DashboardSettings(subject_id="P010", data_dir=str(data_dir), protocol="zz-test")
    window = MainWindow(settings, tmp_path / "settings.json", protocols, problems)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)  # keys go to the active window
    return window


def press(qtbot, window: MainWindow, key: Qt.Key) -> None:
    qtbot.keyClick(window, key)


def test_run_a_drill_from_the_keyboard_and_the_recording_holds_what_was_shown(
    qtbot, tmp_path, data_dir, monkeypatch
):
    window = make_window(qtbot, tmp_path, data_dir, STANCE)
    assert window.drill.current().key == "zz-test"
    assert set(window.key_actions) == set(SHORTCUTS)

    press(qtbot, window, Qt.Key.Key_C)
    qtbot.waitUntil(
        lambda: window.calibration.result.text().startswith("Neutral stance calibrated"),
        timeout=under_load_ms(30000),
    )

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("patient reports stiffness", True))
    monkeypatch.setattr(QInputDialog, "getInt", lambda *a, **k: (3, True))
    press(qtbot, window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.session.status.phase is Phase.TASK, timeout=under_load_ms(30000))
    qtbot.waitUntil(lambda: window.session.status.elapsed_s > 4.0, timeout=under_load_ms(5000))
    assert "REC" in window.recording_clock.text() and "sub-P010" in window.recording.text()
    press(qtbot, window, Qt.Key.Key_P)
    press(qtbot, window, Qt.Key.Key_N)
    press(qtbot, window, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=under_load_ms(30000))
    qtbot.waitUntil(lambda: "No measures for" in window.results.heading.text(), timeout=under_load_ms(5000))

    (result,) = window.session.results
    recording = read_recording(result.path)
    marks = {(e.kind, e.source) for e in recording.events}
    assert (EventKind.PERTURBATION, "operator") in marks
    note = next(e for e in recording.events if e.kind is EventKind.ANNOTATION and e.source == "operator")
    assert note.label == "patient reports stiffness"
    pain = next(e for e in recording.events if e.kind is EventKind.PAIN_RATING)
    assert pain.value == 3.0
    assert min(len(s) for s in recording.samples.values()) > 6 * 100

    # A 4-s stance is shorter than its measures need (11 s): the results pane says so, as `stabmon
    # analyze` says of the file (the panes' numbers are `analyze`'s in test_clinic and the holds').
    with pytest.raises(ProcessingError) as refused:
        analyze_recording(recording)
    assert str(refused.value).startswith("not measured: the task lasted 4.0 s")
    assert result.problem == str(refused.value) and result.measures is None
    assert f"No measures for repetition 1: {refused.value}" in window.results.heading.text()
    assert window.results.table.rowCount() == 0

    # The live view drew the session from its buffers, with the push on the traces.
    assert window.redraws > 20
    assert window.buffers.angles.count >= 6 * 100
    assert any(e.kind is EventKind.PERTURBATION for e in window.buffers.events)
    assert window.live.cards["rms_ap"].value.text() == "—"  # a 4 s task: the 10 s sway window never filled

    window.close()
    assert load_settings(tmp_path / "settings.json").subject_id == "P010"


def test_closing_the_window_mid_recording_leaves_a_complete_file(qtbot, tmp_path, data_dir):
    window = make_window(qtbot, tmp_path, data_dir, STANCE, task_s=60.0)
    press(qtbot, window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.session.status.phase is Phase.TASK, timeout=under_load_ms(30000))
    # Session time runs ahead of the synchronised frames by the synchroniser's wait (which grows
    # to 1.2 s when one sensor's data come late on a busy machine) and the first common frame
    # (which depend on the simulated radio, a fresh seed per recording): 2 s margin.
    qtbot.waitUntil(lambda: window.session.status.elapsed_s > 7.0, timeout=under_load_ms(10000))
    path = window.session.status.recording
    window.close()
    assert not needs_recovery(path)
    recording = read_recording(path)
    assert recording.duration_s > 5.0
    assert any(e.label == "stopped by the clinician" for e in recording.events)


def test_errors_are_messages_not_tracebacks(qtbot, tmp_path, data_dir):
    window = make_window(qtbot, tmp_path, data_dir, STANCE)
    for name in ("Jane Doe", "maria"):  # refused in the red banner, not only the status bar
        window.subject.setText(name)
        press(qtbot, window, Qt.Key.Key_F5)
        assert window.banner.isVisible() and "never a name" in window.banner.text()
        assert window.notice_board.banner_severity is Severity.ERROR
        assert not window.session.busy
    window.subject.setText("P010")
    press(qtbot, window, Qt.Key.Key_P)
    assert "start a drill first" in window.banner.text()
    window.close()


DUAL = """name = "Test dual task"
drill = "quiet-stance"
instructions = "Stand still and name the ink colour."
task_s = {task_s}
get_ready_s = 0
repetitions = 1
conditions = ["dual"]
cognitive_task = "stroop"
"""


def test_patient_view_biofeedback_and_colour_word_answers_are_recorded(qtbot, tmp_path, data_dir):
    window = make_window(qtbot, tmp_path, data_dir, DUAL, task_s=6.0)
    press(qtbot, window, Qt.Key.Key_F2)
    view = window.patient_view
    assert view is not None and view.isVisible()
    press(qtbot, window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.session.trial is not None, timeout=under_load_ms(30000))
    qtbot.waitUntil(
        lambda: view.prompt.isVisible() and view.colour_buttons[0].isVisible(), timeout=under_load_ms(2000)
    )
    answers = []
    for k in range(4):
        trial = window.session.trial
        ink = trial.ink
        if k % 2 == 0:
            button = next(b for b in view.colour_buttons if b.text().endswith(ink))
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        else:
            qtbot.keyClick(view, str(1 + ("red", "green", "blue", "yellow").index(ink)))
        answers.append(ink)
        qtbot.waitUntil(lambda t=trial: window.session.trial is not t, timeout=under_load_ms(2000))
        time.sleep(0.1)
    window.drill.zone.setValue(50.0)  # a wide zone: the standing patient stays inside
    qtbot.waitUntil(lambda: view.words.text() == "Good — stay still", timeout=under_load_ms(5000))
    assert view.zone.state.value == "inside"
    assert view.countdown.text().startswith("Go · ")
    qtbot.waitUntil(lambda: not window.session.busy, timeout=under_load_ms(30000))
    (result,) = window.session.results
    assert result.cognitive.responses == 4 and result.cognitive.accuracy == 1.0
    recorded = [e for e in read_recording(result.path).events if e.source == "patient"]
    assert [e.label.split("answered ")[1] for e in recorded] == [f"'{a}' (correct)" for a in answers]
    window.close()


@pytest.fixture(autouse=True)
def _no_real_config(monkeypatch, tmp_path):
    monkeypatch.setenv("STABMON_CONFIG_DIR", str(tmp_path / "config"))


@pytest.mark.xdist_group("lsl")
def test_the_lsl_switch_publishes_the_session_and_its_marks(qtbot, tmp_path, data_dir):
    pylsl = pytest.importorskip("pylsl")
    window = make_window(qtbot, tmp_path, data_dir, STANCE, task_s=5.0)
    window.sensors.lsl.setChecked(True)
    press(qtbot, window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.session.status.phase is Phase.TASK, timeout=under_load_ms(30000))
    found = pylsl.resolve_byprop("name", "stabmon-markers", 1, 5.0)
    assert found, "the dashboard's marker stream is not on the network"
    inlet = pylsl.StreamInlet(found[0])
    inlet.open_stream(timeout=5.0)
    assert pylsl.resolve_byprop("name", "stabmon-angles", 1, 5.0)
    qtbot.wait(300)
    press(qtbot, window, Qt.Key.Key_P)
    markers: list[str] = []
    deadline = time.monotonic() + 10
    while not any("perturbation" in m for m in markers) and time.monotonic() < deadline:
        chunk, _ = inlet.pull_chunk(timeout=0.2)
        markers += [sample[0] for sample in chunk]
        qtbot.wait(10)
    assert any("perturbation" in m for m in markers), markers
    qtbot.waitUntil(lambda: not window.session.busy, timeout=under_load_ms(30000))
    window.close()
    assert load_settings(tmp_path / "settings.json").lsl is True


def test_an_unexpected_error_in_the_window_is_a_message(qtbot, tmp_path, data_dir, monkeypatch):
    window = make_window(qtbot, tmp_path, data_dir, STANCE)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    show_unexpected_errors(window)

    def broken() -> None:
        raise ZeroDivisionError("a bug in a handler")

    window.drill.note_button.setEnabled(True)
    window.drill.note_button.clicked.disconnect()
    window.drill.note_button.clicked.connect(broken)
    qtbot.mouseClick(window.drill.note_button, Qt.MouseButton.LeftButton)
    assert window.banner.isVisible()
    assert "ZeroDivisionError: a bug in a handler" in window.banner.text()
    assert "not affected" in window.banner.text()
    window.close()


def test_a_busy_computer_gets_fewer_redraws_and_the_session_the_processor(qtbot, tmp_path, data_dir):
    from gui.main_window import BUSY_REDRAW_HZ
    from gui.model.live import AngleRows, SessionStarted
    from recordings.plot_data import COLUMNS

    window = make_window(qtbot, tmp_path, data_dir, STANCE)
    window.timer.stop()  # the test drives the ticks
    origin = time.monotonic_ns()

    def feed(seconds_behind: float) -> None:
        """A block of angles whose newest row is `seconds_behind` older than the clock."""
        rows = np.zeros((4, len(COLUMNS)))
        rows[:, 0] = (time.monotonic_ns() - origin) * 1e-9 - seconds_behind - np.arange(4)[::-1] / 100
        window.session.feed.queue.append(AngleRows(rows, time.monotonic_ns()))

    def redraws_in(ticks: int, seconds_behind: float) -> tuple[int, float]:
        """Redraws over `ticks` ticks, each with new data, and the seconds they took."""
        before, start = window.redraws, time.monotonic()
        for _ in range(ticks):
            feed(seconds_behind)
            window.tick()
            qtbot.wait(20)
        return window.redraws - before, time.monotonic() - start

    # Counted in ticks, not in seconds: a loaded machine ticks less often, and that must not
    # look like a window that skips redraws.
    window.session.feed.queue.append(SessionStarted(origin))
    assert redraws_in(20, seconds_behind=0.1)[0] == 20  # every tick with new data redraws
    behind, took_s = redraws_in(60, seconds_behind=3.0)
    assert took_s > 1.0  # 60 ticks of ≥ 20 ms: several busy redraw periods
    assert behind <= took_s * BUSY_REDRAW_HZ + 1
    assert behind < 60 / 4  # far fewer than the ticks
    assert redraws_in(20, seconds_behind=0.1)[0] == 20  # and back to full rate once caught up
    window.close()


def test_the_window_fits_a_1366x768_laptop_and_does_not_grow_with_its_content(qtbot, tmp_path, data_dir):
    window = make_window(qtbot, tmp_path, data_dir, STANCE)
    window.show()
    qtbot.waitExposed(window)
    laptop = (1366, 768)

    def fits() -> bool:
        hint = window.minimumSizeHint()
        return (
            window.width() <= laptop[0]
            and window.height() <= laptop[1]
            and hint.width() <= laptop[0]
            and hint.height() <= laptop[1]
        )

    assert fits(), (window.size(), window.minimumSizeHint())
    size = window.size()
    window.timer.stop()  # the texts below stay as set
    name = "A very long protocol name for a drill that a clinic wrote itself " * 3
    path = tmp_path / ("deep-folder-" * 12) / "sub-P010" / ("sub-P010_ses-x_task-" + "y" * 120 + ".h5")
    window.phase.show_parts(name, "1/3 · task · 12 s")
    window.recording.setText(str(path))
    window.results.show_result(RecordingResult(name, 1, "single", path, "quiet-stance", None, "too short"))
    qtbot.wait(50)
    assert fits(), (window.size(), window.minimumSizeHint())
    assert window.size() == size
    assert window.recording.toolTip().endswith(".h5")  # the whole text stays readable in the tooltip
    assert "…" in _shown_text(window.recording) and _shown_text(window.recording).endswith(".h5")
    window.close()


def test_at_1366x768_with_results_the_traces_keep_legible_plots(qtbot, tmp_path, data_dir):
    window = make_window(qtbot, tmp_path, data_dir, STANCE)
    window.timer.stop()
    window.resize(1366, 768)
    path = tmp_path / "sub-P010" / "sub-P010_ses-x_task-quiet-stance.h5"
    result = RecordingResult("Stance", 1, "single", path, "quiet-stance", None, "too short")
    window.results.show_result(result)
    window._give_results_room()  # what the tick does when a result arrives
    qtbot.wait(50)
    assert window.height() <= 768
    # Room for a few tick labels each (at ~20 px they piled up), nothing of the live view cut.
    heights = [plot.getViewBox().height() for plot in window.live.traces.plots]
    assert min(heights) >= 60, heights
    assert window.live.height() >= window.live.minimumSizeHint().height()
    window.close()


def _shown_text(label: QLabel) -> str:
    """What a label paints (its QLabel text, which an elided label shortens)."""
    return QLabel.text(label)


def test_the_too_busy_notice_goes_once_the_live_data_caught_up(qtbot, tmp_path, data_dir):
    window = make_window(qtbot, tmp_path, data_dir, STANCE)
    window.show()
    window.timer.stop()  # the test drives the ticks
    window.session.notices.append(  # as the engine sends it
        Notice(
            Severity.WARNING,
            "The computer is too busy to keep up: the live view now runs up to 2.1 s behind so that "
            "no sensor's data are left out. The recording is complete. Closing other programs helps.",
            Topic.TOO_BUSY,
        )
    )
    window.tick()
    assert window.busy_note.isVisible() and "too busy" in window.busy_note.text()
    assert not window.banner.isVisible()  # not an error that needs the clinician
    window.tick()  # idle: no session runs, nothing is behind
    assert not window.busy_note.isVisible()
    window.close()


def _cut_off_combos(window: MainWindow) -> list[tuple[str, int, int]]:
    """(text, px the text needs, px its combo box shows) of every item of every combo box of the
    left column's current tab that does not fit its box."""
    cut = []
    for combo in window.setup_tabs.currentWidget().findChildren(QComboBox):
        option = QStyleOptionComboBox()
        combo.initStyleOption(option)
        field = combo.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, combo
        )
        for i in range(combo.count()):
            needed = combo.fontMetrics().horizontalAdvance(combo.itemText(i))
            if needed > field.width():
                cut.append((combo.itemText(i), needed, field.width()))
    return cut


def test_at_1366x768_the_left_column_shows_every_choice_whole_without_scrolling(qtbot, tmp_path, data_dir):
    window = make_window(qtbot, tmp_path, data_dir, STANCE)
    window.timer.stop()
    window.resize(1366, 768)
    window.statusBar().showMessage("a message: the status bar takes its room too")
    # Six sensors, widest values (what a long session with Bluetooth sensors shows).
    rows = {
        p: SensorHealth(p, LinkState.RECONNECTING, 100.0, 0.123, 0.0456, -123.0, 100.0, 1.0, 10**6, 0, -100.0)
        for p in list(Placement)[:6]
    }
    window.sensors.show_health(rows, now_s=0.0)
    window.sensors.show_health(rows, now_s=100.0)  # the rate and drift settle (shown) after a while
    for tab in range(window.setup_tabs.count()):
        window.setup_tabs.setCurrentIndex(tab)
        qtbot.wait(50)
        name = window.setup_tabs.tabText(tab)
        # "Virtual sensors over BLE (si" was all the source box showed beside the placement names.
        assert _cut_off_combos(window) == [], name
        assert not window.left.verticalScrollBar().isVisible(), name
        assert not window.left.horizontalScrollBar().isVisible(), name
        # The sensor table's eight columns, whole.
        if window.setup_tabs.currentWidget() is window.sensors:
            health = window.sensors.health
            assert health.item(0, 6).text() == "46" and health.item(0, 7).text() == "-123"
            assert not health.horizontalScrollBar().isVisible()
    window.close()
