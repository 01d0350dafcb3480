"""The clinician's live view: measure cards, angle traces, sway with its ellipse, lumbar
contribution per bend and perturbation responses, redrawn from `LiveBuffers` on the GUI timer."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QSize
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from gui.model.live import LiveBuffers
from gui.plots import LiveTraces
from gui.side_plots import BendCurvesPlot, PerturbationPlot, SwayPlot, show_side_plots
from recordings.catalogue import CatalogueError, catalogue, format_number
from recordings.plot_data import LUMBAR_SAG
from sensors.drills import DrillFamily

#: The traces scroll with the clock at most this far (s) past the newest data.
SCROLL_LEAD_S = 0.5
#: The traces' least height (px): each of the three plots keeps a view of ≥ ~60 px, where its y tick
#: labels stand apart (at ~20 px they pile up and the curves are flat lines), and the window still
#: fits a 1366×768 screen.
TRACES_MIN_HEIGHT = 385
#: The running trunk sway cards (their keys) and the measure each shows, as the report has it
#: (recordings/measures.toml): a card takes the catalogue's name, unit and decimals for the
#: drill, and shows only for drills whose report has that measure (standing balance; during a
#: bend, a rise, walking or a hold the 10-s sway of the trunk's tilt means nothing a clinician
#: reads).
SWAY_CARDS = {
    "rms_ap": "angle_rms_ap",
    "rms_ml": "angle_rms_ml",
    "ellipse": "angle_ellipse_area_95",
    "velocity": "angle_mean_velocity",
}
#: The drill whose names the cards have before a drill is chosen.
FIRST_DRILL = DrillFamily.QUIET_STANCE


def balanced_lines(text: str, width: Callable[[str], int]) -> str:
    """`text` on two lines broken at the space that makes the longer line shortest (never inside
    a word: "Trunk tilt sway\nside to side"); unchanged without a space. width: a line's px."""
    words = text.split(" ")
    if len(words) < 2:
        return text
    splits = [(" ".join(words[:k]), " ".join(words[k:])) for k in range(1, len(words))]
    # The later break of equals: "Trunk tilt sway\nfront–back" rather than "Trunk tilt\nsway front–back".
    first, second = min(reversed(splits), key=lambda pair: max(width(pair[0]), width(pair[1])))
    return f"{first}\n{second}"


class CardTitle(QLabel):
    """A card's name, whole: on one line where it fits, else on two balanced lines. Never
    elided or broken inside a word (Qt's own wrapping broke "front–back" at its dash and left
    "side" alone on a line)."""

    def __init__(self, name: str = "") -> None:
        super().__init__()
        self._name = ""
        self.set_name(name)

    def set_name(self, name: str) -> None:
        self._name = name
        self._fit()

    def name(self) -> str:
        return self._name

    def _two_lines_px(self) -> int:
        lines = balanced_lines(self._name, self.fontMetrics().horizontalAdvance).split("\n")
        return max(self.fontMetrics().horizontalAdvance(line) for line in lines)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(self.fontMetrics().horizontalAdvance(self._name), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """As narrow as its two lines (the card never cuts its name), as tall as its lines now."""
        return QSize(self._two_lines_px(), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        metrics = self.fontMetrics()
        one_line = metrics.horizontalAdvance(self._name) <= self.width()
        text = self._name if one_line else balanced_lines(self._name, metrics.horizontalAdvance)
        if text != self.text():
            self.setText(text)
            self.updateGeometry()


class MeasureCard(QFrame):
    """A large number with its name and unit; `digits` decimals unless set_value is told."""

    def __init__(self, title: str, unit: str, digits: int = 2) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("MeasureCard { background: #f4f6f8; border-radius: 6px; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 3, 10, 3)
        layout.setSpacing(0)
        # Compact (one or two lines of title, 60-76 px in all): at 1366×768 the room goes to the
        # traces and results.
        self.title = CardTitle(title)
        self.title.setStyleSheet("color: #555; font-size: 10pt;")
        self.value = QLabel("—")
        self.value.setStyleSheet("font-size: 20pt; font-weight: 600; color: #222;")
        self.unit = unit
        self.digits = digits
        layout.addWidget(self.title)
        layout.addWidget(self.value)

    def set_value(self, value: float, digits: int | None = None) -> None:
        """Show value with `digits` decimals (default: the card's; "—" when not finite; never "-0")."""
        digits = self.digits if digits is None else digits
        text = f"{format_number(value, digits)} {self.unit}" if math.isfinite(value) else "—"
        if text != self.value.text():  # an unchanged label is not laid out and repainted again
            self.value.setText(text)


class LiveView(QWidget):
    """Everything the clinician watches during a drill."""

    #: Redraw the slower plots (bend detection, ellipse) at most this often, s.
    slow_interval_s = 0.5

    def __init__(self) -> None:
        super().__init__()
        self.cards = {key: MeasureCard("", "") for key in SWAY_CARDS}
        self.cards["lumbar"] = MeasureCard("Lumbar flexion now", "°", 0)  # an angle, not a measure
        self._name_cards(FIRST_DRILL)
        cards = QHBoxLayout()
        for card in self.cards.values():
            cards.addWidget(card)
        self.traces = LiveTraces()
        self.sway = SwayPlot()
        self.bends = BendCurvesPlot()
        self.perturbations = PerturbationPlot()
        side = QWidget()
        self.side = side
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        for plot in (self.sway, self.bends, self.perturbations):  # the shown ones share it evenly
            column.addWidget(plot, 1)
        splitter = QSplitter()
        splitter.addWidget(self.traces)
        splitter.addWidget(side)
        splitter.setSizes([700, 380])
        splitter.setMinimumHeight(TRACES_MIN_HEIGHT)  # a QSplitter's own least height ignores its children's
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)  # the splitter around it spaces it enough
        layout.addLayout(cards)
        layout.addWidget(splitter, 1)
        self._layout = layout
        self._drawn_version = -1
        self._drawn_at = math.nan  # the session time (s) the traces were drawn up to
        self._slow_at = -math.inf

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """Qt's, but as tall as the view needs at its width (Qt's leaves out the cards' titles
        wrapping): a splitter squeezing it below would cut the plots' lower axes."""
        hint = super().minimumSizeHint()
        return QSize(hint.width(), max(hint.height(), self._layout.minimumHeightForWidth(self.width())))

    def show_drill(self, family: DrillFamily) -> None:
        """Keep the side plots and the cards that mean something for this drill family."""
        show_side_plots(family, self.sway, self.bends, self.perturbations, self.side)
        self._name_cards(family)

    def _name_cards(self, family: DrillFamily) -> None:
        """Each sway card as the report names its measure for `family`, hidden where it has none."""
        cat = catalogue()
        for key, measure in SWAY_CARDS.items():
            card = self.cards[key]
            try:
                info = cat.info(family.value, measure)
            except CatalogueError:
                card.hide()
                continue
            card.title.set_name(info.name)
            card.unit, card.digits = info.unit, info.decimals
            card.show()

    def refresh(self, buffers: LiveBuffers, now_s: float) -> bool:
        """Redraw from the buffers at host monotonic time now_s (s) if anything new arrived or the
        traces have moved with the clock; returns whether it redrew.

        The traces scroll with the session clock, not with the arrival of data (which comes in
        blocks, often slower than the redraws): between blocks they only move left. They stop
        SCROLL_LEAD_S after the newest data, so a session that ended or stalled stands still."""
        latest = buffers.latest_time_s
        clock = buffers.session_time_s(now_s)
        at = latest if not math.isfinite(clock) else min(max(clock, latest), latest + SCROLL_LEAD_S)
        if buffers.version == self._drawn_version:
            if not (math.isfinite(at) and at != self._drawn_at):
                return False
            self._drawn_at = at
            self.traces.scroll_to(at)
            return True
        self._drawn_version, self._drawn_at = buffers.version, at
        rows = buffers.angles.view()
        self.traces.show_rows(rows, at)
        self.traces.show_events(buffers.events)
        measures = buffers.measures
        if measures is not None:
            angle = measures.trunk_angle_sway
            self.cards["rms_ap"].set_value(angle.rms_ap)
            self.cards["rms_ml"].set_value(angle.rms_ml)
            self.cards["ellipse"].set_value(angle.ellipse_area_95)
            self.cards["velocity"].set_value(angle.mean_velocity)
        else:
            for key in ("rms_ap", "rms_ml", "ellipse", "velocity"):
                self.cards[key].set_value(math.nan)
        recent = rows[-round(buffers.rate_hz) :, LUMBAR_SAG]  # the newest finite value of the last second
        recent = recent[np.isfinite(recent)]
        self.cards["lumbar"].set_value(float(recent[-1]) if len(recent) else math.nan)
        if now_s - self._slow_at >= self.slow_interval_s:
            self._slow_at = now_s
            if not self.sway.isHidden():  # only what the drill shows is computed
                self.sway.show_sway(buffers.sway())
            if not self.bends.isHidden():
                self.bends.show_curves(buffers.bend_curves())
            if not self.perturbations.isHidden():
                self.perturbations.show_responses(buffers.perturbation_responses())
        return True
