"""The patient's practice screen, readable from 2 m: what to do in plain words, the feedback the
protocol chose (stance sway, lumbar flexion against a limit, hold position, bend), the hold's
stopwatch, and the cognitive task of dual-task recordings. F11 (or its button) makes it full
screen. The answer keys 1–4 and the clinician's keys are application-wide (the main window's
actions), so they work whichever window has the focus."""

from __future__ import annotations

import logging
import math
import re
import struct
import tempfile
import wave
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gui.feedback_widgets import ZONE_COLOURS, GaugeWidget, ZoneWidget
from gui.model.biofeedback import (
    Feedback,
    FeedbackMode,
    LiveAngles,
    LiveHoldClock,
    TargetZone,
    ZoneState,
    hold_clock_words,
    live_feedback,
)
from gui.model.clinic import ClinicSession, Phase, RunStatus
from gui.model.cognitive import COLOURS, Trial
from gui.model.live import LiveBuffers
from gui.redraw import fit_frame_on_screen
from gui.status_text import set_style
from recordings.plot_data import LUMBAR_SAG, PELVIS_AP, PELVIS_ML, TRUNK_AP, TRUNK_ML

log = logging.getLogger(__name__)

#: The bend gauge's colour on the way to its target (not a warning).
GOING = QColor("#1565c0")
INK = {"red": "#d32f2f", "green": "#2e7d32", "blue": "#1565c0", "yellow": "#f9a825"}
#: The feedback words' colour while a colour-word trial is shown (none of the inks).
NEUTRAL_INK = "#222222"
#: What the patient reads for each phase.
PHASE_WORDS = {
    Phase.GET_READY: "Get ready",
    Phase.CONNECTING: "Get ready",
    Phase.WAITING_FOR_SENSORS: "Waiting for the sensors",
    Phase.CALIBRATING: "Stand still",
    Phase.BEND: "Bend forward",
    Phase.TASK: "Go",
    Phase.SAVING: "Well done",
    Phase.REST: "Rest",
}
#: The cognitive-only baseline is done seated: its still phase does not say "Stand still".
SEATED_PHASE_WORDS = {Phase.CALIBRATING: "Sit still"}
#: A sentence addressed to the clinician is not for the patient's screen.
_CLINICIAN_SENTENCE = re.compile(r"\s*Clinician:[^.]*\.?")


def patient_words(instruction: str, condition: str = "single") -> str:
    """The instruction without sentences addressed to the clinician; the cognitive-only baseline
    asks the patient to sit."""
    text = _CLINICIAN_SENTENCE.sub("", instruction).strip()
    if condition == "cognitive":
        return "Sit and keep still: only the task on the screen this time."
    return text or "Waiting for the clinician…"


def phase_words(phase: Phase, condition: str = "single") -> str:
    """What the patient reads for a phase of a repetition in `condition`."""
    seated = SEATED_PHASE_WORDS if condition == "cognitive" else {}
    return seated.get(phase) or PHASE_WORDS.get(phase, phase.value)


def latest_angles(buffers: LiveBuffers) -> LiveAngles:
    """The newest live angles of the buffers (deg)."""
    count = buffers.angles.count
    if count == 0:
        return LiveAngles()
    row = buffers.angles.data[(count - 1) % buffers.angles.capacity]
    return LiveAngles(
        (float(row[TRUNK_AP]), float(row[TRUNK_ML])),
        (float(row[PELVIS_AP]), float(row[PELVIS_ML])),
        float(row[LUMBAR_SAG]),
    )


class Tone:
    """The warning tone: QtMultimedia's QSoundEffect when this PySide6 has it, else the system
    beep. Silent unless `enabled`; `played` counts the tones sounded."""

    def __init__(self) -> None:
        self.enabled = False
        self.played = 0
        self._effect = _sound_effect()

    def sound(self) -> None:
        if not self.enabled:
            return
        self.played += 1
        if self._effect is not None:
            self._effect.play()
        else:
            QApplication.beep()


def _sound_effect() -> Any:
    """An 880 Hz, 0.25 s tone as a QSoundEffect, or None without QtMultimedia."""
    try:
        from PySide6.QtMultimedia import QSoundEffect
    except ImportError:
        return None
    path = Path(tempfile.gettempdir()) / "stabmon-tone.wav"
    if not path.exists():
        rate = 22050
        samples = (int(12000 * math.sin(2 * math.pi * 880 * k / rate)) for k in range(rate // 4))
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    effect = QSoundEffect()
    effect.setSource(QUrl.fromLocalFile(str(path)))
    return effect


def _label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


#: The screen height (px) the font sizes below are for; larger screens scale them up.
BASE_HEIGHT_PX = 768


class PatientView(QWidget):
    """Biofeedback window. `refresh` is called on the main window's timer."""

    answered = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("stabmon — practice")
        self.setStyleSheet("background: white;")
        self._scale = 1.0
        self._fitted = False  # its frame fitted on screen at the first show
        self._sheets: dict[QWidget, tuple[float, str]] = {}  # widget → (font pt at 768 px, rest)
        self.instruction = _label()
        self.instruction.setText("Waiting for the clinician…")
        self.countdown = _label()
        self.words = _label()
        self.words.setWordWrap(False)
        self.zone = ZoneWidget()
        self.gauge = GaugeWidget("Low back bend")
        self.range_gauge = GaugeWidget("Bend")
        self.share_gauge = GaugeWidget("From the low back")
        self.bend_area = bend = QWidget()
        bend_row = QHBoxLayout(bend)
        bend_row.addWidget(self.range_gauge)
        bend_row.addWidget(self.share_gauge)
        self.feedback_area = QStackedWidget()
        for widget in (self.zone, self.gauge, bend):
            self.feedback_area.addWidget(widget)
        self.prompt = _label()
        self.prompt.setWordWrap(False)
        self.entry = QLineEdit()
        self.entry.setPlaceholderText("answer, then Enter")
        self.entry.setMinimumWidth(420)
        self.entry.returnPressed.connect(self._submit_entry)
        self.colour_buttons = []
        colours = QHBoxLayout()
        for k, colour in enumerate(COLOURS, start=1):
            button = QPushButton(f"{k}  {colour}")
            self._style(button, 24, f"padding: 10px; color: white; background: {INK[colour]};")
            button.clicked.connect(lambda _=False, c=colour: self.answered.emit(c))
            self.colour_buttons.append(button)
            colours.addWidget(button)
        self.full_screen_button = QPushButton("Full screen (F11)")
        self._style(self.full_screen_button, 12, "color: #555; background: #f0f0f0;")
        self.full_screen_button.clicked.connect(self.toggle_full_screen)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.entry)
        row.addStretch()
        corner = QHBoxLayout()
        corner.addStretch()
        corner.addWidget(self.full_screen_button)
        layout = QVBoxLayout(self)
        layout.addLayout(corner)
        layout.addWidget(self.instruction)
        layout.addWidget(self.countdown)
        layout.addWidget(self.feedback_area, 1)
        layout.addWidget(self.words)
        layout.addWidget(self.prompt)
        layout.addLayout(row)
        layout.addLayout(colours)
        self._style(self.instruction, 24, "color: #222;")
        self._style(self.countdown, 44, "font-weight: 700; color: #1565c0;")
        self._style(self.words, 40, "font-weight: 700; color: #222;")
        self._style(self.entry, 28, "")
        self.tone = Tone()
        self.feedback: Feedback | None = None
        self._trial: Trial | None = None
        self._show_task(None)

    def _style(self, widget: QWidget, base_pt: float, rest: str) -> None:
        """A style sheet with the font `base_pt` scaled to the window's height (readable from
        2 m on any screen), set only when it changes. One-line labels (the feedback words and
        the task's prompt) get smaller, in steps, until their text fits the window's width."""
        self._sheets[widget] = (base_pt, rest)
        pt = base_pt * self._scale
        if isinstance(widget, QLabel) and not widget.wordWrap():
            font = QFont(widget.font())
            font.setBold("700" in rest)
            room = self.width() - 40
            while pt > 14:
                font.setPointSizeF(pt)
                if QFontMetrics(font).horizontalAdvance(widget.text()) <= room:
                    break
                pt -= 2
            widget.setMinimumHeight(QFontMetrics(font).height() + 6)  # never squeezed to a clip
        set_style(widget, f"font-size: {pt:.0f}pt; {rest}")

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._scale = max(1.0, self.height() / BASE_HEIGHT_PX)
        for widget, (base_pt, rest) in self._sheets.items():
            self._style(widget, base_pt, rest)

    @property
    def sound(self) -> bool:
        return self.tone.enabled

    @sound.setter
    def sound(self, on: bool) -> None:
        self.tone.enabled = on

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if not self._fitted and not self.isFullScreen():  # the frame is known now
            self._fitted = True
            fit_frame_on_screen(self)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        """In full screen the patient's screen shows no button (F11, which works from either
        window, or the File menu leave it); out of it, the button is back."""
        super().changeEvent(event)
        if event.type() is QEvent.Type.WindowStateChange:
            self.full_screen_button.setVisible(not self.isFullScreen())

    def toggle_full_screen(self) -> None:
        """Full screen on the screen the view is on, or back."""
        if self.isFullScreen():
            self.showNormal()
            return
        screen = self.screen()
        if screen is not None:  # without a window manager, full screen alone is only a flag
            self.setGeometry(screen.geometry())
        self.showFullScreen()

    def _submit_entry(self) -> None:
        text = self.entry.text().strip()
        if text:
            self.entry.clear()
            self.answered.emit(text)

    def colour_key(self, number: int) -> None:
        """Answer key `number` (1–4) pressed in either window: the colour, while a colour-word
        trial is shown."""
        if self._trial is not None and self._trial.ink and 1 <= number <= len(COLOURS):
            self.answered.emit(COLOURS[number - 1])

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
        size = 44 if stroop else 32
        self._style(self.prompt, size, f"font-weight: 700; color: {colour};")
        if not stroop:
            self.entry.setFocus()

    def refresh(
        self,
        session: ClinicSession,
        buffers: LiveBuffers,
        mode: FeedbackMode,
        limit: float,
        zone: TargetZone,
        hold: LiveHoldClock | None,
        now_session_s: float,
    ) -> None:
        """Show the session's state: `mode` with the clinician's `limit` (deg) or `zone`; `hold`
        the hold's stopwatch (None outside holds) read at `now_session_s` (s)."""
        status = session.status
        self.instruction.setText(patient_words(status.instruction, status.condition))
        self.countdown.setText(self._clock_text(status, hold, now_session_s))
        # Feedback during the task and the calibration's bend; none while standing still for the
        # calibration (the words say so) or in the cognitive-only baseline (done seated).
        active = status.phase in (Phase.TASK, Phase.BEND) and status.condition != "cognitive"
        self.show_feedback(mode, limit, zone, latest_angles(buffers) if active else None)
        trial = session.trial
        if trial != self._trial:
            self._show_task(trial)

    def _clock_text(self, status: RunStatus, hold: LiveHoldClock | None, now_s: float) -> str:
        if status.phase is Phase.IDLE:
            return ""
        if status.phase is Phase.TASK and hold is not None:
            return hold_clock_words(hold.clock.state, hold.shown_s(now_s))
        words = phase_words(status.phase, status.condition)
        if math.isfinite(status.remaining_s):
            return f"{words} · {math.ceil(status.remaining_s):.0f} s"
        return words

    def show_feedback(
        self, mode: FeedbackMode, limit: float, zone: TargetZone, angles: LiveAngles | None
    ) -> None:
        """Draw the feedback for `angles` (None: nothing to show now), sounding the tone when it
        crosses into the "over the limit" state."""
        with_feedback = mode is not FeedbackMode.NONE
        feedback = live_feedback(mode, limit, angles, zone) if angles is not None and with_feedback else None
        previous, self.feedback = self.feedback, feedback
        self.feedback_area.setVisible(feedback is not None or (self._trial is None and with_feedback))
        if feedback is None:
            self.words.setText("")
            self.feedback_area.setCurrentWidget(self.zone)
            self.zone.state, self.zone.position = ZoneState.NO_DATA, (math.nan, math.nan)
            self.zone.update()
            return
        assert angles is not None
        if feedback.tone and not (previous is not None and previous.tone):
            self.tone.sound()
        colour = ZONE_COLOURS[feedback.state].darker(120).name()
        if self._trial is not None and self._trial.ink:  # a coloured word next to the colour-word
            colour = NEUTRAL_INK  # task's ink would be one more colour to name: the words say it
        self.words.setText(feedback.words)
        self._style(self.words, 40, f"font-weight: 700; color: {colour};")
        if mode in (FeedbackMode.STANCE_SWAY, FeedbackMode.HOLD_POSITION):
            self.feedback_area.setCurrentWidget(self.zone)
            if mode is FeedbackMode.STANCE_SWAY:
                self.zone.zone, self.zone.position = zone, angles.trunk
            else:  # the segment furthest from the hold posture, around the posture itself
                worst = _furthest(angles.trunk, angles.pelvis)
                self.zone.zone, self.zone.position = TargetZone(radius_deg=limit), worst
            self.zone.state = feedback.state
            self.zone.update()
        elif mode is FeedbackMode.LUMBAR_FLEXION:
            self.feedback_area.setCurrentWidget(self.gauge)
            self.gauge.show_value(feedback.value, feedback.limit, "°", feedback.state)
        else:
            self.feedback_area.setCurrentWidget(self.bend_area)
            trunk = angles.trunk[0]
            going = None if trunk >= limit else GOING  # green once the target is reached
            self.range_gauge.show_value(trunk, limit, "°", ZoneState.INSIDE, going)
            self.share_gauge.show_value(feedback.value, feedback.limit, "%", feedback.state)


def _furthest(*positions: tuple[float, float]) -> tuple[float, float]:
    """The position (deg, deg) furthest from (0, 0); NaN ones count as none."""
    return max(positions, key=lambda a: math.hypot(*a) if all(map(math.isfinite, a)) else -1.0)
