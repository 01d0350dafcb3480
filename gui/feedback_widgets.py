"""The patient's feedback drawings, large and plain: a target circle with a dot (stance sway and
hold position) and a bar gauge with a limit line (lumbar flexion, bend range and lumbar share)."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from gui.model.biofeedback import TargetZone, ZoneState
from recordings.catalogue import format_number

ZONE_COLOURS = {
    ZoneState.INSIDE: QColor("#2e7d32"),
    ZoneState.NEAR_EDGE: QColor("#f9a825"),
    ZoneState.OUTSIDE: QColor("#c62828"),
    ZoneState.NO_DATA: QColor("#9e9e9e"),
}


class ZoneWidget(QWidget):
    """The target circle and a position as a dot: `position` (vertical, horizontal) deg relative
    to the zone's centre axes (AP up, ML right); the view spans 2.5 zone radii."""

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(240, 240)
        self.zone = TargetZone()
        self.position = (math.nan, math.nan)  # (AP, ML) deg
        self.state = ZoneState.NO_DATA

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
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
            painter.drawEllipse(QPointF(centre.x() + dx, centre.y() - dy), side / 18, side / 18)
        painter.end()


class GaugeWidget(QWidget):
    """A vertical bar from 0 to `full_scale`: the value filled in its state's colour, the limit
    as a thick dark line, the caption and the value written large beneath."""

    def __init__(self, caption: str) -> None:
        super().__init__()
        self.setMinimumSize(160, 240)
        self.caption = caption
        self.value = math.nan
        self.limit = 1.0
        self.full_scale = 1.0
        self.unit = "°"
        self.state = ZoneState.NO_DATA
        self.colour: QColor | None = None

    def show_value(
        self, value: float, limit: float, unit: str, state: ZoneState, colour: QColor | None = None
    ) -> None:
        """Show `value` against `limit` (both in `unit`), in the state's colour or `colour`."""
        self.value, self.limit, self.unit, self.state = value, limit, unit, state
        self.colour = colour
        self.full_scale = 1.5 * limit
        self.update()

    @property
    def value_text(self) -> str:
        """The value as written beneath the bar ('12°'; never '-0°'; '—' without one)."""
        return f"{format_number(self.value, 0)}{self.unit}" if math.isfinite(self.value) else "—"

    @property
    def limit_text(self) -> str:
        """The limit as written beside its line."""
        return f"{format_number(self.limit, 0)}{self.unit}"

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text_h = max(self.height() // 6, 30)
        bar_w = min(self.width() * 0.45, 160.0)
        bar = QRectF((self.width() - bar_w) / 2, 10, bar_w, self.height() - 2 * text_h - 20)
        painter.setPen(QPen(QColor("#555555"), 3))
        painter.setBrush(QColor("#eeeeee"))
        painter.drawRect(bar)
        if math.isfinite(self.value):
            share = max(0.0, min(1.0, self.value / self.full_scale))
            filled = QRectF(
                bar.left(), bar.bottom() - share * bar.height(), bar.width(), share * bar.height()
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.colour or ZONE_COLOURS[self.state])
            painter.drawRect(filled)
        y = bar.bottom() - self.limit / self.full_scale * bar.height()
        painter.setPen(QPen(QColor("#222222"), 6))
        painter.drawLine(QPointF(bar.left() - 20, y), QPointF(bar.right() + 20, y))
        font = QFont(self.font())
        font.setPixelSize(int(text_h * 0.55))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#222222"))
        limit_font = QFont(font)
        limit_font.setBold(False)
        limit_font.setPixelSize(int(text_h * 0.4))
        painter.setFont(limit_font)
        painter.drawText(  # the limit's value beside its line
            QRectF(bar.right() + 26, y - text_h / 2, self.width() - bar.right() - 26, text_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.limit_text,
        )
        painter.setFont(font)
        painter.drawText(
            QRectF(0, bar.bottom() + 5, self.width(), text_h), Qt.AlignmentFlag.AlignCenter, self.value_text
        )
        font.setBold(False)
        font.setPixelSize(int(text_h * 0.45))
        painter.setFont(font)
        painter.drawText(
            QRectF(0, bar.bottom() + 5 + text_h, self.width(), text_h),
            Qt.AlignmentFlag.AlignCenter,
            self.caption,
        )
        painter.end()
