"""The main window shows the session's notices by their severity and topic, never by their text:
real notices from a real engine (offscreen window, simulated sensors), and the routing table."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engine.messages import Notice, Severity, Topic
from gui.model.clinic import Phase
from gui.notices import BANNER_COLOURS, Place, place_of
from tests.gui.test_main_window import STANCE, make_window, press
from tests.processes import under_load_ms


@pytest.mark.parametrize("topic", list(Topic))
@pytest.mark.parametrize("severity", list(Severity))
def test_the_place_of_a_notice_is_its_topic_then_its_severity(severity, topic):
    expected = (
        Place.BUSY_NOTE
        if topic is Topic.TOO_BUSY
        else Place.BANNER
        if severity >= Severity.WARNING
        else Place.STATUS_BAR
    )
    assert place_of(Notice(severity, "some text", topic)) is expected


def _banner_colour(window) -> str:
    return window.banner.styleSheet().split("color: ")[1].split(";")[0]


def test_real_notices_show_where_their_severity_says_in_their_colour(qtbot, tmp_path, data_dir):
    window = make_window(qtbot, tmp_path, data_dir, STANCE, task_s=0.3)
    window.sensors.set_mode(simulate=True, virtual_link=False)  # the simulator: quicker than BLE

    # Info (a scan found the sensors): the status bar only.
    press(qtbot, window, Qt.Key.Key_F3)
    qtbot.waitUntil(
        lambda: window.statusBar().currentMessage() == "found 2 sensor(s)", timeout=under_load_ms(30000)
    )
    qtbot.waitUntil(lambda: not window.session.busy, timeout=under_load_ms(10000))
    assert not window.banner.isVisible() and not window.busy_note.isVisible()

    # An error (the engine cannot create the recording: its folder is a file): the banner, red.
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    window.settings.data_dir = str(blocked)
    press(qtbot, window, Qt.Key.Key_F5)
    qtbot.waitUntil(
        lambda: "cannot create the recording" in window.banner.text(), timeout=under_load_ms(30000)
    )
    qtbot.waitUntil(lambda: not window.session.busy, timeout=under_load_ms(10000))
    assert window.notice_board.banner_severity is Severity.ERROR
    assert _banner_colour(window) == BANNER_COLOURS[Severity.ERROR][1]
    assert "cannot create the recording" in window.statusBar().currentMessage()

    # A warning (a 0.3 s task leaves nothing to measure): the next drill clears the error, and the
    # banner says the warning in amber.
    window.settings.data_dir = str(data_dir)
    press(qtbot, window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.session.status.phase is not Phase.IDLE, timeout=under_load_ms(10000))
    assert not window.banner.isVisible()
    # Wait for that warning itself: on a busy computer another may show first (saving fell behind,
    # rightly), which the engine takes back once the file is saved, before the repetition ends.
    qtbot.waitUntil(lambda: "repetition 1: " in window.banner.text(), timeout=under_load_ms(30000))
    assert window.banner.text().startswith("repetition 1: ") and "\n" not in window.banner.text()
    assert window.notice_board.banner_severity is Severity.WARNING
    assert _banner_colour(window) == BANNER_COLOURS[Severity.WARNING][1]
    # The busy note says only that the computer is too busy (it may, on a loaded one), never this.
    assert "repetition" not in window.busy_note.text()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=under_load_ms(10000))
    window.close()


def test_the_text_of_a_notice_does_not_decide_where_it_shows(qtbot, tmp_path, data_dir):
    window = make_window(qtbot, tmp_path, data_dir, STANCE)
    window.timer.stop()  # the test drives the ticks
    # The old sorting by text sent "found …" to the status bar and "The computer is too busy…" to
    # the busy note, whatever they were.
    window.session.notices.append(Notice(Severity.ERROR, "found a sensor with a broken clock"))
    window.tick()
    assert window.banner.isVisible() and window.banner.text() == "found a sensor with a broken clock"
    window.clear_error()
    window.session.notices.append(Notice(Severity.INFO, "The computer is too busy? No.", Topic.SCAN))
    window.tick()
    assert not window.banner.isVisible() and not window.busy_note.isVisible()
    assert window.statusBar().currentMessage() == "The computer is too busy? No."
    # One line per topic, the most severe first, in its colour.
    window.session.notices.append(Notice(Severity.WARNING, "disk almost full", Topic.DISK))
    window.session.notices.append(Notice(Severity.ERROR, "writing failed", Topic.RECORDING))
    window.session.notices.append(Notice(Severity.WARNING, "disk still almost full", Topic.DISK))
    window.tick()
    assert window.banner.text() == "writing failed\ndisk still almost full"
    assert _banner_colour(window) == BANNER_COLOURS[Severity.ERROR][1]
    window.close()


def test_an_info_of_a_topic_takes_down_its_warning_but_not_an_error(qtbot, tmp_path, data_dir):
    window = make_window(qtbot, tmp_path, data_dir, STANCE)
    window.timer.stop()  # the test drives the ticks
    notices = window.session.notices
    notices.append(Notice(Severity.WARNING, "Saving the recording is falling behind", Topic.SAVING))
    notices.append(Notice(Severity.ERROR, "writing failed", Topic.RECORDING))
    window.tick()
    assert window.banner.text() == "writing failed\nSaving the recording is falling behind"
    # Saving caught up: its warning goes, the error of another topic stays, in red.
    notices.append(Notice(Severity.INFO, "Saving the recording caught up", Topic.SAVING))
    window.tick()
    assert window.banner.text() == "writing failed"
    assert window.notice_board.banner_severity is Severity.ERROR
    assert window.statusBar().currentMessage() == "Saving the recording caught up"
    # An INFO of the error's topic does not take the error down.
    notices.append(Notice(Severity.INFO, "recording saved", Topic.RECORDING))
    window.tick()
    assert window.banner.isVisible() and window.banner.text() == "writing failed"
    # The last warning going takes the banner down.
    window.clear_error()
    notices.append(Notice(Severity.WARNING, "no sensors found", Topic.SCAN))
    window.tick()
    assert window.banner.isVisible()
    notices.append(Notice(Severity.INFO, "found 2 sensor(s)", Topic.SCAN))
    window.tick()
    assert not window.banner.isVisible() and window.notice_board.banner_severity is None
    window.close()
