"""A table of the clinical report, as both renderers draw it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    """A table as rendered: `flagged` rows stand out."""

    title: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    widths: tuple[float, ...]
    css_id: str
    flagged: frozenset[int] = frozenset()
    note: str = ""
    data: list[dict[str, str]] = field(default_factory=list)  # per-row data-* attributes (HTML)
    cell_data: dict[tuple[int, int], dict[str, str]] = field(default_factory=dict)  # per cell
