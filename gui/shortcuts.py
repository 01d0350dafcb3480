"""The main window's keys: each action's key, menu entry and help line. Every key is an
application shortcut, so it works whichever stabmon window has the focus (the patient view
included): the clinician's marks and the patient's answer keys alike."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

#: What each key does, shown in Help → Shortcuts.
SHORTCUTS = {
    "F5": "start the selected drill",
    "Esc": "stop (the recording is kept)",
    "Space": "skip the get-ready or rest countdown, or a repetition waiting for its sensors",
    "H": "hold: position reached (the hold clock starts)",
    "E": "end the task now (a hold: position lost, the clock stops)",
    "P": "mark a push (perturbation) now",
    "N": "add a note at this moment",
    "R": "record a pain rating 0–10",
    "C": "calibration: neutral stance",
    "B": "calibration: neutral stance and forward bend",
    "1": "answer: red (colour words)",
    "2": "answer: green (colour words)",
    "3": "answer: blue (colour words)",
    "4": "answer: yellow (colour words)",
    "F3": "scan for sensors",
    "F2": "open the patient view",
    "F11": "patient view full screen (on / off)",
    "Ctrl+O": "open a recording for review",
}
#: Menu entries: key → (menu, text).
_MENU = {
    "F5": ("Drill", "&Start drill"),
    "Esc": ("Drill", "S&top"),
    "Space": ("Drill", "Go &now"),
    "H": ("Drill", "&Hold: position reached"),
    "E": ("Drill", "&End task / position lost"),
    "P": ("Drill", "Mark &push"),
    "N": ("Drill", "Add &note…"),
    "R": ("Drill", "Pain &rating…"),
    "C": ("Drill", "&Calibrate (neutral stance)"),
    "B": ("Drill", "Calibrate with forward &bend"),
    "1": ("Answer", "&1 red"),
    "2": ("Answer", "&2 green"),
    "3": ("Answer", "&3 blue"),
    "4": ("Answer", "&4 yellow"),
    "F3": ("File", "Sc&an for sensors"),
    "F2": ("File", "&Patient view"),
    "F11": ("File", "Patient view &full screen"),
    "Ctrl+O": ("File", "&Open recording…"),
}


def install_actions(
    window: QMainWindow, handlers: dict[str, Callable[[], object]], show_help: Callable[[str], None]
) -> dict[str, QAction]:
    """Menus File, Drill, Answer and Help on `window`, one application-wide action per key of
    SHORTCUTS calling `handlers[key]`; Help → Shortcuts calls `show_help` with the key list."""
    if set(handlers) != set(SHORTCUTS):
        raise ValueError(f"handlers for {sorted(set(SHORTCUTS) ^ set(handlers))} are missing or unknown")
    menus = {name: window.menuBar().addMenu(f"&{name}") for name in ("File", "Drill", "Answer")}
    actions: dict[str, QAction] = {}
    for key, (menu, text) in _MENU.items():
        action = QAction(text, window)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        action.triggered.connect(handlers[key])
        menus[menu].addAction(action)
        actions[key] = action
    menus["File"].addSeparator()
    quit_action = QAction("&Quit", window)
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)
    quit_action.triggered.connect(window.close)
    menus["File"].addAction(quit_action)
    help_action = QAction("&Shortcuts", window)
    help_action.triggered.connect(lambda: show_help("\n".join(f"{k:>7}  {v}" for k, v in SHORTCUTS.items())))
    window.menuBar().addMenu("&Help").addAction(help_action)
    return actions
