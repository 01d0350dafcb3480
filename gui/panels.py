"""The main window's side panels: sensors, calibration and the drill runner (results:
gui/results_panel.py)."""

from __future__ import annotations

import math
import time
from dataclasses import replace

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.messages import CalibrationCheck
from engine.spec import SensorListing
from gui.model.biofeedback import FeedbackMode
from gui.model.protocols import DrillProtocol
from sensors.health import health_warnings, no_data_text
from sensors.identity import SensorFamily
from sensors.placements import REQUIRED_PLACEMENTS, Placement
from sensors.source import SensorHealth

HEALTH_COLUMNS = (
    "sensor",
    "state",
    "rate Hz",
    "loss %",
    "battery %",
    "signal dBm",
    "latency ms",
    "drift ppm",
)
FAMILIES = [f for f in SensorFamily if f not in (SensorFamily.SIMULATED, SensorFamily.IMPORTED)]
#: The drill panel's name for the feedback's limit.
FEEDBACK_LIMIT_NAMES = {
    FeedbackMode.STANCE_SWAY: "Sway zone radius",
    FeedbackMode.LUMBAR_FLEXION: "Lumbar flexion limit",
    FeedbackMode.HOLD_POSITION: "Hold zone radius",
    FeedbackMode.BEND: "Bend target (trunk)",
    FeedbackMode.NONE: "No feedback for the patient",
}
#: The clock fit's drift is neither shown nor warned about before a sensor streamed this long (s):
#: fitted on a few seconds of BLE jitter it is hundreds of ppm whatever the crystal does.
DRIFT_SETTLE_S = 30.0


class ElidedLabel(QLabel):
    """One line of text that never widens its window: elided ("…") to the width it is given,
    the whole text in its tooltip."""

    def __init__(self, text: str = "", mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle) -> None:
        super().__init__()
        self.mode = mode
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)
        self._full = ""
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        if text == self._full:
            return
        self._full = text
        self.setToolTip(text)
        self._elide()

    def text(self) -> str:
        return self._full

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(40, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.width(), 40)
        super().setText(self.fontMetrics().elidedText(self._full, self.mode, width))


def read_only_cell(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item


def _number(value: float, digits: int = 0) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "—"


def table_widget(headers: tuple[str, ...] | list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def wrap_wide_columns(table: QTableWidget, columns: tuple[int, ...], max_px: int) -> None:
    """Fit `columns` to their contents, but a column wider than `max_px` (a cell such as "Not
    measured — the sensors did not see the posture lost") wraps its text at that width, so the
    columns after it (change, MDC95, verdict) stay in view. Rows grow to their wrapped text."""
    header = table.horizontalHeader()
    table.setWordWrap(True)
    for column in columns:
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    table.resizeColumnsToContents()
    for column in columns:
        if table.columnWidth(column) > max_px:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            table.setColumnWidth(column, max_px)
    table.resizeRowsToContents()


class SensorPanel(QGroupBox):
    """Choose virtual or Bluetooth sensors, scan, assign them to placements, watch their health."""

    def __init__(self) -> None:
        super().__init__("Sensors")
        self.mode = QComboBox()
        self.mode.addItems(
            [
                "Virtual sensors over BLE (simulated patient)",
                "Simulated patient, no radio (light)",
                "Bluetooth sensors",
            ]
        )
        self.family = QComboBox()
        self.family.addItems([f.value for f in FAMILIES])
        for combo in (self.mode, self.family):  # never wider than the left column makes them
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(18)
        self.scan_button = QPushButton("Scan (F3)")
        self.found = table_widget(("name", "address", "type", "RSSI", "battery %"))
        self.found.setMaximumHeight(90)
        self.assign: dict[Placement, QComboBox] = {}
        form = QFormLayout()
        # Each label above its field: the fields get the column's whole width (beside the long
        # placement names they were cut to "Virtual sensors over BLE (si").
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        form.setVerticalSpacing(3)
        form.addRow("Source", self.mode)
        form.addRow("Sensor type", self.family)
        for placement in REQUIRED_PLACEMENTS:
            combo = QComboBox()
            combo.setEditable(True)
            combo.setToolTip(f"address or advertised name of the sensor on the {placement.anatomical_site}")
            self.assign[placement] = combo
            form.addRow(f"{placement.value} ({placement.anatomical_site})", combo)
        self.lsl = QCheckBox("Publish on Lab Streaming Layer while recording")
        self.lsl.setToolTip("streams stabmon-<placement> (IMU), stabmon-angles and stabmon-markers")
        form.addRow(self.lsl)
        # Name and unit on two lines: the eight columns fit the left column without scrolling.
        self.health = table_widget([name.replace(" ", "\n") for name in HEALTH_COLUMNS])
        self.health.setMaximumHeight(110)
        self.health.horizontalHeader().setStretchLastSection(False)  # each column as wide as its text
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #b00020; font-size: 11pt;")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.scan_button)
        layout.addWidget(self.found)
        layout.addWidget(self.health)
        layout.addWidget(self.warnings)
        self._received: dict[Placement, int] = {}
        self._streaming_since: dict[Placement, float] = {}
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self._mode_changed()

    @property
    def simulate(self) -> bool:
        return self.mode.currentIndex() in (0, 1)

    @property
    def virtual_link(self) -> bool:
        return self.mode.currentIndex() == 0

    def set_mode(self, simulate: bool, virtual_link: bool) -> None:
        self.mode.setCurrentIndex((0 if virtual_link else 1) if simulate else 2)

    def _mode_changed(self) -> None:
        for combo in self.assign.values():
            combo.setEnabled(not self.simulate)

    def assignments(self) -> dict[Placement, str]:
        return {p: c.currentText().strip() for p, c in self.assign.items() if c.currentText().strip()}

    def show_discovered(self, found: list[SensorListing]) -> None:
        self.found.setRowCount(len(found))
        for row, sensor in enumerate(found):
            values = (
                sensor.name,
                sensor.address,
                sensor.family.value,
                str(sensor.rssi_dbm),
                _number(sensor.battery_pct),
            )
            for col, text in enumerate(values):
                self.found.setItem(row, col, read_only_cell(text))
        for combo in self.assign.values():
            current = combo.currentText()
            combo.clear()
            combo.addItems([s.address for s in found])
            combo.setCurrentText(current)

    def show_health(self, health: dict[Placement, SensorHealth], now_s: float | None = None) -> None:
        """Show each sensor's health at host monotonic time `now_s` (s): the rate as the engine
        reports it (`sensors.health.SensorRate`), the drift once DRIFT_SETTLE_S of streaming have
        been fitted."""
        now_s = time.monotonic() if now_s is None else now_s
        health = {p: self._settled(h, now_s) for p, h in health.items()}
        self.health.setRowCount(len(health))
        for row, h in enumerate(health.values()):
            values = (
                h.placement.value,
                h.state.value,
                no_data_text(h) or _number(h.rate_hz),
                _number(100 * h.loss_fraction, 1),
                _number(h.battery_pct),
                _number(h.rssi_dbm),
                _number(1000 * h.latency_s),
                _number(h.drift_ppm),
            )
            for col, text in enumerate(values):
                self.health.setItem(row, col, read_only_cell(text))
        self.warnings.setText("\n".join(w for h in health.values() for w in health_warnings(h)))

    def _settled(self, health: SensorHealth, now_s: float) -> SensorHealth:
        """`health` with the drift NaN until the sensor has streamed DRIFT_SETTLE_S."""
        received = self._received.get(health.placement, 0)
        self._received[health.placement] = health.samples_received
        if health.samples_received == 0 or health.samples_received < received:
            self._streaming_since.pop(health.placement, None)  # not streaming, or a new connection
        if health.samples_received > 0:
            self._streaming_since.setdefault(health.placement, now_s)
        since = self._streaming_since.get(health.placement)
        settled = since is not None and now_s - since >= DRIFT_SETTLE_S
        return health if settled else replace(health, drift_ppm=math.nan)


class CalibrationPanel(QGroupBox):
    """The calibration step: neutral stance, optionally a forward bend, with its feedback."""

    def __init__(self) -> None:
        super().__init__("Calibration")
        self.still_button = QPushButton("Neutral stance (C)")
        self.bend_button = QPushButton("+ forward bend (B)")
        self.result = QLabel("Not checked yet. Each recording also calibrates on its first still seconds.")
        self.result.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.still_button)
        buttons.addWidget(self.bend_button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.result)
        layout.addStretch(1)  # the result under its buttons, not alone mid-tab

    def show_check(self, check: CalibrationCheck) -> None:
        colour = "#1b5e20" if check.ok else "#b00020"
        self.result.setStyleSheet(f"color: {colour}; font-size: 11pt;")
        self.result.setText("\n".join(check.lines))


class DrillPanel(QGroupBox):
    """Protocol library, instructions, the run controls and the zone the patient view uses."""

    def __init__(self, protocols: list[DrillProtocol]) -> None:
        super().__init__("Drill")
        self.protocols = protocols
        self.list = QListWidget()
        self.list.addItems([p.name for p in protocols])
        self.list.setMinimumHeight(220)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setStyleSheet("font-size: 11pt;")
        self.notes = QLineEdit()
        self.notes.setPlaceholderText("session notes (stored in the recording)")
        # What the patient said aloud (serial subtraction), entered by the clinician.
        self.answer = QLineEdit()
        self.answer.setPlaceholderText("patient's answer (as said aloud), Enter")
        self.answer.setEnabled(False)
        self.start_button = QPushButton("Start (F5)")
        self.start_button.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self.stop_button = QPushButton("Stop (Esc)")
        self.skip_button = QPushButton("Go now (Space)")
        self.end_button = QPushButton("End task (E)")
        self.push_button = QPushButton("Mark push (P)")
        self.note_button = QPushButton("Note (N)")
        self.pain_button = QPushButton("Pain 0–10 (R)")
        # The run controls live in the main window's top bar, always in view during a drill.
        self.controls = QWidget()
        row = QHBoxLayout(self.controls)
        row.setContentsMargins(0, 0, 0, 0)
        for button in (
            self.start_button,
            self.stop_button,
            self.skip_button,
            self.end_button,
            self.push_button,
            self.note_button,
            self.pain_button,
        ):
            button.setMinimumHeight(38)
            row.addWidget(button)
        self.zone = QDoubleSpinBox()
        self.zone.setRange(0.5, 150.0)
        self.zone.setSingleStep(0.5)
        self.zone.setSuffix(" °")
        self.sound = QCheckBox("sound over the limit")
        self.centre_button = QPushButton("Centre on posture now")
        self.patient_button = QPushButton("Patient view (F2)")
        self.zone_label = QLabel("Target zone")
        zone = QHBoxLayout()
        zone.addWidget(self.zone_label)
        zone.addWidget(self.zone)
        zone.addWidget(self.sound)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(self.details)
        layout.addWidget(self.notes)
        layout.addWidget(self.answer)
        layout.addLayout(zone)
        zone2 = QHBoxLayout()
        zone2.addWidget(self.centre_button)
        zone2.addWidget(self.patient_button)
        layout.addLayout(zone2)
        self.list.currentRowChanged.connect(self._selected)

    def show_feedback_mode(self, mode: FeedbackMode, limit_deg: float) -> None:
        """Name the patient's feedback and show its limit (deg; % has no spin box here); without
        feedback, only that there is none."""
        self.zone_label.setText(FEEDBACK_LIMIT_NAMES[mode])
        shown = mode is not FeedbackMode.NONE
        for widget in (self.zone, self.sound, self.centre_button):
            widget.setVisible(shown)
        if shown:
            self.zone.setValue(limit_deg)

    def current(self) -> DrillProtocol | None:
        row = self.list.currentRow()
        return self.protocols[row] if 0 <= row < len(self.protocols) else None

    def select(self, key: str) -> None:
        keys = [p.key for p in self.protocols]
        self.list.setCurrentRow(keys.index(key) if key in keys else 0)

    def _selected(self) -> None:
        p = self.current()
        if p is None:
            return
        reps = f"{p.repetitions} × {p.task_s:.0f} s" + (f", {p.rest_s:.0f} s rest" if p.rest_s else "")
        extra = " · hold to failure (E ends it)" if p.hold_to_failure else ""
        extra += " · mark each push with P" if p.perturbations else ""
        extra += f" · dual task: {p.cognitive_task}" if p.dual_task else ""
        self.details.setText(f"<b>{p.name}</b> — {reps}{extra}<br>{p.instructions}")
