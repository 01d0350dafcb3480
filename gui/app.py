"""`stabmon dashboard`: the Qt application (main window, patient view, review window)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from types import TracebackType

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from gui.main_window import MainWindow
from gui.model.protocols import load_protocols
from gui.model.settings import default_settings_path, load_settings_with_notice

log = logging.getLogger(__name__)


def build_window(args: argparse.Namespace) -> MainWindow:
    """The main window set up from the arguments and the remembered settings."""
    settings_path = args.settings or default_settings_path()
    settings, notice = load_settings_with_notice(settings_path)
    if args.simulate:
        settings.simulate = True
    if args.subject:
        settings.subject_id = args.subject
    if args.data_dir:
        settings.data_dir = str(args.data_dir)
    if args.run:
        settings.protocol = args.run
    folders = [args.protocols] if args.protocols else []
    protocols, problems = load_protocols(*folders)
    window = MainWindow(settings, settings_path, protocols, problems)
    if notice:
        window.show_error(notice)
    return window


def show_unexpected_errors(window: MainWindow) -> None:
    """An error nobody caught (a bug) becomes a message in the window and a logged traceback,
    never a traceback on the clinician's screen; the session thread keeps recording."""

    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        log.error("unexpected error", exc_info=(kind, error, trace))
        window.show_error(f"Something went wrong ({kind.__name__}: {error}). The recording is not affected.")

    sys.excepthook = hook


def _quiet_offscreen_plugin() -> None:
    """Offscreen, Qt's platform plugin says "This plugin does not support …" whenever a window
    is sized or raised: nothing a user can act on. Those lines are dropped; every other message
    of Qt's still goes to standard error."""

    def handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if not message.startswith("This plugin does not support"):
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def run(args: argparse.Namespace) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    if QApplication.platformName() == "offscreen":
        _quiet_offscreen_plugin()
    app.setApplicationName("stabmon")
    # Python collects reference cycles in whichever thread allocates: in the session's or a report's
    # thread it could free a Qt widget while the GUI thread paints it (a crash). Collect on the GUI
    # thread's timer instead, once a second.
    collector = GarbageCollector(interval=1.0)  # noqa: F841 (kept alive while the app runs)
    window = build_window(args)
    show_unexpected_errors(window)
    window.show()
    if args.patient_view:
        window.open_patient_view()
    if args.run:
        current = window.drill.current()
        if current is None or current.key != args.run:
            raise ValueError(f"no protocol {args.run!r}; see the drill list in the dashboard")
        QTimer.singleShot(300, window.start_drill)
        if args.quit_when_done:
            _quit_when_done(window, args.screenshot)
    return app.exec()


def patient_screenshot(screenshot: Path) -> Path:
    """Where the patient view's picture goes beside the main window's: NAME-patient.png."""
    return screenshot.with_name(f"{screenshot.stem}-patient{screenshot.suffix}")


def _quit_when_done(window: MainWindow, screenshot: Path | None) -> None:
    def check() -> None:
        if window.session.busy:
            return
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            window.grab().save(str(screenshot))
            if window.patient_view is not None and window.patient_view.isVisible():
                window.patient_view.grab().save(str(patient_screenshot(screenshot)))
        for result in window.session.results:
            print(f"recorded {result.path}")
        window.close()

    timer = QTimer(window)
    timer.setInterval(500)
    timer.timeout.connect(check)
    QTimer.singleShot(1500, timer.start)
