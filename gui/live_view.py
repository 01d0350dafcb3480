"""The clinician's live view: measure cards, angle traces, sway with its ellipse, lumbar
contribution per bend and perturbation responses, redrawn from `LiveBuffers` on the GUI timer."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from gui.model.live import LiveBuffers
from gui.plots import BendCurvesPlot, LiveTraces, PerturbationPlot, SwayPlot, show_side_plots
from recordings.plot_data import LUMBAR_SAG
from sensors.drills import DrillFamily

#: The traces scroll with the clock at most this far (s) past the newest data.
SCROLL_LEAD_S = 0.5
#: The traces' least height (px): each of the three plots keeps a view of ≥ ~60 px, where its y tick
#: labels stand apart (at ~20 px they pile up and the curves are flat lines), and the window still
#: fits a 1366×768 screen.
TRACES_MIN_HEIGHT = 385


class MeasureCard(QFrame):
    """A large number with its name and unit."""

    def __init__(self, title: str, unit: str) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("MeasureCard { background: #f4f6f8; border-radius: 6px; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 3, 10, 3)
        layout.setSpacing(0)
        # Compact (one line of title, ~60 px in all): at 1366×768 the room goes to the traces and results.
        self.title = QLabel(title)
        self.title.setStyleSheet("color: #555; font-size: 10pt;")
        self.title.setWordWrap(True)  # the cards share the width of a 1366-px screen
        self.value = QLabel("—")
        self.value.setStyleSheet("font-size: 20pt; font-weight: 600; color: #222;")
        self.unit = unit
        layout.addWidget(self.title)
        layout.addWidget(self.value)

    def set_value(self, value: float, digits: int = 2) -> None:
        """Show value with `digits` decimals ("—" when not finite; never "-0")."""
        if not math.isfinite(value):
            text = "—"
        else:
            number = f"{value:.{digits}f}"
            text = f"{number.lstrip('-') if float(number) == 0 else number} {self.unit}"
        if text != self.value.text():  # an unchanged label is not laid out and repainted again
            self.value.setText(text)


class LiveView(QWidget):
    """Everything the clinician watches during a drill."""

    #: Redraw the slower plots (bend detection, ellipse) at most this often, s.
    slow_interval_s = 0.5

    def __init__(self) -> None:
        super().__init__()
        self.cards = {
            "rms_ap": MeasureCard("Trunk sway AP (RMS)", "°"),
            "rms_ml": MeasureCard("Trunk sway ML (RMS)", "°"),
            "ellipse": MeasureCard("Sway ellipse (95 %)", "°²"),
            "velocity": MeasureCard("Sway velocity", "°/s"),
            "lumbar": MeasureCard("Lumbar flexion now", "°"),
        }
        cards = QHBoxLayout()
        for card in self.cards.values():
            cards.addWidget(card)
        self.traces = LiveTraces()
        self.sway = SwayPlot()
        self.bends = BendCurvesPlot()
        self.perturbations = PerturbationPlot()
        side = QWidget()
        self.side = side
        grid = QGridLayout(side)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.sway, 0, 0)
        grid.addWidget(self.bends, 1, 0)
        grid.addWidget(self.perturbations, 2, 0)
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
        """Keep the side plots that mean something for this drill family."""
        show_side_plots(family, self.sway, self.bends, self.perturbations, self.side)

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
        self.cards["lumbar"].set_value(float(recent[-1]) if len(recent) else math.nan, 0)
        if now_s - self._slow_at >= self.slow_interval_s:
            self._slow_at = now_s
            if not self.sway.isHidden():  # only what the drill shows is computed
                self.sway.show_sway(buffers.sway())
            if not self.bends.isHidden():
                self.bends.show_curves(buffers.bend_curves())
            if not self.perturbations.isHidden():
                self.perturbations.show_responses(buffers.perturbation_responses())
        return True
