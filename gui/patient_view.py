"""The patient's practice screen: keep the dot in the circle; a hold timer; the cognitive task in
dual-task recordings. Large, simple, readable from across the room."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPen, QShortcut
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from gui.model.biofeedback import HoldTimer, TargetZone, ZoneState
from gui.model.clinic import ClinicSession, Phase
from gui.model.cognitive import COLOURS, Trial
from gui.model.live import LiveBuffers

ZONE_COLOURS = {
    ZoneState.INSIDE: QColor("#2e7d32"),
    ZoneState.NEAR_EDGE: QColor("#f9a825"),
    ZoneState.OUTSIDE: QColor("#c62828"),
    ZoneState.NO_DATA: QColor("#9e9e9e"),
}
INK = {"red": "#d32f2f", "green": "#2e7d32", "blue": "#1565c0", "yellow": "#f9a825"}


class ZoneWidget(QWidget):
    """The target circle and the trunk's position as a dot; the view spans 2.5 zone radii."""

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(360, 360)
        self.zone = TargetZone()
        self.position = (math.nan, math.nan)  # (AP, ML) deg
        self.state = ZoneState.NO_DATA

    def paintEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height())
        centre = QPointF(self.width() / 2, self.height() / 2)
        scale = side / 2 / (2.5 * self.zone.radius_deg)  # pixels per degree
        radius = self.zone.radius_deg * scale
        painter.setPen(QPen(QColor("#555555"), 3))
        painter.setBrush(QColor(ZONE_COLOURS[self.state]).lighter(170))
        painter.drawEllipse(centre, radius, radius)
        painter.setPen(QPen(QColor("#bbbbbb"), 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(centre.x(), 0), QPointF(centre.x(), self.height()))
        painter.drawLine(QPointF(0, centre.y()), QPointF(self.width(), centre.y()))
        ap, ml = self.position
        if math.isfinite(ap) and math.isfinite(ml):
            limit = 2.4 * self.zone.radius_deg
            dx = max(-limit, min(limit, ml - self.zone.centre_ml_deg)) * scale
            dy = max(-limit, min(limit, ap - self.zone.centre_ap_deg)) * scale
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(ZONE_COLOURS[self.state])
            painter.drawEllipse(QPointF(centre.x() + dx, centre.y() - dy), side / 22, side / 22)
        painter.end()


class PatientView(QWidget):
    """Biofeedback window. `refresh` is called on the main window's timer."""

    answered = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("stabmon — practice")
        self.setStyleSheet("background: white;")
        self.instruction = QLabel("Waiting for the clinician…")
        self.instruction.setWordWrap(True)
        self.instruction.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.instruction.setStyleSheet("font-size: 24pt; color: #222;")
        self.countdown = QLabel("")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.countdown.setStyleSheet("font-size: 40pt; font-weight: 700; color: #1565c0;")
        self.zone = ZoneWidget()
        self.timer_label = QLabel("")
        self.timer_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.timer_label.setStyleSheet("font-size: 22pt; color: #333;")
        self.prompt = QLabel("")
        self.prompt.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prompt.setStyleSheet("font-size: 44pt; font-weight: 700;")
        self.entry = QLineEdit()
        self.entry.setPlaceholderText("answer, then Enter")
        self.entry.setStyleSheet("font-size: 28pt;")
        self.entry.setMaximumWidth(300)
        self.entry.returnPressed.connect(self._submit_entry)
        self.colour_buttons = []
        colours = QHBoxLayout()
        for k, colour in enumerate(COLOURS, start=1):
            button = QPushButton(f"{k}  {colour}")
            button.setStyleSheet(f"font-size: 20pt; padding: 10px; color: white; background: {INK[colour]};")
            button.clicked.connect(lambda _=False, c=colour: self.answered.emit(c))
            shortcut = QShortcut(QKeySequence(str(k)), self)
            shortcut.activated.connect(lambda c=colour: self._colour_key(c))
            self.colour_buttons.append(button)
            colours.addWidget(button)
        task = QVBoxLayout()
        task.addWidget(self.prompt)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.entry)
        row.addStretch()
        task.addLayout(row)
        task.addLayout(colours)
        layout = QVBoxLayout(self)
        layout.addWidget(self.instruction)
        layout.addWidget(self.countdown)
        layout.addWidget(self.zone, 1)
        layout.addWidget(self.timer_label)
        layout.addLayout(task)
        self.hold = HoldTimer()
        self.sound = False
        self._trial: Trial | None = None
        self._recording: Path | None = None
        self._show_task(None)

    def _submit_entry(self) -> None:
        text = self.entry.text().strip()
        if text:
            self.entry.clear()
            self.answered.emit(text)

    def _colour_key(self, colour: str) -> None:
        if self._trial is not None and self._trial.ink:
            self.answered.emit(colour)

    def _show_task(self, trial: Trial | None) -> None:
        self._trial = trial
        stroop = trial is not None and bool(trial.ink)
        self.prompt.setVisible(trial is not None)
        self.entry.setVisible(trial is not None and not stroop)
        for button in self.colour_buttons:
            button.setVisible(stroop)
        if trial is None:
            return
        self.prompt.setText(trial.prompt)
        colour = INK.get(trial.ink, "#222222")
        self.prompt.setStyleSheet(f"font-size: 44pt; font-weight: 700; color: {colour};")
        if not stroop:
            self.entry.setFocus()

    def refresh(self, session: ClinicSession, buffers: LiveBuffers, zone: TargetZone) -> None:
        status = session.status
        if status.recording != self._recording:
            self._recording = status.recording
            self.hold.reset()
        self.instruction.setText(status.instruction or "Waiting for the clinician…")
        if math.isfinite(status.remaining_s) and status.phase is not Phase.IDLE:
            self.countdown.setText(f"{status.phase.value} · {math.ceil(status.remaining_s):.0f} s")
        else:
            self.countdown.setText(status.phase.value if status.phase is not Phase.IDLE else "")
        ap, ml = buffers.latest_trunk()
        state = zone.state(ap, ml)
        if self.sound and state is ZoneState.OUTSIDE and self.zone.state is not ZoneState.OUTSIDE:
            QApplication.beep()
        self.zone.zone, self.zone.position, self.zone.state = zone, (ap, ml), state
        self.zone.update()
        if status.phase is Phase.TASK:
            self.hold.update(buffers.latest_time_s, state)
            self.timer_label.setText(
                f"In the zone {self.hold.current_s:4.1f} s   ·   best {self.hold.longest_s:4.1f} s"
            )
        trial = session.trial
        if trial != self._trial:
            self._show_task(trial)
