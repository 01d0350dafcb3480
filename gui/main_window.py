"""The clinician's main window: sensors, calibration, drill runner, live view and results.

A QTimer drains the session's live feed into ring buffers and redraws, paced by `RedrawPacer`
(gui/redraw.py); nothing in the window touches BLE or the recording directly. Every action has
an application-wide key (gui/shortcuts.py), so the keys work from the patient view too. The hold
clock (`LiveHoldClock`) is one for both windows: the clinician and the patient see the same time.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.messages import CalibrationCheck, Notice, Severity
from gui.live_view import LiveView
from gui.model.biofeedback import DEFAULT_LIMIT_DEG, FeedbackMode, LiveHoldClock, TargetZone, hold_clock_words
from gui.model.clinic import ClinicSession, Phase
from gui.model.cognitive import COLOURS
from gui.model.live import LiveBuffers
from gui.model.protocols import DrillProtocol
from gui.model.settings import DashboardSettings, save_settings
from gui.notices import NoticeBoard, Place
from gui.panels import CalibrationPanel, DrillPanel, ElidedLabel, SensorPanel
from gui.patient_view import PatientView
from gui.redraw import BUSY_BEHIND_S, BUSY_REDRAW_HZ, RedrawPacer, display_rate_hz, fitting_size
from gui.results_panel import ResultsPanel
from gui.review_window import ReviewWindow
from gui.session_actions import SessionActions
from gui.session_setup import clinic_config, collect_settings, show_settings
from gui.shortcuts import SHORTCUTS, install_actions
from gui.status_line import StatusLine
from gui.status_text import enable_controls, phase_parts, show_recording
from sensors.drills import drill_family
from sensors.processing.pipeline import AngleDefinition, angle_definition

log = logging.getLogger(__name__)

#: The recording's file keeps at least this much of the top bar (px): its name's end, elided.
PATH_MIN_PX = 100
#: The subject id's field keeps this much (px): "P017" and longer ids stay whole.
SUBJECT_MIN_PX = 150

__all__ = ["SHORTCUTS", "MainWindow"]


class MainWindow(SessionActions, QMainWindow):
    def __init__(
        self,
        settings: DashboardSettings,
        settings_path: Path,
        protocols: list[DrillProtocol],
        protocol_problems: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("stabmon — clinician")
        self.settings = settings
        self.settings_path = settings_path
        self.buffers = LiveBuffers(rate_hz=settings.rate_hz)
        self.session = ClinicSession(clinic_config(settings))
        self.patient_view: PatientView | None = None
        self.review_window: ReviewWindow | None = None
        self._shown_results = 0
        self._shown_check: CalibrationCheck | None = None
        self._health_at = 0.0
        self.redraws = 0
        self._drawn_at = -math.inf
        self.hold_clock = LiveHoldClock()  # the one hold clock both windows show
        self.running: DrillProtocol | None = None  # the protocol started last
        self.limits: dict[FeedbackMode, float] = {FeedbackMode.STANCE_SWAY: settings.zone_radius_deg}

        self.subject = QLineEdit(settings.subject_id)
        self.subject.setPlaceholderText("pseudonymous subject id, e.g. P017")
        self.subject.setMaximumWidth(220)
        self.subject.setMinimumWidth(SUBJECT_MIN_PX)  # the status line never squeezes the id
        # The drill and its progress first, whole (`StatusLine`), then the recording's clock; the
        # file's path, the least needed while recording, takes the room left (elided, in its
        # tooltip). None of them widens the window.
        self.phase = StatusLine()
        self.phase.show_parts("", "ready")
        self.recording_clock = QLabel("not recording")
        self.recording_clock.setStyleSheet("font-size: 11pt; color: #555;")
        self.recording = ElidedLabel("", Qt.TextElideMode.ElideLeft)  # the file's name stays
        self.recording.setStyleSheet("font-size: 11pt; color: #b00020;")
        self.recording.setMinimumWidth(PATH_MIN_PX)
        # Errors and warnings (the banner), "the computer is too busy" (up while the live data run
        # behind), by the notices' severity and topic. The status bar is there from the start:
        # appearing with the first message, it shifted the whole window.
        self.notice_board = NoticeBoard(self.statusBar().showMessage)
        self.banner = self.notice_board.banner
        self.busy_note = self.notice_board.busy_note
        top = QHBoxLayout()
        top.addWidget(QLabel("Subject"))
        top.addWidget(self.subject)
        top.addSpacing(20)
        top.addWidget(self.phase)
        top.addSpacing(12)
        top.addWidget(self.recording_clock)
        top.addWidget(self.recording, 1)
        self.sensor_alert = QLabel("")
        self.sensor_alert.setWordWrap(True)
        self.sensor_alert.setStyleSheet("color: #b00020; font-size: 12pt; font-weight: 600;")
        self.sensor_alert.hide()  # takes room only while it says something

        self.sensors = SensorPanel()
        self.calibration = CalibrationPanel()
        self.drill = DrillPanel(protocols)
        show_settings(settings, self.sensors, self.drill)
        self.results = ResultsPanel()
        self.live = LiveView()
        self.zone = TargetZone(radius_deg=settings.zone_radius_deg)

        # The steps in order, one at a time: each fits the left column of a 1366×768 screen (the
        # sensors and the drill together did not, and scrolled). The drill is where a session runs.
        setup = QTabWidget()
        setup.addTab(self.sensors, "1 · Sensors")
        setup.addTab(self.calibration, "2 · Calibration")
        setup.addTab(self.drill, "3 · Drill")
        setup.setCurrentWidget(self.drill)
        self.setup_tabs = setup
        scroll = QScrollArea()  # scrolls on a screen smaller than a laptop's only
        scroll.setWidget(setup)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setMinimumWidth(300)
        self.left = scroll
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.live)
        # The results scroll in the room the traces leave them (at 1366×768 the traces need most).
        results_scroll = QScrollArea()
        results_scroll.setWidget(self.results)
        results_scroll.setWidgetResizable(True)
        results_scroll.setFrameShape(QFrame.Shape.NoFrame)
        right.addWidget(results_scroll)
        right.setSizes([700, 200])
        self.right = right
        splitter = QSplitter()
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setSizes([500, 866])  # the sensor table's eight columns whole
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(top)
        layout.addWidget(self.drill.controls)
        layout.addWidget(self.notice_board)
        layout.addWidget(self.sensor_alert)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self.resize(fitting_size(self))
        if settings.window_geometry:
            self.restoreGeometry(QByteArray.fromHex(settings.window_geometry.encode()))

        self._connect_buttons()
        self.drill.list.currentRowChanged.connect(self._protocol_chosen)
        self._protocol_chosen()
        self._make_menus()
        if protocol_problems:
            self.show_error("Some protocol files were skipped:\n" + "\n".join(protocol_problems))
        self.timer = QTimer(self)
        self.pacer = RedrawPacer(self.timer, partial(display_rate_hz, self))
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    # Set-up ------------------------------------------------------------------------------

    def _connect_buttons(self) -> None:
        self.sensors.scan_button.clicked.connect(self.scan)
        self.calibration.still_button.clicked.connect(lambda: self.calibrate(False))
        self.calibration.bend_button.clicked.connect(lambda: self.calibrate(True))
        d = self.drill
        d.start_button.clicked.connect(self.start_drill)
        d.stop_button.clicked.connect(self.stop)
        d.skip_button.clicked.connect(self.session.skip_wait)
        d.end_button.clicked.connect(self.end_task)
        d.push_button.clicked.connect(self.mark_push)
        d.note_button.clicked.connect(self.add_note)
        d.answer.returnPressed.connect(self._answer_heard)
        d.pain_button.clicked.connect(self.rate_pain)
        d.patient_button.clicked.connect(self.open_patient_view)
        d.centre_button.clicked.connect(self.centre_zone)
        d.zone.valueChanged.connect(self._zone_changed)
        d.sound.toggled.connect(self._sound_changed)

    def _make_menus(self) -> None:
        handlers: dict[str, Callable[[], object]] = {
            "F5": self.start_drill,
            "Esc": self.stop,
            "Space": self.session.skip_wait,
            "H": self.mark_hold_start,
            "E": self.end_task,
            "P": self.mark_push,
            "N": self.add_note,
            "R": self.rate_pain,
            "C": lambda: self.calibrate(False),
            "B": lambda: self.calibrate(True),
            "F3": self.scan,
            "F2": self.open_patient_view,
            "F11": lambda: self.open_patient_view().toggle_full_screen(),
            "Ctrl+O": self.open_review,
        }
        for number in range(1, len(COLOURS) + 1):
            handlers[str(number)] = partial(self.answer_key, number)
        self.key_actions = install_actions(self, handlers, self.show_info)

    def _collect_settings(self) -> None:
        zone_radius_deg = self.limits.get(FeedbackMode.STANCE_SWAY, self.settings.zone_radius_deg)
        collect_settings(self.settings, self.subject.text(), self.sensors, self.drill, zone_radius_deg)

    def _apply_setup(self) -> bool:
        """Hand the panels' choices to the session; False (with a message) while busy."""
        self._collect_settings()
        try:
            self.session.configure(clinic_config(self.settings))
        except RuntimeError as error:
            self.show_error(str(error))
            return False
        return True

    def open_patient_view(self) -> PatientView:
        if self.patient_view is None:
            self.patient_view = PatientView()
            self.patient_view.answered.connect(self._answer)
            self.patient_view.resize(900, 760)
        self.patient_view.sound = self.drill.sound.isChecked()
        self.patient_view.show()
        self.patient_view.raise_()
        return self.patient_view

    def open_review(self, path: Path | None = None) -> ReviewWindow:
        if self.review_window is None:
            data_dir = Path(self.settings.data_dir) if self.settings.data_dir else None
            self.review_window = ReviewWindow(data_dir)
        self.review_window.show()
        if isinstance(path, Path):
            self.review_window.open(path)
        else:
            self.review_window.choose_file()
        return self.review_window

    def centre_zone(self) -> None:
        ap, ml = self.buffers.latest_trunk()
        if not (math.isfinite(ap) and math.isfinite(ml)):
            self.show_error("no trunk angle yet: the zone can be centred once the sensors are calibrated")
            return
        self.zone = TargetZone(ap, ml, self.zone.radius_deg)

    def _protocol_chosen(self) -> None:
        protocol = self.drill.current()
        if protocol is None:
            return
        self.live.show_drill(drill_family(protocol.drill))
        mode = protocol.feedback_mode
        limit = protocol.feedback_limit_deg or self.limits.get(mode, protocol.feedback_limit)
        self.drill.show_feedback_mode(mode, limit)

    def feedback(self) -> tuple[FeedbackMode, float]:
        """The patient's feedback mode (of the running protocol, else the selected one) and its
        limit, deg (the drill panel's, which the clinician sets)."""
        if self.session.status.phase is Phase.BEND:  # the calibration step's forward bend
            return FeedbackMode.BEND, DEFAULT_LIMIT_DEG[FeedbackMode.BEND]
        protocol = self.running if self.session.busy and self.running else self.drill.current()
        mode = protocol.feedback_mode if protocol is not None else FeedbackMode.STANCE_SWAY
        return mode, self.drill.zone.value()

    def _zone_changed(self, value: float) -> None:
        protocol = self.drill.current()
        mode = protocol.feedback_mode if protocol is not None else FeedbackMode.STANCE_SWAY
        self.limits[mode] = value
        if mode is FeedbackMode.STANCE_SWAY:
            self.zone = TargetZone(self.zone.centre_ap_deg, self.zone.centre_ml_deg, value)

    def _sound_changed(self, on: bool) -> None:
        if self.patient_view is not None:
            self.patient_view.sound = on

    # Messages ----------------------------------------------------------------------------

    def show_error(self, text: str) -> None:
        """A refusal or failure in the window itself: the banner, red."""
        self.notice_board.show_notice(Notice(Severity.ERROR, text))

    def clear_error(self) -> None:
        self.notice_board.clear()

    def show_info(self, text: str) -> None:
        """Something the clinician asked to see (the key list): the banner, blue."""
        self.notice_board.show_notice(Notice(Severity.INFO, text), Place.BANNER)

    # The timer ---------------------------------------------------------------------------

    def tick(self) -> None:
        """Drain the live feed, redraw, and show the session's state (paced by `pacer`)."""
        now = time.monotonic()
        self.pacer.pace(now)
        self.buffers.drain(self.session.feed)
        behind = self.buffers.behind_s(time.monotonic_ns()) > BUSY_BEHIND_S
        if not (behind and self.session.busy):
            self.notice_board.caught_up()
        if (not behind or now - self._drawn_at >= 1 / BUSY_REDRAW_HZ) and self.live.refresh(
            self.buffers, now
        ):
            self.redraws += 1
            self._drawn_at = now
        status = self.session.status
        hold = self._hold_clock(status.phase)
        session_now = self.now_session_s()  # one instant for both windows' clocks
        hold_words = ""
        if hold is not None:
            state = hold.update(self.buffers.events)
            hold_words = hold_clock_words(state, hold.shown_s(session_now))
        self.phase.show_parts(*phase_parts(status, hold_words))
        show_recording(self.recording_clock, self.recording, status)
        enable_controls(self.drill, self.calibration, self.sensors, status, self.session.busy)
        self.drill.answer.setEnabled(self.session.trial is not None)
        if now - self._health_at > 0.5:
            self._health_at = now
            self.sensors.show_health(self.session.health, now)
            alert = self.sensors.warnings.text() if self.session.busy else ""
            if alert != self.sensor_alert.text() or bool(alert) == self.sensor_alert.isHidden():
                self.sensor_alert.setText(alert)
                self.sensor_alert.setVisible(bool(alert))
        for notice in self.session.take_notices():
            self.notice_board.show_notice(notice)
        if self.session.discovered and self.sensors.found.rowCount() != len(self.session.discovered):
            self.sensors.show_discovered(self.session.discovered)
        if len(self.session.results) > self._shown_results:
            self._shown_results = len(self.session.results)
            self.results.show_result(self.session.results[-1])
            self._give_results_room()
        effect = self.session.dual_task_effect
        if effect is not None and self.results.show_dual_task(effect):
            self._give_results_room()
        check = self.session.calibration_check
        if check is not None and check is not self._shown_check:
            self._shown_check = check
            self.calibration.show_check(check)
        if self.patient_view is not None and self.patient_view.isVisible():
            mode, limit = self.feedback()
            self.patient_view.refresh(self.session, self.buffers, mode, limit, self.zone, hold, session_now)

    def _give_results_room(self) -> None:
        """Results arrived: the results pane gets the height it needs to show them whole, short of
        the live view's least height (the traces stay legible; the results' table scrolls)."""
        sizes = self.right.sizes()
        total = sum(sizes)
        wanted = min(self.results.wanted_height(), total - self.live.minimumSizeHint().height())
        if total > 0 and sizes[1] < wanted:
            self.right.setSizes([total - wanted, wanted])

    def _hold_clock(self, phase: Phase) -> LiveHoldClock | None:
        """The hold clock while a hold's task runs, else None."""
        running = self.running
        if phase is not Phase.TASK or running is None:
            return None
        return self.hold_clock if angle_definition(running.drill) is AngleDefinition.HOLD else None

    def now_session_s(self) -> float:
        """Session time now (s) on the host clock the clinician's keys are stamped with (NaN
        before a session started)."""
        origin = self.buffers.host_origin_ns
        return (time.monotonic_ns() - origin) * 1e-9 if origin is not None else math.nan

    def closeEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        """Stop what runs (its recording is closed and kept) and remember the settings."""
        self.timer.stop()
        self.session.close()
        self._collect_settings()
        self.settings.window_geometry = bytes(self.saveGeometry().toHex().data()).decode()
        try:
            save_settings(self.settings, self.settings_path)
        except OSError as error:
            log.warning("could not save settings to %s: %s", self.settings_path, error)
        for window in (self.patient_view, self.review_window):
            if window is not None:
                window.close()
        super().closeEvent(event)  # type: ignore[arg-type]
