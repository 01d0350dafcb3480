"""The main window's results pane: the running protocol's measures over its repetitions.

Key measures first, in a table that fits the pane: the protocol's mean ± SD over its recordings
with each repetition's value beside it (one recording: its own value, with the spread over its
windows or bends), and where that value falls against the published reference for the subject
(recordings/references.py, the report's own judgement: normal range, cut-off or population mean;
a censored hold is not judged; "no published norm" where there is none). Every other measure is
in the same table behind "All measures", which then takes the pane's space and scrolls.
Left/right pairs of the session (single-leg, side plank) with their symmetry follow; a dual-task
protocol's cost takes the table's place when it ends ("Dual-task cost" switches back and
forth). Names, units and "Not measured — why" come from the measures catalogue
(recordings/protocol_results.py, recordings/measure_table.py).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from gui.model.clinic import RecordingResult
from gui.model.protocols import DrillProtocol
from recordings.catalogue import Kind, MeasureInfo, catalogue, format_number
from recordings.conditions import Condition, condition_for
from recordings.dual_task import DualTaskEffect, dual_task_lines, score_text
from recordings.measure_table import session_rows
from recordings.protocol_results import (
    ProtocolSummary,
    RepeatedMeasure,
    SessionResult,
    side_pairs,
    summarise,
)
from recordings.references import ReferenceSet, Standing, bundled_references
from recordings.subjects import Demographics, SubjectError, subject_beside

#: Rows shown before "All measures" when the catalogue marks no key measure.
KEY_ROWS = 6
#: The reference column's text where the reference file has nothing for the measure.
NO_NORM = "no published norm"
#: The reference column's header.
REFERENCE_HEADER = "vs published norm"
#: What the pane says of the cognitive task alone (the dual-task baseline) instead of measures.
SEATED = "Done seated: no standing measures."
#: Background of a reference cell whose value falls outside the norm (the report's flag colour).
OUTSIDE = QColor("#fde2c8")


def _cell(text: str, tip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if tip:
        item.setToolTip(tip)
    return item


def _tip(info: MeasureInfo) -> str:
    return f"{info.meaning}\nSource: {info.source}"


#: The value column is never wider than this, px: a longer text ("Not measured — the hold lasted
#: too briefly …") wraps, leaving the names and the references their room.
VALUE_COLUMN_MAX_PX = 240


class WrappingTable(QTableWidget):
    """A table whose rows are as tall as their wrapped text at the columns' width of the moment
    (fitted once, when filled, a narrower pane cut the reference texts to "…")."""

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)  # the stretched columns take their new width here
        self.resizeRowsToContents()


class ResultsPanel(QGroupBox):
    """Results of the running protocol (and the session's left/right pairs); see the module."""

    def __init__(self, references: ReferenceSet | None = None) -> None:
        super().__init__("Results")
        self.references = references if references is not None else bundled_references()
        self.heading = QLabel("No recording yet.")
        self.heading.setWordWrap(True)
        # Wrapped to the width it gets, never widening the window.
        self.heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.heading.setStyleSheet("font-size: 11pt;")
        self.heading.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)  # alone: at the top
        self.table = WrappingTable(0, 2)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(True)
        self.table.setHorizontalScrollMode(QTableWidget.ScrollMode.ScrollPerPixel)
        # The table takes the height the pane has (and scrolls its rows), never asks for more: the
        # pane then fits the room the live view leaves it at 1366×768 without scrolling as a whole.
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.table.setMinimumHeight(80)  # the header and about three rows
        self.more = QPushButton("All measures ▸")
        self.more.setCheckable(True)
        self.more.toggled.connect(self._show_all)
        self.sides = QLabel("")
        self.sides.setWordWrap(True)
        # The dual-task cost takes the table's place (its button switches between the two): below
        # the table, its five lines were drawn over the rows at 1366×768 (walkthrough s11 #2).
        self.dual = QLabel("")
        self.dual.setWordWrap(True)
        self.dual.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.dual.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dual_view = QScrollArea()  # scrolls on a screen too small for all of it
        self.dual_view.setWidget(self.dual)
        self.dual_view.setWidgetResizable(True)
        self.dual_view.setFrameShape(QFrame.Shape.NoFrame)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.table)
        self.pages.addWidget(self.dual_view)
        self.pages.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.pages.setMinimumHeight(80)
        self.cost = QPushButton("Dual-task cost")
        self.cost.setCheckable(True)
        self.cost.toggled.connect(self._show_cost)
        top = QHBoxLayout()  # the buttons beside the heading: the table gets the height
        top.addWidget(self.heading, 1)
        top.addWidget(self.cost, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.more, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(top, 0)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.sides)
        self.sides.hide()  # each takes room only while it says something
        self.cost.hide()
        self.session_results: list[RecordingResult] = []  # every recording since the window opened
        self.protocol_results: list[RecordingResult] = []
        self._key_rows = 0
        self._empty()

    def _empty(self) -> None:
        """No results: no table (not even its headers) and no button."""
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.pages.hide()
        self.more.hide()

    def start_protocol(self, protocol: DrillProtocol) -> None:
        """A protocol starts: its results so far are none."""
        self.protocol_results = []
        self.heading.setText(f"{protocol.name}: no recording finished yet.")
        self._empty()
        self.show_dual_task(None)

    def show_result(self, result: RecordingResult) -> None:
        """A recording of the running protocol finished."""
        self.protocol_results.append(result)
        self.session_results.append(result)
        results = self.protocol_results
        condition = condition_for(result.drill, result.condition)
        # One line (the file is in the tooltip and was in the top bar): the table gets the room.
        text = (
            f"<b>{result.protocol}</b> — {len(results)} recording{'s' if len(results) > 1 else ''}, "
            f"newest: repetition {result.repetition} ({condition.label_after(result.protocol)})"
        )
        problems = [f"repetition {r.repetition}: {r.problem}" for r in results if r.problem]
        if problems:
            text += "<br>No measures for " + "; ".join(problems)
        if condition.seated:  # no standing measures (its sway was listed: walkthrough s11 #12)
            text += f"<br>{SEATED} Cognitive task: {score_text(result.cognitive)}."
        self.heading.setText(text)
        self.heading.setToolTip(str(result.path))
        if condition.seated:
            self._empty()
        else:
            self._fill(self._summary(result), result)
        _say(self.sides, self._sides_text())

    def _summary(self, newest: RecordingResult) -> ProtocolSummary | None:
        """The summary of the newest recording's drill and condition over the protocol."""
        sessions = _sessions(self.protocol_results)
        condition = condition_for(newest.drill, newest.condition)
        return next((s for s in summarise(sessions) if s.condition == condition), None)

    def _fill(self, summary: ProtocolSummary | None, newest: RecordingResult) -> None:
        reps = [s.path for s in summary.sessions] if summary else []
        repetitions = {r.path: r.repetition for r in self.protocol_results}
        several = len(reps) > 1
        headers = ["measure", f"mean ± SD of {len(reps)}" if several else "value", REFERENCE_HEADER]
        headers += [f"rep {repetitions.get(p, k + 1)}" for k, p in enumerate(reps)] if several else []
        self.table.clear()
        self.pages.show()
        self.more.show()
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        judge = _Judge(self.references, newest)
        rows: list[tuple[MeasureInfo, list[str], list[Standing]]] = []
        if summary is not None and several:
            for m in summary.measures:
                each = [m.format_each(k) for k in range(len(m.values))]
                rows.append((m.info, [_mean_sd(m), *each], judge(m.info, m.mean, m.lower_bound)))
        elif newest.measures is not None:
            rows = [
                (r.info, [r.text], judge(r.info, r.measure.value, r.lower_bound))
                for r in session_rows(newest.measures)
            ]
        self._key_rows = sum(1 for info, _, _ in rows if info.key_measure) or min(len(rows), KEY_ROWS)
        self.table.setRowCount(len(rows))
        for row, (info, texts, standings) in enumerate(rows):
            self.table.setItem(row, 0, _cell(info.name, _tip(info)))
            self.table.setItem(row, 1, _cell(texts[0], _tip(info)))
            self.table.setItem(row, 2, _reference_cell(info, standings))
            for col, text in enumerate(texts[1:], start=3):
                self.table.setItem(row, col, _cell(text, _tip(info)))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # names wrap, never scroll
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)  # so does the reference
        header.setStretchLastSection(False)
        if self.table.sizeHintForColumn(1) > VALUE_COLUMN_MAX_PX:  # a long "Not measured — why" wraps
            header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(1, VALUE_COLUMN_MAX_PX)
        self.table.resizeRowsToContents()
        self.more.setText(f"All measures ({len(rows)}) " + ("▾" if self.more.isChecked() else "▸"))
        self._show_all(self.more.isChecked())

    def _show_all(self, on: bool) -> None:
        """Key measures only (the table as tall as they need), or every row with the pane's space."""
        if on:
            self.cost.setChecked(False)  # the measures, in the dual-task cost's place
        for row in range(self.table.rowCount()):
            self.table.setRowHidden(row, not on and row >= self._key_rows)
        self.more.setText(self.more.text()[:-1] + ("▾" if on else "▸"))

    def wanted_height(self) -> int:
        """The pane's height (px) that shows its heading, the table's shown rows whole and the
        texts below it."""
        table = self.table
        if self.pages.isHidden():
            return self.sizeHint().height()
        if self.cost.isChecked():  # the dual-task cost's lines at the width they have
            return self.sizeHint().height() + self.dual.heightForWidth(self.dual_view.viewport().width())
        rows = sum(table.rowHeight(r) for r in range(table.rowCount()) if not table.isRowHidden(r))
        bar = table.horizontalScrollBar()
        rows += bar.sizeHint().height() if bar.isVisible() else 0
        # The layout's hint leaves the table out (its height is Ignored): add what it needs.
        return self.sizeHint().height() + table.horizontalHeader().height() + rows + 2 * table.frameWidth()

    def _sides_text(self) -> str:
        """Left/right pairs among the session's recordings, with their symmetry."""
        lines = []
        for drill, pairs in side_pairs(summarise(_sessions(self.session_results))):
            for p in pairs:
                lines.append(
                    f"{_side_title(drill)} — {p.info.name}: left {p.side_text('left')}, "
                    f"right {p.side_text('right')}, symmetry index {p.symmetry_text}"
                )
        return "<b>Left / right</b><br>" + "<br>".join(lines) if lines else ""

    def shown_rows(self) -> list[tuple[str, str]]:
        """(measure, value) of every row of the table, as shown (for tests and exports)."""
        out = []
        for row in range(self.table.rowCount()):
            name, value = self.table.item(row, 0), self.table.item(row, 1)
            if name is not None and value is not None:
                out.append((name.text(), value.text()))
        return out

    def shown_references(self) -> dict[str, str]:
        """The reference column as shown, by measure name (for tests)."""
        out = {}
        for row in range(self.table.rowCount()):
            name, ref = self.table.item(row, 0), self.table.item(row, 2)
            if name is not None and ref is not None:
                out[name.text()] = ref.text()
        return out

    def show_dual_task(self, effect: DualTaskEffect | None) -> bool:
        """The protocol's dual-task cost (None: none), shown in the table's place when it comes;
        whether that changed what the pane shows."""
        text = "\n".join(dual_task_lines(effect)) if effect is not None else ""
        if text == self.dual.text():
            return False
        self.dual.setText(text)
        self.cost.setVisible(bool(text))
        self.cost.setChecked(bool(text))
        return True

    def _show_cost(self, on: bool) -> None:
        """The dual-task cost in the table's place, or the measures."""
        self.pages.setCurrentWidget(self.dual_view if on else self.table)
        if on:
            self.more.setChecked(False)


class _Judge:
    """Where a value of the newest recording's drill falls against the published references for
    its subject (demographics stored beside the recording) and condition: `references.standings`,
    the report's own judgement."""

    def __init__(self, references: ReferenceSet, newest: RecordingResult) -> None:
        self.references = references
        self.drill = newest.drill
        self.condition: Condition = condition_for(newest.drill, newest.condition)
        self.demographics = _demographics(newest.path)

    def __call__(self, info: MeasureInfo, value: float, lower_bound: bool) -> list[Standing]:
        if info.kind is not Kind.VALUE:
            return []
        return self.references.standings(
            self.drill, info.key, value, self.demographics, self.condition, lower_bound
        )


def _demographics(path: Path) -> Demographics | None:
    """The subject's stored age band and sex when the recording is in a library
    (`sub-<id>/…h5` beside `sub-<id>/subject.json`); None (every population applies, a cut-off
    for one sex is not applied) when not stored or not readable."""
    folder = Path(path).parent.name
    if not folder.startswith("sub-"):
        return None
    try:
        return subject_beside(Path(path), folder.removeprefix("sub-")).demographics
    except SubjectError:
        return None


def _reference_cell(info: MeasureInfo, standings: list[Standing]) -> QTableWidgetItem:
    """The standings' short texts ("no published norm" for a value without one, "—" for a flag or
    a count), the full texts with population and source in the tooltip, shaded when outside."""
    if not standings:
        return _cell(NO_NORM if info.kind is Kind.VALUE else "—")
    text = "; ".join(s.short for s in standings)
    tip = "\n".join(f"{s.text}\nSource: {s.reference.source}" for s in standings)
    item = _cell(text, tip)
    if any(s.outside for s in standings):
        item.setBackground(QBrush(OUTSIDE))
    return item


def _say(label: QLabel, text: str) -> None:
    """Set a label's text; shown while it has one."""
    label.setText(text)
    label.setVisible(bool(text))


def _mean_sd(m: RepeatedMeasure) -> str:
    """'99.1 ± 0.8 °' (the header says over how many), '≥ 85 s (1 of 2 a lower bound)' with a
    censored repetition, or the catalogue's text."""
    if m.info.kind == "flag" or not (math.isfinite(m.mean) and math.isfinite(m.sd)):
        return m.text
    if m.lower_bound:  # a censored repetition: the mean is only a lower bound (its SD means little)
        held = sum(1 for k in range(len(m.values)) if m.format_each(k).startswith("≥"))
        return f"≥ {m.info.format(m.mean)} ({held} of {len(m.finite)} a lower bound)"
    sd = format_number(m.info.display_value(m.sd), m.info.decimals)
    return f"{m.info.format(m.mean, with_unit=False)} ± {sd} {m.info.unit}".rstrip()


def _side_title(drill: str) -> str:
    """'Side plank (side bridge)' for 'side-plank' (its left drill's title without the side)."""
    title = catalogue().drill_title(drill + "-left")
    for suffix in (", left", " (left)", " left"):
        title = title.removesuffix(suffix)
    return title


def _sessions(results: list[RecordingResult]) -> list[SessionResult]:
    """The recordings that have measures, as protocol_results sessions (recording order)."""

    start = datetime(2000, 1, 1, tzinfo=UTC)
    return [
        SessionResult(
            r.path, r.drill, condition_for(r.drill, r.condition), start + timedelta(seconds=k), r.measures
        )
        for k, r in enumerate(results)
        if r.measures is not None
    ]
