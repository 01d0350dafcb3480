"""The clinician's main window: sensors, calibration, drill runner, live view and results.

A QTimer drains the session's live feed into ring buffers and redraws, as often as MAX_REDRAW_HZ
while the window's thread stays within GUI_CPU_SHARE of a core (`RedrawPacer`); nothing in the
window touches BLE or the recording directly. Every action has a key (see `SHORTCUTS`).
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.live_view import LiveView
from gui.model.biofeedback import TargetZone
from gui.model.calibration_check import CalibrationCheck
from gui.model.clinic import ClinicConfig, ClinicSession, Phase
from gui.model.live import LiveBuffers
from gui.model.protocols import DrillProtocol
from gui.model.settings import DashboardSettings, save_settings
from gui.panels import CalibrationPanel, DrillPanel, ElidedLabel, ResultsPanel, SensorPanel
from gui.patient_view import PatientView
from gui.review_window import ReviewWindow
from sensors.drills import drill_family
from sensors.events import EventKind
from sensors.identity import SensorFamily
from sensors.placements import parse_placement

log = logging.getLogger(__name__)

#: What each key does, shown in Help → Shortcuts.
SHORTCUTS = {
    "F5": "start the selected drill",
    "Esc": "stop (the recording is kept)",
    "Space": "skip the get-ready or rest countdown",
    "E": "end the task now (hold to failure)",
    "P": "mark a push (perturbation) now",
    "N": "add a note at this moment",
    "R": "record a pain rating 0–10",
    "C": "calibration: neutral stance",
    "B": "calibration: neutral stance and forward bend",
    "F3": "scan for sensors",
    "F2": "open the patient view",
    "Ctrl+O": "open a recording for review",
}

#: The redraw rate the timer aims at, and the slowest it backs off to when a redraw costs more
#: than GUI_CPU_SHARE of a core at that rate (the window's thread, painting included).
MAX_REDRAW_HZ = 60.0
MIN_REDRAW_HZ = 10.0
GUI_CPU_SHARE = 0.5
#: When the live data run this far (s) behind the clock, the computer is too busy: the window
#: redraws at BUSY_REDRAW_HZ only, leaving the processor to the session.
BUSY_BEHIND_S = 0.75
BUSY_REDRAW_HZ = 2.0


class MainWindow(QMainWindow):
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
        self.session = ClinicSession(self._config())
        self.patient_view: PatientView | None = None
        self.review_window: ReviewWindow | None = None
        self._shown_results = 0
        self._shown_check: CalibrationCheck | None = None
        self._health_at = 0.0
        self.redraws = 0
        self._drawn_at = -math.inf

        self.subject = QLineEdit(settings.subject_id)
        self.subject.setPlaceholderText("pseudonymous subject id, e.g. P017")
        self.subject.setMaximumWidth(220)
        # The protocol name and the file path are elided: they never widen the window.
        self.phase = ElidedLabel("ready", Qt.TextElideMode.ElideLeft)  # the phase and time stay
        self.phase.setStyleSheet("font-size: 22pt; font-weight: 700; color: #1565c0;")
        self.recording = ElidedLabel("not recording")
        self.recording.setStyleSheet("font-size: 11pt; color: #555;")
        self.banner = QLabel("")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fdecea; color: #b00020; font-size: 12pt; padding: 6px;")
        self.banner.hide()
        # "The computer is too busy": up while the live data run behind, gone once they caught up.
        self.busy_note = QLabel("")
        self.busy_note.setWordWrap(True)
        self.busy_note.setStyleSheet("background: #fff4e5; color: #8a4b00; font-size: 11pt; padding: 4px;")
        self.busy_note.hide()
        top = QHBoxLayout()
        top.addWidget(QLabel("Subject"))
        top.addWidget(self.subject)
        top.addSpacing(20)
        top.addWidget(self.phase, 3)
        top.addWidget(self.recording, 2)
        self.sensor_alert = QLabel("")
        self.sensor_alert.setWordWrap(True)
        self.sensor_alert.setStyleSheet("color: #b00020; font-size: 12pt; font-weight: 600;")

        self.sensors = SensorPanel()
        self.sensors.set_mode(settings.simulate, settings.virtual_link)
        self.sensors.family.setCurrentText(settings.family)
        self.sensors.lsl.setChecked(settings.lsl)
        for placement_name, sensor_id in settings.assignments.items():
            try:
                self.sensors.assign[parse_placement(placement_name)].setCurrentText(sensor_id)
            except (ValueError, KeyError):
                continue
        self.calibration = CalibrationPanel()
        self.drill = DrillPanel(protocols)
        self.drill.select(settings.protocol)
        self.drill.zone.setValue(settings.zone_radius_deg)
        self.drill.sound.setChecked(settings.sound)
        self.results = ResultsPanel()
        self.live = LiveView()
        self.zone = TargetZone(radius_deg=settings.zone_radius_deg)

        setup = QTabWidget()
        setup.addTab(self.sensors, "1 · Sensors")
        setup.addTab(self.calibration, "2 · Calibration")
        self.setup_tabs = setup
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(setup)
        left_layout.addWidget(self.drill)
        left_layout.addStretch()
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(300)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.live)
        right.addWidget(self.results)
        right.setSizes([700, 200])
        splitter = QSplitter()
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setSizes([470, 900])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(top)
        layout.addWidget(self.drill.controls)
        layout.addWidget(self.banner)
        layout.addWidget(self.busy_note)
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
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.pacer = RedrawPacer(self.timer)
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
        d.end_button.clicked.connect(self.session.end_task)
        d.push_button.clicked.connect(self.mark_push)
        d.note_button.clicked.connect(self.add_note)
        d.pain_button.clicked.connect(self.rate_pain)
        d.patient_button.clicked.connect(self.open_patient_view)
        d.centre_button.clicked.connect(self.centre_zone)
        d.zone.valueChanged.connect(self._zone_changed)
        d.sound.toggled.connect(self._sound_changed)

    def _make_menus(self) -> None:
        actions = {
            "F5": ("&Start drill", self.start_drill),
            "Esc": ("S&top", self.stop),
            "Space": ("Go &now", self.session.skip_wait),
            "E": ("&End task", self.session.end_task),
            "P": ("Mark &push", self.mark_push),
            "N": ("Add &note…", self.add_note),
            "R": ("Pain &rating…", self.rate_pain),
            "C": ("&Calibrate (neutral stance)", lambda: self.calibrate(False)),
            "B": ("Calibrate with forward &bend", lambda: self.calibrate(True)),
            "F3": ("Sc&an for sensors", self.scan),
            "F2": ("&Patient view", self.open_patient_view),
            "Ctrl+O": ("&Open recording…", self.open_review),
        }
        file_menu = self.menuBar().addMenu("&File")
        drill_menu = self.menuBar().addMenu("&Drill")
        self.shortcut_actions: dict[str, QAction] = {}
        for key, (text, handler) in actions.items():
            action = QAction(text, self)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            action.triggered.connect(handler)
            (file_menu if key in ("F2", "Ctrl+O", "F3") else drill_menu).addAction(action)
            self.shortcut_actions[key] = action
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        shortcuts = QAction("&Shortcuts", self)
        shortcuts.triggered.connect(
            lambda: self.show_info("\n".join(f"{k:>7}  {v}" for k, v in SHORTCUTS.items()))
        )
        help_menu.addAction(shortcuts)

    def _config(self) -> ClinicConfig:
        s = self.settings
        assignments = {}
        for name, sensor_id in s.assignments.items():
            try:
                assignments[parse_placement(name)] = sensor_id
            except ValueError:
                continue
        placements = []
        for name in s.placements:
            try:
                placements.append(parse_placement(name))
            except ValueError:
                log.warning("settings: unknown placement %r ignored", name)
        return ClinicConfig(
            subject_id=s.subject_id,
            placements=tuple(placements),
            data_dir=Path(s.data_dir) if s.data_dir else None,
            simulate=s.simulate,
            family=SensorFamily(s.family),
            assignments=assignments,
            rate_hz=s.rate_hz,
            lsl=s.lsl,
            virtual_link=s.virtual_link,
        )

    def _collect_settings(self) -> None:
        s = self.settings
        s.subject_id = self.subject.text().strip()
        s.simulate = self.sensors.simulate
        s.virtual_link = self.sensors.virtual_link
        s.family = self.sensors.family.currentText()
        s.assignments = {p.value: v for p, v in self.sensors.assignments().items()}
        protocol = self.drill.current()
        s.protocol = protocol.key if protocol else ""
        s.zone_radius_deg = self.drill.zone.value()
        s.sound = self.drill.sound.isChecked()
        s.lsl = self.sensors.lsl.isChecked()

    def _apply_setup(self) -> bool:
        """Hand the panels' choices to the session; False (with a message) while busy."""
        self._collect_settings()
        try:
            self.session.configure(self._config())
        except RuntimeError as error:
            self.show_error(str(error))
            return False
        return True

    # Actions -----------------------------------------------------------------------------

    def _guard(self, action: object) -> None:
        """Run a session action, showing any refusal as a message."""
        try:
            action()  # type: ignore[operator]
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
            self._guard(lambda: self.session.run_protocol(protocol, self.drill.notes.text()))

    def stop(self) -> None:
        self.session.stop()

    def mark_push(self) -> None:
        self._guard(lambda: self.session.mark(EventKind.PERTURBATION, "push"))

    def add_note(self) -> None:
        if self.session.status.recording is None:
            self.show_error("nothing is being recorded: start a drill first")
            return
        at = self.session.status.elapsed_s
        text, ok = QInputDialog.getText(self, "Note", f"Note at {at:.1f} s:")
        if ok and text.strip():
            self._guard(lambda: self.session.mark(EventKind.ANNOTATION, text.strip()))

    def rate_pain(self) -> None:
        if self.session.status.recording is None:
            self.show_error("nothing is being recorded: start a drill first")
            return
        value, ok = QInputDialog.getInt(
            self, "Pain rating", "Pain now (0 = none, 10 = worst imaginable):", 0, 0, 10
        )
        if ok:
            self._guard(lambda: self.session.mark(EventKind.PAIN_RATING, "NRS", float(value)))

    def open_patient_view(self) -> PatientView:
        if self.patient_view is None:
            self.patient_view = PatientView()
            self.patient_view.answered.connect(self._answer)
            self.patient_view.resize(900, 900)
        self.patient_view.sound = self.drill.sound.isChecked()
        self.patient_view.show()
        self.patient_view.raise_()
        return self.patient_view

    def _answer(self, given: str) -> None:
        self._guard(lambda: self.session.answer(given))

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
        if protocol is not None:
            self.live.show_drill(drill_family(protocol.drill))

    def _zone_changed(self, radius: float) -> None:
        self.zone = TargetZone(self.zone.centre_ap_deg, self.zone.centre_ml_deg, radius)

    def _sound_changed(self, on: bool) -> None:
        if self.patient_view is not None:
            self.patient_view.sound = on

    # Messages ----------------------------------------------------------------------------

    def show_error(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()
        self.statusBar().showMessage(text.splitlines()[0], 15000)

    def clear_error(self) -> None:
        self.banner.hide()

    def show_info(self, text: str) -> None:
        self.statusBar().showMessage(text.splitlines()[0], 10000)
        self.banner.setText(text)
        self.banner.setStyleSheet("background: #e8f0fe; color: #0d47a1; font-size: 12pt; padding: 6px;")
        self.banner.show()

    # The timer ---------------------------------------------------------------------------

    def tick(self) -> None:
        """Drain the live feed, redraw, and show the session's state (paced by `pacer`)."""
        now = time.monotonic()
        self.pacer.pace(now)
        self.buffers.drain(self.session.feed)
        behind = self.buffers.behind_s(time.monotonic_ns()) > BUSY_BEHIND_S
        if self.busy_note.isVisible() and not (behind and self.session.busy):
            self.busy_note.hide()
        if (not behind or now - self._drawn_at >= 1 / BUSY_REDRAW_HZ) and self.live.refresh(
            self.buffers, now
        ):
            self.redraws += 1
            self._drawn_at = now
        status = self.session.status
        text = status.phase.value
        if status.repetitions:
            text = f"{status.protocol} · {status.repetition}/{status.repetitions} · {text}"
            if status.condition == "dual":
                text += " (dual task)"
        if math.isfinite(status.remaining_s):
            text += f" · {math.ceil(status.remaining_s):.0f} s"
        self.phase.setText(text)
        if status.recording is not None:
            self.recording.setText(f"● REC {status.elapsed_s:6.1f} s  {status.recording}")
            _set_style(self.recording, "font-size: 11pt; color: #b00020;")
        else:
            self.recording.setText("not recording")
            _set_style(self.recording, "font-size: 11pt; color: #555;")
        busy = self.session.busy
        self.drill.start_button.setEnabled(not busy)
        self.calibration.still_button.setEnabled(not busy)
        self.calibration.bend_button.setEnabled(not busy)
        self.sensors.scan_button.setEnabled(not busy)
        self.drill.end_button.setEnabled(status.phase is Phase.TASK)
        recording = status.recording is not None
        for button in (self.drill.push_button, self.drill.note_button, self.drill.pain_button):
            button.setEnabled(recording)
        if now - self._health_at > 0.5:
            self._health_at = now
            self.sensors.show_health(self.session.health, now)
            self.sensor_alert.setText(self.sensors.warnings.text() if self.session.busy else "")
        for message in self.session.take_messages():
            if _is_busy(message):
                self.busy_note.setText(message)
                self.busy_note.show()
            elif _is_problem(message):
                self.show_error(message)
            else:
                self.statusBar().showMessage(message, 8000)
        if self.session.discovered and self.sensors.found.rowCount() != len(self.session.discovered):
            self.sensors.show_discovered(self.session.discovered)
        if len(self.session.results) > self._shown_results:
            self._shown_results = len(self.session.results)
            self.results.show_result(self.session.results[-1])
        if self.session.dual_task_effect is not None:
            self.results.show_dual_task(self.session.dual_task_effect)
        check = self.session.calibration_check
        if check is not None and check is not self._shown_check:
            self._shown_check = check
            self.calibration.show_check(check)
        if self.patient_view is not None and self.patient_view.isVisible():
            self.patient_view.refresh(self.session, self.buffers, self.zone)

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


def _set_style(widget: QWidget, sheet: str) -> None:
    """Set a style sheet only when it changes: setting one re-polishes the widget, at every tick."""
    if widget.styleSheet() != sheet:
        widget.setStyleSheet(sheet)


def _is_problem(message: str) -> bool:
    return not message.startswith("found ")


def _is_busy(message: str) -> bool:
    """The session's "computer too busy" notice: it holds while the live data run behind only."""
    return message.startswith("The computer is too busy")


def fitting_size(window: QWidget) -> QSize:
    """The window's opening size: 1366×768 (a common laptop screen), or the screen's available area
    when that is smaller. A size the clinician chose is remembered in the settings."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    wanted = QSize(1366, 768)
    if screen is None:
        return wanted
    return wanted.boundedTo(screen.availableGeometry().size())


class RedrawPacer:
    """Sets a timer's interval so the thread it runs on spends at most GUI_CPU_SHARE of a core:
    every half second, the thread's CPU time over the wall time since the last look (ticks and
    Qt's painting alike) decides whether the next interval shortens (to 1/MAX_REDRAW_HZ) or
    lengthens (to 1/MIN_REDRAW_HZ)."""

    period_s = 0.5

    def __init__(self, timer: QTimer) -> None:
        self.timer = timer
        self.interval_ms = 1000 / MAX_REDRAW_HZ
        self.share = 0.0
        self._since = (time.monotonic(), time.thread_time())
        timer.setInterval(round(self.interval_ms))

    def pace(self, now_s: float, cpu_s: float | None = None) -> None:
        """Look at the thread's CPU time (`cpu_s`, s; time.thread_time() unless given) at
        monotonic time `now_s` (s), and set the timer's interval when a period has passed."""
        wall0, cpu0 = self._since
        if now_s - wall0 < self.period_s:
            return
        cpu = time.thread_time() if cpu_s is None else cpu_s
        self.share = (cpu - cpu0) / (now_s - wall0)
        self._since = (now_s, cpu)
        # Proportional: the interval the measured share would have needed, moved halfway there.
        needed = self.interval_ms * self.share / GUI_CPU_SHARE
        target = min(max(needed, 1000 / MAX_REDRAW_HZ), 1000 / MIN_REDRAW_HZ)
        self.interval_ms += 0.5 * (target - self.interval_ms)
        self.timer.setInterval(round(self.interval_ms))
