"""What the main window's top bar says about the run."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QWidget

from gui.model.clinic import RunStatus


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
