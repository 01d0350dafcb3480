"""What the main window's top bar says about the run, and which of its controls can be pressed."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QLabel, QWidget

from gui.model.clinic import Phase, RunStatus
from gui.panels import CalibrationPanel, DrillPanel, SensorPanel

#: How the status line names a repetition's condition (single task: not named).
CONDITION_WORDS = {"dual": "dual task", "cognitive": "cognitive task only"}


def phase_parts(status: RunStatus, hold_words: str = "") -> tuple[str, str]:
    """The running drill's name ('' outside a protocol) and how far it is: 'Prone plank' and
    '2/3 · task · 12 s', or with a hold's clock (`hold_words`) in place of the countdown:
    '2/3 · task · Hold 8.4 s'; a dual-task repetition's task phase is named by its condition
    ('3/3 · dual task · 12 s'), its other phases carry it ('3/3 · get ready (dual task) · 4 s')."""
    progress = status.phase.value
    name = ""
    if status.repetitions:
        name = status.protocol
        condition = CONDITION_WORDS.get(status.condition, "")
        if condition and status.phase is Phase.TASK:  # 'dual task' is the task phase's name then
            progress = condition
        elif condition:
            progress += f" ({condition})"
        progress = f"{status.repetition}/{status.repetitions} · {progress}"
    if hold_words:
        return name, f"{progress} · {hold_words}"
    if math.isfinite(status.remaining_s):
        progress += f" · {math.ceil(status.remaining_s):.0f} s"
    return name, progress


def set_style(widget: QWidget, sheet: str) -> None:
    """Set a style sheet only when it changes: setting one re-polishes the widget, at every tick."""
    if widget.styleSheet() != sheet:
        widget.setStyleSheet(sheet)


def show_recording(clock: QLabel, path: QLabel, status: RunStatus) -> None:
    """'● REC  12.3 s' in red and the file beside it while recording, else 'not recording' in grey."""
    if status.recording is not None:
        clock.setText(f"● REC {status.elapsed_s:6.1f} s")
        path.setText(str(status.recording))
        set_style(clock, "font-size: 11pt; color: #b00020;")
    else:
        clock.setText("not recording")
        path.setText("")
        set_style(clock, "font-size: 11pt; color: #555;")


def enable_controls(
    drill: DrillPanel, calibration: CalibrationPanel, sensors: SensorPanel, status: RunStatus, busy: bool
) -> None:
    """What can be pressed now: starting anything while idle, ending the task in its task phase,
    the marks (push, note, pain) while recording."""
    starts = (drill.start_button, calibration.still_button, calibration.bend_button, sensors.scan_button)
    for button in starts:
        button.setEnabled(not busy)
    drill.end_button.setEnabled(status.phase is Phase.TASK)
    waiting = status.phase is Phase.WAITING_FOR_SENSORS  # Space skips the waiting repetition
    drill.skip_button.setText("Skip repetition (Space)" if waiting else "Go now (Space)")
    recording = status.recording is not None
    for button in (drill.push_button, drill.note_button, drill.pain_button):
        button.setEnabled(recording)
