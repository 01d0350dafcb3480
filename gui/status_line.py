"""The main window's status line: which drill runs and how far it is, in one line that never widens
the window and never cuts the progress ("1/3 · task · 12 s"): when the drill's name does not fit
beside it, the name is set smaller, and only below a legible size is its end elided (the whole line
in the tooltip). Cutting the line from the left hid the drill's name at 1366×768."""

from __future__ import annotations

import html
import math
import re

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy

#: Point sizes of the line, and the smallest the drill's name is set in before its end is elided.
LINE_PT = 22.0
SMALLEST_NAME_PT = 13.0
SEPARATOR = " · "
#: Room kept beyond the measured text (px): the painted line may round a pixel or two wider.
SLACK_PX = 6


class StatusLine(QLabel):
    """The drill's name and its progress, in bold blue (`show_parts`)."""

    def __init__(self) -> None:
        super().__init__()
        font = QFont(self.font())
        font.setPointSizeF(LINE_PT)
        font.setBold(True)
        self.setFont(font)
        self.setStyleSheet("color: #1565c0;")
        self.setTextFormat(Qt.TextFormat.RichText)
        # As wide as its whole text when there is room; narrower when not (never wider).
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.name = ""
        self.progress = ""
        self.name_pt = LINE_PT  # the size the drill's name is set in now
        self._hint_text = ""

    def show_parts(self, name: str, progress: str) -> None:
        """Show the drill's name (may be empty) and its progress ('1/3 · task · 12 s')."""
        if (name, progress) == (self.name, self.progress):
            return
        self.name, self.progress = name, progress
        self.setToolTip(self.text())
        # The hint follows the text's length, not each digit: the line's neighbours stay put while
        # a countdown runs (its digits are equally wide).
        hint_text = re.sub(r"\d", "0", self.text())
        if hint_text != self._hint_text:
            self._hint_text = hint_text
            self.updateGeometry()
        self._render()

    def text(self) -> str:
        """The whole line as plain text."""
        return SEPARATOR.join(part for part in (self.name, self.progress) if part)

    def metrics(self, point_size: float) -> QFontMetricsF:
        font = QFont(self.font())
        font.setPointSizeF(point_size)
        return QFontMetricsF(font)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        width = self.metrics(LINE_PT).horizontalAdvance(self._hint_text or " ")
        margins = self.contentsMargins()
        height = self.metrics(LINE_PT).height()
        return QSize(math.ceil(width) + SLACK_PX + margins.left() + margins.right(), math.ceil(height) + 2)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(40, self.sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._render()

    def _render(self) -> None:
        """The name at the line's size if it fits beside the progress, else the largest size down to
        SMALLEST_NAME_PT that fits, else elided at its end at that size."""
        width = self.contentsRect().width() - SLACK_PX / 2
        progress = SEPARATOR + self.progress if self.name and self.progress else self.progress
        big = self.metrics(LINE_PT)
        room = width - big.horizontalAdvance(progress)
        name, self.name_pt = self.name, LINE_PT
        if name and big.horizontalAdvance(name) > room:
            sizes = range(int(LINE_PT) - 1, int(SMALLEST_NAME_PT) - 1, -1)  # whole points, down
            fitting = [pt for pt in sizes if self.metrics(pt).horizontalAdvance(name) <= room]
            self.name_pt = float(fitting[0]) if fitting else SMALLEST_NAME_PT
            if not fitting:
                small = self.metrics(SMALLEST_NAME_PT)
                name = small.elidedText(name, Qt.TextElideMode.ElideRight, max(room, 0)) or "…"
        shown = html.escape(progress)
        if name:
            shown = f"<span style='font-size:{self.name_pt:g}pt'>{html.escape(name)}</span>{shown}"
        super().setText(shown)
