"""The clinician's actions on the session (the main window's buttons and keys): scan, calibrate,
start and stop a drill, end a task, the marks (push, hold start, note, pain) and the patient's
answers. Each refusal of the session is shown as a message, never raised."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QInputDialog, QWidget

from gui.model.clinic import ClinicSession
from gui.model.cognitive import COLOURS
from gui.model.protocols import DrillProtocol
from gui.panels import CalibrationPanel, DrillPanel
from gui.results_panel import ResultsPanel
from sensors.events import EventKind


class SessionActions:
    """Mixed into the main window, which provides the attributes and the three methods below."""

    session: ClinicSession
    drill: DrillPanel
    calibration: CalibrationPanel
    results: ResultsPanel
    running: DrillProtocol | None
    _shown_results: int

    def show_error(self, text: str) -> None:
        raise NotImplementedError

    def clear_error(self) -> None:
        raise NotImplementedError

    def _apply_setup(self) -> bool:
        raise NotImplementedError

    def _guard(self, action: Callable[[], object]) -> None:
        """Run a session action, showing any refusal as a message."""
        try:
            action()
        except (RuntimeError, ValueError) as error:
            self.show_error(str(error))

    def scan(self) -> None:
        if self._apply_setup():
            self._guard(self.session.scan)

    def calibrate(self, with_bend: bool) -> None:
        if self._apply_setup():
            self.calibration.result.setText("Calibrating…")
            self.calibration.result.setStyleSheet("font-size: 11pt;")
            self._guard(lambda: self.session.check_calibration(with_bend))

    def start_drill(self) -> None:
        protocol = self.drill.current()
        if protocol is None:
            self.show_error("choose a drill first")
            return
        if self._apply_setup():
            self._shown_results = 0
            self.clear_error()
            self.running = protocol
            self.results.start_protocol(protocol)
            self._guard(lambda: self.session.run_protocol(protocol, self.drill.notes.text()))

    def stop(self) -> None:
        self.session.stop()

    def end_task(self) -> None:
        """E: end the task now; in a hold the session marks the position lost at this instant."""
        self.session.end_task()

    def mark_hold_start(self) -> None:
        """H: the position is reached; the hold clock starts now (else the pipeline detects it)."""
        self._guard(lambda: self.session.mark(EventKind.HOLD_START, "position reached"))

    def answer_key(self, number: int) -> None:
        """Answer key 1–4 (either window): the colour, while a colour-word trial is shown."""
        trial = self.session.trial
        if trial is not None and trial.ink and 1 <= number <= len(COLOURS):
            self._answer(COLOURS[number - 1])

    def mark_push(self) -> None:
        self._guard(lambda: self.session.mark(EventKind.PERTURBATION, "push"))

    def add_note(self) -> None:
        if self.session.status.recording is None:
            self.show_error("nothing is being recorded: start a drill first")
            return
        at = self.session.status.elapsed_s
        text, ok = QInputDialog.getText(self._parent(), "Note", f"Note at {at:.1f} s:")
        if ok and text.strip():
            self._guard(lambda: self.session.mark(EventKind.ANNOTATION, text.strip()))

    def rate_pain(self) -> None:
        if self.session.status.recording is None:
            self.show_error("nothing is being recorded: start a drill first")
            return
        value, ok = QInputDialog.getInt(
            self._parent(), "Pain rating", "Pain now (0 = none, 10 = worst imaginable):", 0, 0, 10
        )
        if ok:
            self._guard(lambda: self.session.mark(EventKind.PAIN_RATING, "NRS", float(value)))

    def _answer_heard(self) -> None:
        """The clinician entered what the patient said aloud."""
        text = self.drill.answer.text().strip()
        if text:
            self.drill.answer.clear()
            self._answer(text)

    def _answer(self, given: str) -> None:
        self._guard(lambda: self.session.answer(given))

    def _parent(self) -> QWidget | None:
        """The window, as the dialogs' parent."""
        return self if isinstance(self, QWidget) else None
