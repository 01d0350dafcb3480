"""The clinical report as A4 PDF pages: page 1 the summary, then the details and plots flowing
on filled pages. Text is laid out by this module (tables at 9.5 pt, wrapped in their columns);
plots are placed as images scaled to the page width."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

import matplotlib.image as mpimg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from recordings import atomic
from recordings.report import MISSING_TITLE, ClinicalReport, Table

PAGE_W_PT, PAGE_H_PT = 595.0, 842.0  # A4
MARGIN_PT = 42.0
TABLE_PT = 9.5
#: Average glyph width of the default sans font as a share of the font size (for wrapping).
_GLYPH = 0.56
_FLAG_COLOUR = "#fde2c8"


class _Pages:
    """A cursor over A4 pages: y in points from the top."""

    def __init__(self) -> None:
        self.pages: list[Figure] = []
        self._new()

    def _new(self) -> None:
        self.fig = Figure(figsize=(PAGE_W_PT / 72, PAGE_H_PT / 72))
        self.pages.append(self.fig)
        self.y = MARGIN_PT

    def new_page(self) -> None:
        if self.y > MARGIN_PT:
            self._new()

    def room(self, height_pt: float) -> None:
        if self.y + height_pt > PAGE_H_PT - MARGIN_PT:
            self._new()

    def text(self, x_pt: float, s: str, size: float, **kw: Any) -> None:
        self.fig.text(x_pt / PAGE_W_PT, 1 - self.y / PAGE_H_PT, s, fontsize=size, va="top", **kw)

    def heading(self, s: str, size: float = 12.5) -> None:
        self.room(3 * size)
        self.y += 0.5 * size
        self.text(MARGIN_PT, s, size, weight="bold")
        self.y += 1.6 * size

    def paragraph(self, s: str, size: float = TABLE_PT, colour: str = "#222") -> None:
        width = PAGE_W_PT - 2 * MARGIN_PT
        for line in textwrap.wrap(s, int(width / (_GLYPH * size))):
            self.room(1.35 * size)
            self.text(MARGIN_PT, line, size, color=colour)
            self.y += 1.35 * size

    def table(self, table: Table, heading: bool = True) -> None:
        if heading:
            self.heading(table.title)
        width = PAGE_W_PT - 2 * MARGIN_PT
        xs = [MARGIN_PT]
        for w in table.widths[:-1]:
            xs.append(xs[-1] + w * width)
        chars = [max(6, int(w * width / (_GLYPH * TABLE_PT)) - 1) for w in table.widths]
        self._row(table.columns, xs, chars, bold=True)
        for k, row in enumerate(table.rows):
            self._row(row, xs, chars, flagged=k in table.flagged, shade=k % 2 == 1)
        if table.note:
            self.y += 3
            self.paragraph(table.note, 8.5, "#555")

    def _row(
        self,
        cells: tuple[str, ...],
        xs: list[float],
        chars: list[int],
        bold: bool = False,
        flagged: bool = False,
        shade: bool = False,
    ) -> None:
        wrapped = [textwrap.wrap(c, n) or [""] for c, n in zip(cells, chars, strict=True)]
        lines = max(len(w) for w in wrapped)
        height = lines * 1.3 * TABLE_PT + 4
        self.room(height)
        if flagged or shade:
            self.fig.patches.append(_band(self.y, height, _FLAG_COLOUR if flagged else "#f2f2f2", self.fig))
        for x, w in zip(xs, wrapped, strict=True):
            self.text(x + 2, "\n".join(w), TABLE_PT, weight="bold" if bold else "normal", linespacing=1.3)
        self.y += height

    def image(self, figure: Figure, caption: str) -> None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=160)
        buffer.seek(0)
        pixels = mpimg.imread(buffer)
        h_px, w_px = pixels.shape[:2]
        width = PAGE_W_PT - 2 * MARGIN_PT
        if w_px / 160 * 72 < width * 0.7:  # a small plot keeps its size
            width = w_px / 160 * 72
        height = width * h_px / w_px
        available = PAGE_H_PT - 2 * MARGIN_PT - 30
        if height > available:
            width, height = width * available / height, available
        remaining = PAGE_H_PT - MARGIN_PT - self.y - 28
        if height > remaining >= 0.6 * height:  # shrink a little rather than leave the page part-empty
            width, height = width * remaining / height, remaining
        self.room(height + 28)
        left = MARGIN_PT
        ax = self.fig.add_axes(
            (left / PAGE_W_PT, 1 - (self.y + height) / PAGE_H_PT, width / PAGE_W_PT, height / PAGE_H_PT)
        )
        ax.imshow(pixels)
        ax.axis("off")
        self.y += height + 4
        self.paragraph(caption, 9.0, "#555")
        self.y += 8


def _band(y_pt: float, height_pt: float, colour: str, fig: Figure):
    from matplotlib.patches import Rectangle

    return Rectangle(
        (MARGIN_PT / PAGE_W_PT, 1 - (y_pt + height_pt - 2) / PAGE_H_PT),
        1 - 2 * MARGIN_PT / PAGE_W_PT,
        height_pt / PAGE_H_PT,
        transform=fig.transFigure,
        color=colour,
        zorder=-1,
    )


def _wrap_footer(footer: str, size: float = 7.5) -> list[str]:
    """The footer's lines across the text width; long words (a file name) are not broken."""
    chars = int((PAGE_W_PT - 2 * MARGIN_PT) / (_GLYPH * size))
    return textwrap.wrap(footer, chars, break_long_words=False, break_on_hyphens=False) or [""]


def write_pdf(report: ClinicalReport, path: Path) -> Path:
    pages = _Pages()
    pages.text(MARGIN_PT, report.title, 15, weight="bold")
    pages.y += 26
    key_w = max(len(k) for k, _ in report.header) * _GLYPH * 10 + 8
    value_chars = int((PAGE_W_PT - 2 * MARGIN_PT - key_w) / (_GLYPH * 10))
    for key, value in report.header:  # a long value (the baseline's note) wraps, never runs off
        pages.text(MARGIN_PT, key, 10, color="#555")
        for line in textwrap.wrap(value, value_chars) or [""]:
            pages.fig.text(
                (MARGIN_PT + key_w) / PAGE_W_PT, 1 - pages.y / PAGE_H_PT, line, fontsize=10, va="top"
            )
            pages.y += 14
    if report.missing:
        pages.heading(MISSING_TITLE)
        for note in report.missing:
            pages.paragraph(f"• {note}")
    pages.table(report.summary)
    pages.heading("Patient-reported outcomes")
    for key, value in report.outcomes:
        pages.paragraph(f"{key}: {value}")
    pages.heading("Flags")
    for flag in report.flags or ["none"]:
        pages.paragraph(f"• {flag}")
    for table in report.details:
        pages.table(table)
    for caption, figure in report.figures:
        pages.image(figure, caption)
    footer = _wrap_footer(report.footer)
    pages.room(len(footer) * 10 + 12)
    pages.y = PAGE_H_PT - MARGIN_PT + 12 - 10 * (len(footer) - 1)
    for line in footer:  # the last line in the bottom margin, as one line was
        pages.text(MARGIN_PT, line, 7.5, color="#888")
        pages.y += 10
    with (
        atomic.replacing(path) as partial,
        PdfPages(partial, metadata={"Title": report.title, "Creator": "stabmon"}) as pdf,
    ):
        for page in pages.pages:
            pdf.savefig(page)
    return path
