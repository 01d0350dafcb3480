"""What the main window's top bar says about the run, and which of its controls can be pressed."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QLabel, QWidget

from gui.model.clinic import Phase, RunStatus
from gui.panels import CalibrationPanel, DrillPanel, SensorPanel


def phase_text(status: RunStatus, hold_words: str = "") -> str:
    """'Prone plank · 2/3 · task · 12 s', or with a hold's clock (`hold_words`) in place of the
    countdown: 'Prone plank · 2/3 · Hold 8.4 s'."""
    text = status.phase.value
    if status.repetitions:
        text = f"{status.protocol} · {status.repetition}/{status.repetitions} · {text}"
        if status.condition == "dual":
            text += " (dual task)"
        elif status.condition == "cognitive":
            text += " (cognitive task only)"
    if hold_words:
        return f"{text} · {hold_words}"
    if math.isfinite(status.remaining_s):
        text += f" · {math.ceil(status.remaining_s):.0f} s"
    return text


def set_style(widget: QWidget, sheet: str) -> None:
    """Set a style sheet only when it changes: setting one re-polishes the widget, at every tick."""
    if widget.styleSheet() != sheet:
        widget.setStyleSheet(sheet)


def show_recording(label: QLabel, status: RunStatus) -> None:
    """'● REC  12.3 s  <file>' in red while recording, else 'not recording' in grey."""
    if status.recording is not None:
        label.setText(f"● REC {status.elapsed_s:6.1f} s  {status.recording}")
        set_style(label, "font-size: 11pt; color: #b00020;")
    else:
        label.setText("not recording")
        set_style(label, "font-size: 11pt; color: #555;")


def enable_controls(
    drill: DrillPanel, calibration: CalibrationPanel, sensors: SensorPanel, status: RunStatus, busy: bool
) -> None:
    """What can be pressed now: starting anything while idle, ending the task in its task phase,
    the marks (push, note, pain) while recording."""
    starts = (drill.start_button, calibration.still_button, calibration.bend_button, sensors.scan_button)
    for button in starts:
        button.setEnabled(not busy)
    drill.end_button.setEnabled(status.phase is Phase.TASK)
    recording = status.recording is not None
    for button in (drill.push_button, drill.note_button, drill.pain_button):
        button.setEnabled(recording)
