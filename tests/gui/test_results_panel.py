"""The results pane on a protocol's repetitions: mean ± SD over them with each repetition beside
it, key measures first and the rest behind "All measures", left/right pairs with symmetry."""

from __future__ import annotations

from pathlib import Path

import pytest

from gui.model.clinic import RecordingResult
from gui.results_panel import ResultsPanel
from recordings.catalogue import catalogue
from sensors.processing.analysis import AnalysisResult, Measure
from tests.gui.conftest import short_protocol

#: A hold measure that is not a key measure (shown only behind "All measures").
OTHER = next(
    key
    for (family, key), entry in catalogue().entries.items()
    if family == "side-plank" and not entry.key_measure and entry.kind == "value"
)


def _hold(drill: str, repetition: int, held_s: float, other: float) -> RecordingResult:
    measures = (Measure("hold", "held", held_s, "s", "t"), Measure("hold", OTHER, other, "1", "t"))
    path = Path(f"sub-P1_{drill}_{repetition}.h5")
    return RecordingResult("Side plank", repetition, "single", path, drill, AnalysisResult(drill, measures))


def test_the_protocol_mean_and_spread_with_each_repetition_key_measures_first(qtbot):
    pane = ResultsPanel()
    qtbot.addWidget(pane)
    pane.start_protocol(short_protocol(name="Side plank left", drill="side-plank-left", repetitions=2))
    pane.show_result(_hold("side-plank-left", 1, 80.0, 1.0))
    assert [pane.table.horizontalHeaderItem(c).text() for c in range(pane.table.columnCount())] == [
        "measure",
        "value",
    ]
    pane.show_result(_hold("side-plank-left", 2, 90.0, 2.0))
    headers = [pane.table.horizontalHeaderItem(c).text() for c in range(pane.table.columnCount())]
    assert headers == ["measure", "mean ± SD of 2", "rep 1", "rep 2"]
    held = catalogue().info("side-plank-left", "held")
    assert pane.table.item(0, 0).text() == held.name  # the key measure first
    # 80 and 90 s: mean 85, sample SD 7.07.
    assert pane.table.item(0, 1).text() == "85 ± 7 s"
    assert [pane.table.item(0, c).text() for c in (2, 3)] == ["80 s", "90 s"]
    other = catalogue().info("side-plank-left", OTHER).name
    row = next(r for r in range(pane.table.rowCount()) if pane.table.item(r, 0).text() == other)
    assert pane.table.isRowHidden(row)  # behind "All measures"
    pane.more.setChecked(True)
    assert not pane.table.isRowHidden(row)
    assert pane.more.text().startswith("All measures (2)")
    assert "nan" not in " ".join(t for r in pane.shown_rows() for t in r)


def test_left_and_right_of_the_session_are_paired_with_their_symmetry(qtbot):
    pane = ResultsPanel()
    qtbot.addWidget(pane)
    pane.start_protocol(short_protocol(drill="side-plank-left"))
    pane.show_result(_hold("side-plank-left", 1, 85.0, 1.0))
    assert pane.sides.text() == ""
    pane.start_protocol(short_protocol(drill="side-plank-right"))
    pane.show_result(_hold("side-plank-right", 1, 60.0, 1.0))
    # SI = (R − L) / (0.5 (R + L)) × 100 = −25 / 72.5 × 100 = −34 %.
    assert "left 85 s, right 60 s, symmetry index -34 %" in pane.sides.text()
    assert pane.sides.text().count("Side plank") == 1
    assert pytest.approx(-34.48, abs=0.01) == -25 / 72.5 * 100
