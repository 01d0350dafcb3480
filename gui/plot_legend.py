"""A plot's legend on lines of its own under the time axis, never over the data: its entries side
by side, wrapped between entries onto as many lines as the plot's width needs (pyqtgraph's legend
inside the view hid the first push's response at 1366×768)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QSizeF, Qt

#: Row of the plot's grid layout under its bottom axis (pyqtgraph fills rows 0-3: title, top
#: axis, view, bottom axis).
LEGEND_ROW = 4
#: An entry's line sample: solid, or dashed (a curve drawn dashed, e.g. a push with no response).
SOLID = "━━"
DASHED = "╍╍"


def entry_html(name: str, colour: str, dashed: bool = False) -> str:
    """One entry, never broken inside: its line sample and its name, in the curve's colour."""
    words = "&nbsp;".join(name.split())
    return f"<span style='color:{colour}'>{DASHED if dashed else SOLID}&nbsp;{words}</span>"


class LegendBelow(pg.LabelItem):
    """The legend of `plot`, in the row under its bottom axis: as wide as the view, as tall as its
    wrapped lines (the view gives up that height)."""

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__("", size="9pt", justify="left")
        self.plot = plot
        self.entries: list[str] = []
        plot.layout.addItem(self, LEGEND_ROW, 1)
        plot.geometryChanged.connect(self.fit)
        plot.vb.sigResized.connect(self.fit)
        self.fit()

    def set_entries(self, entries: list[tuple[str, str, bool]]) -> None:
        """Show (name, colour, dashed) entries, in order (none: the row takes no room)."""
        html = [entry_html(name, colour, dashed) for name, colour, dashed in entries]
        if html == self.entries:
            return
        self.entries = html
        # Two fixed spaces and one breakable between entries: lines break only there.
        self.setText("&nbsp;&nbsp; ".join(html) if html else "")
        self.fit()

    def fit(self) -> None:
        """Wrap the entries to the view's width and reserve their height in the plot's layout."""
        width = self.plot.vb.width() or self.plot.width()
        if self.item.textWidth() != width:
            self.item.setTextWidth(max(width, 1.0))
        self.updateMin()

    def updateMin(self) -> None:  # noqa: N802 (pyqtgraph's name)
        """As tall as the wrapped text, never wider than what the layout gives (the text wraps to
        the plot; it never widens it)."""
        # (Called by LabelItem's constructor too, before there are entries.)
        height = self.item.boundingRect().height() if getattr(self, "entries", None) else 0.0
        self.setMinimumWidth(0)
        self.setMinimumHeight(height)
        self.setMaximumHeight(height)
        self._sizeHint = {
            Qt.SizeHint.MinimumSize: (0, height),
            Qt.SizeHint.PreferredSize: (0, height),
            Qt.SizeHint.MaximumSize: (-1, height),
            Qt.SizeHint.MinimumDescent: (0, 0),
        }
        self.updateGeometry()

    def sizeHint(self, hint: Qt.SizeHint, constraint: QSizeF | None = None) -> QSizeF:  # noqa: N802
        width, height = self._sizeHint.get(hint, (0, 0))
        return QSizeF(width, height)
