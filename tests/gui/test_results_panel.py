"""The results pane on a protocol's repetitions: mean ± SD over them with each repetition beside
it, key measures first and the rest behind "All measures", left/right pairs with symmetry."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from gui.model.clinic import RecordingResult
from gui.results_panel import NO_NORM, OUTSIDE, REFERENCE_HEADER, ResultsPanel
from recordings.catalogue import catalogue
from recordings.subjects import Demographics, set_demographics
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
        REFERENCE_HEADER,
    ]
    pane.show_result(_hold("side-plank-left", 2, 90.0, 2.0))
    headers = [pane.table.horizontalHeaderItem(c).text() for c in range(pane.table.columnCount())]
    assert headers == ["measure", "mean ± SD of 2", REFERENCE_HEADER, "rep 1", "rep 2"]
    held = catalogue().info("side-plank-left", "held")
    assert pane.table.item(0, 0).text() == held.name  # the key measure first
    # 80 and 90 s: mean 85, sample SD 7.07.
    assert pane.table.item(0, 1).text() == "85 ± 7 s"
    assert [pane.table.item(0, c).text() for c in (3, 4)] == ["80 s", "90 s"]
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


def _held(drill: str, held_s: float, lost: bool, folder: Path) -> RecordingResult:
    """A hold recording of `drill` in `folder` (a library's sub-<id> folder): time held, and
    whether the posture was lost (if not, the time is censored: a lower bound)."""
    measures = (
        Measure("hold", "held", held_s, "s", "t"),
        Measure("hold", "position_lost", 1.0 if lost else 0.0, "", "t"),
        Measure("hold", OTHER, 1.0, "1", "t"),
    )
    path = folder / f"{folder.name}_{drill}_1.h5"
    return RecordingResult("Holds", 1, "single", path, drill, AnalysisResult(drill, measures))


def test_the_reference_column_shows_the_published_norm_for_the_subject(qtbot, tmp_path):
    """Walkthrough s8 #14: the pane had no way to tell whether a number is good."""
    pane = ResultsPanel()
    qtbot.addWidget(pane)
    held = catalogue().info("side-plank-left", "held").name
    pane.start_protocol(short_protocol(drill="side-plank-left"))
    # St Catherine 2014 (references.toml): left side bridge 55 ± 28 s; 111 s is z = +2.0.
    pane.show_result(_held("side-plank-left", 111.0, True, tmp_path / "sub-P-071"))
    refs = pane.shown_references()
    assert refs[held].startswith(
        "z +2.0 (98th percentile) outside the central 95 % of healthy adults 18–55 y"
    )
    assert pane.table.item(0, 2).background().color() == OUTSIDE
    assert "St Catherine" in pane.table.item(0, 2).toolTip()
    assert refs[catalogue().info("side-plank-left", OTHER).name] == NO_NORM
    assert refs[catalogue().info("side-plank-left", "position_lost").name] == "—"  # a flag: not judged
    pane.show_result(_held("side-plank-left", 55.0, True, tmp_path / "sub-P-071"))
    assert pane.table.horizontalHeaderItem(2).text() == REFERENCE_HEADER
    assert pane.shown_references()[held].startswith("z +1.0 (84th percentile) vs healthy adults")  # mean 83 s


def test_a_censored_biering_sorensen_hold_is_not_judged_against_the_cut_off(qtbot, tmp_path):
    """The 176 s cut-off (Biering-Sørensen 1984, men) says nothing about a hold the task ended
    first; for a subject whose sex is not given it is not applied at all."""
    pane = ResultsPanel()
    qtbot.addWidget(pane)
    held = catalogue().info("biering-sorensen", "held").name
    pane.start_protocol(short_protocol(drill="biering-sorensen"))
    pane.show_result(_held("biering-sorensen", 127.0, False, tmp_path / "sub-P-070"))
    assert pane.shown_rows()[0] == (held, "≥ 127 s (task ended before the posture was lost)")
    assert pane.shown_references()[held] == (
        "no cut-off applied: the 176 s / 198 s cut-off is for men and the sex is not given"
    )
    set_demographics(tmp_path, "P-072", Demographics(age_band="40-49", sex="male"))
    pane.start_protocol(short_protocol(drill="biering-sorensen"))
    pane.show_result(_held("biering-sorensen", 127.0, False, tmp_path / "sub-P-072"))
    ref = pane.shown_references()[held]
    assert ref.startswith("not judged against the 176 s cut-off (men, Danish general population")
    assert pane.table.item(0, 2).background().style() == Qt.BrushStyle.NoBrush  # not flagged
    pane.start_protocol(short_protocol(drill="biering-sorensen"))
    pane.show_result(_held("biering-sorensen", 127.0, True, tmp_path / "sub-P-072"))  # lost: exact
    assert pane.shown_references()[held].startswith("below 176 s predicts low-back pain within a year")
    assert pane.table.item(0, 2).background().color() == OUTSIDE


def test_a_younger_reference_population_is_said_beside_the_judgement(qtbot, tmp_path):
    """A 40-49 patient's plank against Strand 2014's college men (about 20 y)."""
    pane = ResultsPanel()
    qtbot.addWidget(pane)
    set_demographics(tmp_path, "P-074", Demographics(age_band="40-49", sex="male"))
    pane.start_protocol(short_protocol(drill="plank"))
    pane.show_result(_held("plank", 60.0, True, tmp_path / "sub-P-074"))
    held = catalogue().info("plank", "held").name
    assert pane.shown_references()[held].endswith(
        "college men (20 y); reference population younger than the patient (about 20 y; patient 40–49 y)"
    )


def test_a_censored_repetition_makes_the_protocol_mean_a_lower_bound(qtbot, tmp_path):
    pane = ResultsPanel()
    qtbot.addWidget(pane)
    pane.start_protocol(short_protocol(drill="side-plank-left", repetitions=2))
    pane.show_result(_held("side-plank-left", 80.0, True, tmp_path / "sub-P-073"))
    pane.show_result(_held("side-plank-left", 90.0, False, tmp_path / "sub-P-073"))
    texts = [pane.table.item(0, c).text() for c in (1, 3, 4)]
    assert texts == ["≥ 85 s (1 of 2 a lower bound)", "80 s", "≥ 90 s"]
    assert pane.shown_references()[pane.table.item(0, 0).text()].endswith(
        "a lower bound, not compared with healthy adults 18–55 y (76 women, 40 men)"
    )


def test_the_heading_says_the_drill_and_its_condition_once(qtbot):
    """Walkthrough s9 #14 (the drill's title and its condition repeated): the bundled protocol
    "Quiet stance, eyes open" heads its result with the rest of the condition only."""
    pane = ResultsPanel()
    qtbot.addWidget(pane)
    name = "Quiet stance, eyes open"
    pane.start_protocol(short_protocol(name=name))
    drill = "quiet-stance"
    pane.show_result(RecordingResult(name, 1, "single", Path("x.h5"), drill, AnalysisResult(drill, ())))
    heading = pane.heading.text()
    assert "newest: repetition 1 (firm surface, single task)" in heading
    assert heading.count("eyes open") == 1


def test_every_row_grows_to_its_wrapped_text_when_the_pane_narrows(qtbot, tmp_path):
    """The rows were fitted to their text once, at the width the pane had then: narrowed (a
    smaller window, or the splitter giving the traces room) the long reference texts were cut
    to "…" (README's results-pane screenshot: "z +0.4 (65th …", "vs adult…")."""
    pane = ResultsPanel()
    qtbot.addWidget(pane)
    pane.resize(1100, 500)
    pane.show()
    qtbot.waitExposed(pane)
    pane.start_protocol(short_protocol(drill="side-plank-left"))
    pane.show_result(_held("side-plank-left", 111.0, True, tmp_path / "sub-P-071"))
    pane.more.setChecked(True)
    table = pane.table
    wide = [table.rowHeight(row) for row in range(table.rowCount())]
    pane.resize(420, 500)
    qtbot.wait(50)
    assert table.columnWidth(2) < 200  # the reference text now wraps onto more lines
    needed = [table.sizeHintForRow(row) for row in range(table.rowCount())]
    assert needed[0] > wide[0], (needed, wide)
    heights = [table.rowHeight(row) for row in range(table.rowCount())]
    assert all(h >= n for h, n in zip(heights, needed, strict=True)), (heights, needed)


def test_the_dual_task_cost_never_shows_minus_zero():
    """Walkthrough s11 #8: "Cognitive cost: correct/s -0 %, accuracy -0 %"."""
    from recordings.dual_task import CognitiveScore, DualTaskEffect, dual_task_lines

    score = CognitiveScore(3, 2 / 3, 4.0, 1.5)
    costs = {"correct_per_s": -0.2, "accuracy": -1e-9}
    effect = DualTaskEffect({"acc_rms_ap": -0.4, "acc_rms_ml": 12.6}, score, score, costs)
    text = "\n".join(dual_task_lines(effect))
    assert "-0" not in text and "+0" not in text, text
    assert "correct/s 0 %, accuracy 0 %" in text and "+13 %" in text


def _stance(repetition: int, condition: str, scale: float, cognitive=None) -> RecordingResult:
    """A quiet-stance repetition with every measure the catalogue lists for the family (and the
    cognitive task's score)."""
    family = catalogue().family_of("quiet-stance")
    keys = [k for (f, k), e in catalogue().entries.items() if f == family and e.kind == "value"]
    measures = tuple(Measure("stance", k, scale * (1 + i / 10), "1", "t") for i, k in enumerate(keys))
    path = Path(f"sub-P1_quiet-stance-{condition}_{repetition}.h5")
    return RecordingResult(
        "Dual-task stance (serial subtraction)",
        repetition,
        condition,
        path,
        "quiet-stance",
        AnalysisResult("quiet-stance", measures),
        cognitive=cognitive,
    )


def test_the_dual_task_cost_fits_the_pane_beside_the_table_not_over_it(qtbot, tmp_path, data_dir):
    """Walkthrough s11 #2: at 1366×768 the dual-task cost's lines were drawn over the measures
    table's rows and cut at the pane's bottom. Each thing the pane shows lies apart from the
    others and inside what the pane shows of itself, and the cost's lines are whole."""
    from gui.main_window import MainWindow
    from gui.model.settings import DashboardSettings
    from recordings.dual_task import DUAL_TASK_MEASURES, CognitiveScore, DualTaskEffect

    window = MainWindow(DashboardSettings(subject_id="P1", data_dir=str(data_dir)), tmp_path / "s.json", [])
    qtbot.addWidget(window)
    window.timer.stop()  # the pane shows what is given here
    window.resize(1366, 768)  # the laptop screen: the least room (1920×1080 has more)
    window.show()
    qtbot.waitExposed(window)
    pane = window.results
    pane.start_protocol(short_protocol(name="Dual-task stance (serial subtraction)", repetitions=3))
    for repetition, condition in enumerate(("cognitive", "single", "dual"), start=1):
        pane.show_result(_stance(repetition, condition, 1.0 if condition != "dual" else 1.3))
        window._give_results_room()  # what the tick does when a result arrives
    score = CognitiveScore(12, 0.9, 21.0, 2.1)
    costs = {"correct_per_s": 14.3, "accuracy": 3.2}
    effect = DualTaskEffect({m: 30.0 + k for k, m in enumerate(DUAL_TASK_MEASURES)}, score, score, costs)
    assert pane.show_dual_task(effect)  # what the tick does when the protocol ends
    window._give_results_room()
    qtbot.wait(50)
    assert window.height() <= 768
    shown = pane.visibleRegion().boundingRect()  # of the pane, what its scroll area shows
    parts = [w for w in (pane.heading, pane.pages, pane.sides) if w.isVisible()]
    rects = [w.geometry() for w in parts]
    for k, rect in enumerate(rects):
        assert shown.contains(rect), (parts[k], rect, shown)
        assert not any(rect.intersects(other) for other in rects[k + 1 :]), rects
    assert pane.pages.currentWidget() is pane.dual_view and pane.dual.isVisible()
    assert "Cognitive cost" in pane.dual.text()
    view = pane.dual_view.viewport()
    assert pane.dual.heightForWidth(view.width()) <= view.height()  # every line whole, unscrolled
    pane.more.setChecked(True)  # back to the measures, in the same place
    assert pane.pages.currentWidget() is pane.table and not pane.cost.isChecked()
    window.close()


def test_the_seated_cognitive_only_baseline_shows_its_score_not_sway(qtbot):
    """Walkthrough s11 #12, in the pane: the cognitive task alone, done seated, was shown with
    the sway of a patient sitting; the standing repetitions after it keep their table."""
    from gui.results_panel import SEATED
    from recordings.dual_task import CognitiveScore

    pane = ResultsPanel()
    qtbot.addWidget(pane)
    pane.start_protocol(short_protocol(name="Dual-task stance", repetitions=3))
    pane.show_result(_stance(1, "cognitive", 1.0, CognitiveScore(12, 0.75, 18.0, 2.0)))
    heading = pane.heading.text()
    assert SEATED in heading and "12 answers, 75 % correct, 0.30 correct/s" in heading
    assert pane.shown_rows() == [] and pane.pages.isHidden() and pane.more.isHidden()
    pane.show_result(_stance(2, "single", 1.0))
    assert SEATED not in pane.heading.text() and not pane.pages.isHidden()
    assert "Sway front–back (acceleration)" in dict(pane.shown_rows())
