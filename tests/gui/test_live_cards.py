"""The live view's measure cards: named as the report names their measures (the measures
catalogue), shown for the drills whose report has them, and whole (never cut or broken inside a
word) in the main window at 1366×768 and 1920×1080."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from gui.live_view import SWAY_CARDS, LiveView, balanced_lines
from gui.main_window import MainWindow
from gui.model.protocols import load_protocols
from gui.model.settings import DashboardSettings
from recordings.catalogue import CatalogueError, catalogue
from sensors.drills import DrillFamily


def _report_name(family: DrillFamily, measure: str) -> str | None:
    try:
        return catalogue().info(family.value, measure).name
    except CatalogueError:
        return None


@pytest.mark.parametrize("family", list(DrillFamily))
def test_cards_carry_the_reports_names_and_show_only_what_the_report_measures(qtbot, family):
    view = LiveView()
    qtbot.addWidget(view)
    view.show_drill(family)
    for key, measure in SWAY_CARDS.items():
        card, name = view.cards[key], _report_name(family, measure)
        assert card.isHidden() == (name is None), (family, key)
        if name is not None:
            assert card.title.name() == name
            assert card.unit == catalogue().info(family.value, measure).unit
    assert not view.cards["lumbar"].isHidden()  # the lumbar angle now: every drill
    standing = family in (DrillFamily.QUIET_STANCE, DrillFamily.SINGLE_LEG)
    assert standing == (not view.cards["rms_ap"].isHidden())
    # The jargon is gone: "Trunk sway AP (RMS)" is "Trunk tilt sway front–back".
    if standing:
        assert view.cards["rms_ap"].title.name() == "Trunk tilt sway front–back"
        assert view.cards["velocity"].title.name() == "Trunk tilt sway speed"


def test_two_lines_break_where_they_balance_never_inside_a_word():
    width = len  # one unit a character
    assert balanced_lines("Trunk tilt sway side to side", width) == "Trunk tilt sway\nside to side"
    assert balanced_lines("Trunk tilt sway front–back", width) == "Trunk tilt sway\nfront–back"
    assert balanced_lines("Trunk tilt area (95 % ellipse)", width) == "Trunk tilt area\n(95 % ellipse)"
    assert balanced_lines("Sway", width) == "Sway"


@pytest.mark.parametrize(("size", "lines"), [((1366, 768), 2), ((1920, 1080), 1)])
def test_every_drills_cards_are_whole_at_a_laptops_and_a_desktops_size(qtbot, tmp_path, size, lines):
    """The main window at the screen's size with each bundled protocol chosen: every card shows
    its whole name (at 1366 px the longer ones on two lines, at 1920 px on one) and its value."""
    protocols, problems = load_protocols()
    settings = DashboardSettings(subject_id="P010", data_dir=str(tmp_path), protocol=protocols[0].key)
    window = MainWindow(settings, tmp_path / "settings.json", protocols, problems)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    most_lines = 0
    for row in range(window.drill.list.count()):
        window.drill.list.setCurrentRow(row)
        for card in window.live.cards.values():
            card.set_value(-123.456)
        QApplication.processEvents()
        protocol = window.drill.current()
        assert window.width() <= size[0] and window.height() <= size[1], protocol.key
        for key, card in window.live.cards.items():
            if card.isHidden():
                continue
            title, metrics = card.title, card.title.fontMetrics()
            shown = title.text().split("\n")
            assert " ".join(shown) == title.name(), (protocol.key, key)  # broken only between words
            assert all(metrics.horizontalAdvance(line) <= title.width() for line in shown), (
                protocol.key,
                key,
            )
            assert title.height() >= len(shown) * metrics.lineSpacing(), (protocol.key, key)
            value = card.value
            assert value.fontMetrics().horizontalAdvance(value.text()) <= value.width(), (protocol.key, key)
            most_lines = max(most_lines, len(shown))
    assert most_lines == lines
