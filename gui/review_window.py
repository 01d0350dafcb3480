"""The review window: open a recording (also one still being written), scrub its timeline, see
the live view's plots and the measures, the change since the baseline, and export or report it."""

from __future__ import annotations

import concurrent.futures
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.model.review import ReviewedRecording, review
from gui.model.settings import default_settings_path, load_settings
from gui.panels import read_only_cell, table_widget, wrap_wide_columns
from gui.plots import ReviewTraces
from gui.redraw import fit_frame_on_screen, fitting_size
from gui.review_header import failed_header, loading_header, recording_header
from gui.side_plots import BendCurvesPlot, PerturbationPlot, SwayPlot, show_side_plots
from recordings.compare import Verdict
from recordings.export_bids import export_bids
from recordings.export_csv import export_csv
from recordings.measure_table import session_rows
from recordings.plot_data import TIME, bend_curves, response_traces, sway_path
from recordings.protocol_results import visit_of
from recordings.report import build_report
from recordings.report_cache import FileAnalyses
from recordings.report_history import subject_history
from recordings.subjects import SubjectError, load_subject
from sensors.drills import drill_family
from sensors.errors import UnknownDrillError

#: The size the window opens with on a screen with room for it (else the screen's available area).
REVIEW_SIZE = QSize(1280, 860)
#: Seconds of data around the cursor that the sway plot shows.
SWAY_WINDOW_S = 20.0
#: The widest (px) the comparison's measure, baseline and re-test columns get; longer text wraps.
COMPARISON_TEXT_PX = 220
#: The widest (px) the measures' name and value columns get: a long "Not measured — …" wraps,
#: and the source stays in view (it was pushed out, behind a sideways scroll bar).
MEASURE_TEXT_PX = 300
T = TypeVar("T")
#: A change beyond measurement error stands out: better in green, worse in red, undirected in blue.
VERDICT_COLOURS = {
    Verdict.BETTER: "#1b5e20",
    Verdict.WORSE: "#b71c1c",
    Verdict.CHANGED: "#0d47a1",
    Verdict.POSSIBLY_BETTER: "#558b2f",
    Verdict.POSSIBLY_WORSE: "#c62828",
    Verdict.POSSIBLY_CHANGED: "#1565c0",
}


class ReviewWindow(QMainWindow):
    """One recording at a time; `open(path)` loads it in the background."""

    def __init__(self, data_dir: Path | None = None) -> None:
        super().__init__()
        self.setWindowTitle("stabmon — review")
        self.data_dir = data_dir
        self.reviewed: ReviewedRecording | None = None
        #: The header of the recording shown ("" before the first): it names the data below.
        self._shown_header = ""
        self._start_pools()
        self._job: concurrent.futures.Future[ReviewedRecording] | None = None
        self.header = QLabel("Open a recording (Ctrl+O).")
        self.header.setWordWrap(True)
        self.header.setStyleSheet("font-size: 12pt;")
        self.traces = ReviewTraces()
        self.time_cursor = pg.InfiniteLine(0.0, angle=90, movable=True, pen=pg.mkPen("#000000", width=2))
        self.traces.plots[0].addItem(self.time_cursor, ignoreBounds=True)
        self.time_cursor.sigPositionChanged.connect(self._cursor_moved)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.valueChanged.connect(self._slider_moved)
        self.sway = SwayPlot()
        self.bends = BendCurvesPlot()
        self.perturbations = PerturbationPlot()
        self.measures = table_widget(("measure", "value", "source"))
        self.comparison = table_widget(("measure", "baseline", "re-test", "change", "MDC95", "verdict"))
        self.baseline_note = QLabel("")
        self.baseline_note.setWordWrap(True)
        compare_tab = QWidget()
        compare_layout = QVBoxLayout(compare_tab)
        compare_layout.addWidget(self.baseline_note)
        compare_layout.addWidget(self.comparison)
        tabs = self.tabs = QTabWidget()
        tabs.addTab(self.measures, "Measures")
        tabs.addTab(compare_tab, "Change since baseline")
        side = QWidget()
        self.side = side
        column = QVBoxLayout(side)
        for plot in (self.sway, self.bends, self.perturbations):  # the shown ones share it evenly
            column.addWidget(plot, 1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.traces, 3)
        left_layout.addWidget(self.slider)
        left_layout.addWidget(tabs, 2)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(side)
        splitter.setSizes([800, 380])
        buttons = QHBoxLayout()
        self.buttons = {}
        for key, text, handler in (
            ("open", "Open… (Ctrl+O)", self.choose_file),
            ("reload", "Reload (F5)", self.reload),
            ("csv", "Export CSV…", self.export_csv),
            ("bids", "Export Motion-BIDS…", self.export_bids),
            ("report", "Report… (Ctrl+R)", self.write_report),
        ):
            button = QPushButton(text)
            button.clicked.connect(handler)
            buttons.addWidget(button)
            self.buttons[key] = button
        self.buttons["open"].setShortcut(QKeySequence("Ctrl+O"))
        self.buttons["reload"].setShortcut(QKeySequence("F5"))
        self.buttons["report"].setShortcut(QKeySequence("Ctrl+R"))
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.header)
        layout.addLayout(buttons)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self.resize(fitting_size(self, REVIEW_SIZE))
        self._fitted = False
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._check_job)
        self._output: tuple[str, concurrent.futures.Future, Callable[[Any], str]] | None = None
        self._output_poll = QTimer(self)
        self._output_poll.setInterval(100)
        self._output_poll.timeout.connect(self._check_output)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: the writers do not say how far they are
        self.progress.setTextVisible(True)
        self.progress.setMaximumWidth(260)
        self.statusBar().addPermanentWidget(self.progress)
        self.progress.hide()
        self._set_loaded(False)

    def _set_loaded(self, loaded: bool) -> None:
        for key in ("reload", "csv", "bids", "report"):
            self.buttons[key].setEnabled(loaded)

    # Loading ---------------------------------------------------------------------------------

    def choose_file(self) -> None:
        start = str(self.data_dir) if self.data_dir else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a recording", start, "stabmon recordings (*.h5)")
        if path:
            self.open(Path(path))

    def _start_pools(self) -> None:
        """The threads files are read on and, apart, exports and reports written on (the window
        keeps responding meanwhile); made again when a closed window is shown again."""
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="stabmon-review")
        self._output_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="stabmon-output")
        self._closed = False

    def open(self, path: Path) -> None:
        """Load `path` in the background; the window shows it when ready."""
        self.header.setText(loading_header(path.name, self._shown_header))
        self._set_loaded(False)
        self._path = path
        self._job = self._pool.submit(review, path, self.data_dir)
        self._poll.start()

    def reload(self) -> None:
        """Read the file again (a recording still being written shows its newest data)."""
        if self.reviewed is not None:
            self.open(self.reviewed.recording.path)

    def wait_loaded(self, timeout_s: float = 60.0) -> None:
        """Block until the file is loaded (for scripts and tests); the next poll shows it."""
        if self._job is not None:
            concurrent.futures.wait([self._job], timeout=timeout_s)
        self._check_job()

    def _check_job(self) -> None:
        job = self._job
        if job is None or not job.done():
            return
        self._poll.stop()
        self._job = None
        try:
            reviewed = job.result()
        except Exception as error:  # a bad file is a message, never a traceback
            # The recording shown before stays, and the header says whose it is.
            self.header.setText(failed_header(self._path.name, error, self._shown_header))
            self._set_loaded(self.reviewed is not None)
            return
        self.show_reviewed(reviewed)

    # Showing ---------------------------------------------------------------------------------

    def show_reviewed(self, reviewed: ReviewedRecording) -> None:
        self.reviewed = reviewed
        rec = reviewed.recording
        self._shown_header = recording_header(reviewed)
        self.header.setText(self._shown_header)
        rows = reviewed.rows
        self.traces.show_rows(rows)
        self.traces.show_events(list(reviewed.events))
        if len(rows):
            self.slider.setRange(0, len(rows) - 1)
            self.slider.setValue(len(rows) - 1)
        rate = rec.settings.rate_hz
        try:
            show_side_plots(drill_family(rec.drill), self.sway, self.bends, self.perturbations, self.side)
        except UnknownDrillError:
            show_side_plots(None, self.sway, self.bends, self.perturbations, self.side)
        self.bends.show_curves(bend_curves(rows, rate))
        self.perturbations.show_responses(response_traces(rows, reviewed.pushes))
        self._show_measures(reviewed)
        self._show_comparison(reviewed)
        self._update_sway()
        self._set_loaded(True)

    def _show_measures(self, reviewed: ReviewedRecording) -> None:
        rows = session_rows(reviewed.measures) if reviewed.measures else []
        self.measures.setRowCount(len(rows))
        for row, r in enumerate(rows):
            for col, text in enumerate((r.name, r.text, r.info.source)):
                cell = read_only_cell(text)
                cell.setToolTip(r.info.meaning)
                self.measures.setItem(row, col, cell)
        wrap_wide_columns(self.measures, (0, 1), MEASURE_TEXT_PX)

    def _show_comparison(self, reviewed: ReviewedRecording) -> None:
        warnings = reviewed.comparison.warnings if reviewed.comparison else ()
        headline = [reviewed.comparison.headline] if reviewed.comparison else []
        self.baseline_note.setText(
            "\n".join([reviewed.baseline_note, *headline, *(f"⚠ {w}" for w in warnings)])
        )
        rows = reviewed.comparison.rows if reviewed.comparison else ()
        self.comparison.setRowCount(len(rows))
        for row, r in enumerate(rows):
            texts = r.cells
            tip = f"MDC95 from: {r.basis.value}" + (f" — {r.basis_note}" if r.basis_note else "")
            tip += f"; SEM {r.sem_text}" if math.isfinite(r.sem) else ""
            for col, text in enumerate(texts):
                item = read_only_cell(text)
                item.setToolTip(tip)
                if r.verdict in VERDICT_COLOURS:
                    item.setForeground(pg.mkColor(VERDICT_COLOURS[r.verdict]))
                self.comparison.setItem(row, col, item)
        wrap_wide_columns(self.comparison, (0, 1, 2), COMPARISON_TEXT_PX)

    def _slider_moved(self, index: int) -> None:
        if self.reviewed is None or not len(self.reviewed.rows):
            return
        t = float(self.reviewed.rows[index, TIME])
        if abs(self.time_cursor.value() - t) > 1e-9:
            self.time_cursor.setValue(t)

    def _cursor_moved(self) -> None:
        if self.reviewed is None or not len(self.reviewed.rows):
            return
        t = self.reviewed.rows[:, TIME]
        index = int(np.clip(np.searchsorted(t, self.time_cursor.value()), 0, len(t) - 1))
        if self.slider.value() != index:
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
        self._update_sway()

    def _update_sway(self) -> None:
        """The sway plot over the SWAY_WINDOW_S before the cursor."""
        if self.reviewed is None:
            return
        rows = self.reviewed.rows
        t = self.time_cursor.value()
        window = rows[(rows[:, TIME] > t - SWAY_WINDOW_S) & (rows[:, TIME] <= t)]
        self.sway.show_sway(sway_path(window, self.reviewed.recording.settings.rate_hz))

    # Outputs ---------------------------------------------------------------------------------

    def export_csv(self, folder: Path | None = None) -> concurrent.futures.Future[list[Path]] | None:
        """Export CSV files into `folder` in the background (None: nothing to export or chosen)."""
        folder = folder or self._ask_folder("Folder for the CSV files")
        reviewed = self.reviewed
        if folder is None or reviewed is None:
            return None
        return self._in_background(
            "Exporting CSV",
            lambda: export_csv(reviewed.recording, folder, reviewed.measures),
            lambda written: f"{len(written)} CSV files written to {folder}",
        )

    def export_bids(self, folder: Path | None = None) -> concurrent.futures.Future[list[Path]] | None:
        """Export a Motion-BIDS dataset into `folder` in the background."""
        folder = folder or self._ask_folder("Motion-BIDS dataset folder")
        reviewed = self.reviewed
        if folder is None or reviewed is None:
            return None
        return self._in_background(
            "Exporting Motion-BIDS",
            lambda: export_bids(reviewed.recording, reviewed.session.collector, folder),
            lambda written: f"{len(written)} Motion-BIDS files written to {folder}",
        )

    def write_report(self, path: Path | None = None) -> concurrent.futures.Future[Path] | None:
        """Write the report (HTML, or PDF by the suffix) in the background."""
        reviewed = self.reviewed
        if reviewed is None or reviewed.measures is None:
            self.statusBar().showMessage("This recording has no measures to report.")
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Report", f"{reviewed.recording.path.stem}.html", "Report (*.html *.pdf)"
            )
            if not chosen:
                return None
            path = Path(chosen)
        measures = reviewed.measures
        try:
            subject = load_subject(reviewed.library.root, reviewed.recording.subject_id)
        except SubjectError as error:
            self.statusBar().showMessage(str(error))
            subject = None
        settings = load_settings(default_settings_path())

        def write(path: Path = path) -> Path:
            analyses = FileAnalyses()  # each of the subject's files read and analysed once
            history = subject_history(reviewed.library, reviewed.recording, measures, analyses=analyses)
            report = build_report(
                reviewed.session,
                measures,
                reviewed.comparison,
                history,
                subject=subject,
                clinic=settings.clinic,
                clinician=settings.clinician,
                baseline_note=reviewed.baseline_note,
                visit=visit_of(reviewed.library, reviewed.recording, measures, analyses=analyses),
            )
            return report.write_pdf(path) if path.suffix.lower() == ".pdf" else report.write_html(path)

        return self._in_background(
            "Writing the report", write, lambda written: f"Report written to {written}"
        )

    def _in_background(
        self, doing: str, work: Callable[[], T], done: Callable[[T], str]
    ) -> concurrent.futures.Future[T]:
        """Run `work` off the GUI thread with a busy indication; `done(result)` is the message."""
        self._outputs_enabled(False)
        self.progress.setFormat(f"{doing}…")
        self.progress.show()
        job = self._output_pool.submit(work)
        self._output = (doing, job, done)
        self._output_poll.start()
        return job

    def _check_output(self) -> None:
        if self._output is None or not self._output[1].done():
            return
        doing, job, done = self._output
        self._output = None
        self._output_poll.stop()
        self.progress.hide()
        self._outputs_enabled(True)
        try:
            self.statusBar().showMessage(done(job.result()))
        except Exception as error:  # a failed export is a message, never a traceback
            self.statusBar().showMessage(f"{doing} failed: {error}")

    def _outputs_enabled(self, enabled: bool) -> None:
        for key in ("csv", "bids", "report"):
            self.buttons[key].setEnabled(enabled and self.reviewed is not None)

    def _ask_folder(self, title: str) -> Path | None:
        folder = QFileDialog.getExistingDirectory(self, title)
        return Path(folder) if folder else None

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._closed:  # shown again by the main window after the user closed it
            self._start_pools()
        if not self._fitted:  # the first time: the frame is known now
            self._fitted = True
            fit_frame_on_screen(self)

    def closeEvent(self, event: object) -> None:  # noqa: N802 (Qt's name)
        self._poll.stop()
        self._output_poll.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._output_pool.shutdown(wait=True)  # a report or export being written is finished
        self._check_output()  # and said (the window may be shown again)
        self._job, self._closed = None, True
        super().closeEvent(event)  # type: ignore[arg-type]
