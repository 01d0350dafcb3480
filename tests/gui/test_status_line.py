"""The main window's status line names the running drill whole and says how far it is, at 1366×768
and 1920×1080 (session 9 left: at 1366×768 it read "…bation series (pushes) · 1/1 · task · 18 s",
the drill's name cut from the left). The status is the engine's own report, handled as the
client's reader thread hands it over; the window then draws it at its tick."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel

from engine.messages import Phase, RunStatus, StatusReport
from gui.main_window import MainWindow
from gui.model.protocols import load_protocols
from gui.model.settings import DashboardSettings
from gui.status_line import SMALLEST_NAME_PT

SCREENS = ((1366, 768), (1920, 1080))
BUNDLED, _ = load_protocols()


def painted(label: QLabel) -> tuple[str, float]:
    """The plain text a label paints (after any eliding) and its width in px, in the label's font."""
    doc = QTextDocument()
    doc.setDefaultFont(label.font())
    doc.setDocumentMargin(0)
    doc.setHtml(QLabel.text(label))
    return doc.toPlainText(), doc.idealWidth()


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    """One main window for the module (its engine process starts once)."""
    folder = tmp_path_factory.mktemp("status-line")
    settings = DashboardSettings(subject_id="P010", data_dir=str(folder / "library"))
    window = MainWindow(settings, folder / "settings.json", BUNDLED)
    window.timer.stop()  # the test ticks
    window.show()
    yield window
    window.close()


def report(qtbot, window: MainWindow, status: RunStatus) -> None:
    window.session._on_report(StatusReport(status))
    window.tick()
    qtbot.wait(10)  # the top bar's layout follows the new text


def recording_path(tmp_path: Path, name: str) -> Path:
    return tmp_path / "library" / "sub-P010" / f"sub-P010_{name}_20261129T063606391Z.h5"


#: How the line names a repetition's condition in its task phase (single task: "task").
TASK_WORDS = {"single": "task", "dual": "dual task", "cognitive": "cognitive task only"}


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_bundled_drill_is_named_whole_beside_its_progress(qtbot, window, tmp_path, screen):
    window.resize(*screen)
    qtbot.wait(20)
    subject_width = window.subject.width()
    for protocol in BUNDLED:
        for repetition, condition in enumerate(protocol.conditions or ("single",), start=1):
            status = RunStatus(
                Phase.TASK,
                protocol=protocol.name,
                repetition=repetition,
                repetitions=protocol.repetitions,
                condition=condition,
                remaining_s=17.2,
                elapsed_s=1234.5,
                recording=recording_path(tmp_path, protocol.key),
            )
            report(qtbot, window, status)
            text, width = painted(window.phase)
            progress = f"{repetition}/{protocol.repetitions} · {TASK_WORDS[condition]} · 18 s"
            assert text == f"{protocol.name} · {progress}", screen
            assert width <= window.phase.contentsRect().width(), (text, width, window.phase.width())
            # The recording's clock is whole too; the file's path gets the room left.
            assert painted(window.recording_clock)[0] == "● REC 1234.5 s"
            assert window.recording.toolTip() == str(status.recording)
            assert painted(window.recording)[0].endswith(".h5")
            # The subject's id keeps its field.
            assert window.subject.width() == subject_width >= 150
            if screen == (1920, 1080):
                assert window.phase.name_pt == 22  # the whole line at its full size
            else:
                assert window.phase.name_pt >= SMALLEST_NAME_PT, (protocol.name, window.phase.name_pt)
    assert window.width() <= screen[0]


def test_a_name_too_long_for_the_line_is_set_smaller_then_elided_at_its_end(qtbot, window, tmp_path):
    window.resize(1366, 768)
    qtbot.wait(20)
    long = "Dual-task stance with serial subtraction by sevens from a random number, eyes closed on foam"
    status = RunStatus(
        Phase.TASK, protocol=long, repetition=2, repetitions=3, condition="dual", remaining_s=9.0
    )
    report(qtbot, window, status)
    text, width = painted(window.phase)
    assert text.endswith(" · 2/3 · dual task · 9 s")  # the progress, whole
    name = text.removesuffix(" · 2/3 · dual task · 9 s")
    assert name.startswith("Dual-task stance with serial subtraction") and name.endswith("…")
    assert window.phase.name_pt == SMALLEST_NAME_PT
    assert width <= window.phase.contentsRect().width()
    assert window.phase.toolTip() == f"{long} · 2/3 · dual task · 9 s"
    assert window.width() <= 1366

    # Before the task, the condition is said after the phase.
    report(
        qtbot,
        window,
        RunStatus(
            Phase.GET_READY,
            protocol="Pushes",
            repetition=1,
            repetitions=3,
            condition="cognitive",
            remaining_s=4.0,
        ),
    )
    assert painted(window.phase)[0] == "Pushes · 1/3 · get ready (cognitive task only) · 4 s"

    # Idle again: the line says so, no drill named.
    report(qtbot, window, RunStatus())
    assert painted(window.phase)[0] == "ready"
    assert painted(window.recording_clock)[0] == "not recording"


def test_the_calibration_tabs_result_sits_under_its_buttons(qtbot, window):
    """Seen beside the status line at 1366×768: the calibration's result stood alone in the middle
    of its empty tab, 260 px below the buttons it answers."""
    window.resize(1366, 768)
    window.setup_tabs.setCurrentWidget(window.calibration)
    qtbot.wait(20)
    panel = window.calibration
    result = panel.result
    gap = result.geometry().top() - panel.still_button.geometry().bottom()
    # A label's text is centred in its height: the label is as tall as its text, right under.
    assert 0 <= gap <= 20 and result.height() <= result.heightForWidth(result.width()) + 4, (
        gap,
        result.height(),
    )
    window.setup_tabs.setCurrentWidget(window.drill)
