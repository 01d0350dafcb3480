"""McGill battery ratios with censored holds: a hold the task ended before the posture was lost
is only a lower bound, so a ratio with it is a bound (judged only where the bound decides the
rule) and a ratio of two such holds is not given."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recordings.conditions import condition_for
from recordings.protocol_results import RATIO_NOT_GIVEN, SessionResult, battery_ratios, side_pairs, summarise
from recordings.references import bundled_references
from sensors.processing.analysis import AnalysisResult, Measure

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _holds(*holds: tuple[str, float, bool]) -> list[SessionResult]:
    """Sessions of (drill, time held s, posture lost); not lost = censored."""
    out = []
    for k, (drill, held, lost) in enumerate(holds):
        measures = (
            Measure("hold", "held", held, "s", "test"),
            Measure("hold", "position_lost", 1.0 if lost else 0.0, "", "test"),
        )
        out.append(
            SessionResult(
                Path(f"{drill}-{k}.h5"),
                drill,
                condition_for(drill),
                START + timedelta(minutes=k),
                AnalysisResult(drill, measures),
            )
        )
    return out


def _ratios(*holds: tuple[str, float, bool]) -> dict:
    return {r.name: r for r in battery_ratios(summarise(_holds(*holds)), bundled_references())}


def test_exact_holds_give_plain_ratios_judged_by_the_rules():
    r = _ratios(
        ("biering-sorensen", 100, True), ("side-plank-right", 80, True), ("side-plank-left", 60, True)
    )
    assert r["right : left side bridge"].value == pytest.approx(80 / 60)
    assert r["right : left side bridge"].value_text == "1.33"
    assert r["right : left side bridge"].flagged is True  # outside 0.95–1.05
    assert (r["side bridge : extensor (right)"].value_text, r["side bridge : extensor (right)"].flagged) == (
        "0.80",
        True,  # ≥ 0.75
    )
    assert (r["side bridge : extensor (left)"].value_text, r["side bridge : extensor (left)"].flagged) == (
        "0.60",
        False,
    )


def test_a_censored_numerator_gives_a_lower_bound_judged_only_when_it_decides():
    r = _ratios(
        ("biering-sorensen", 100, True), ("side-plank-right", 80, False), ("side-plank-left", 50, False)
    )
    right_ext = r["side bridge : extensor (right)"]
    assert (right_ext.bound, right_ext.value_text, right_ext.flagged) == ("≥", "≥ 0.80", True)
    left_ext = r["side bridge : extensor (left)"]  # at least 0.50: could be either side of 0.75
    assert (left_ext.value_text, left_ext.flagged, left_ext.judged) == (
        "≥ 0.50",
        None,
        "not judged (a bound)",
    )
    assert "not judged" in left_ext.text and "0.50" in left_ext.text
    both = r["right : left side bridge"]  # both sides censored: nothing can be said
    assert math.isnan(both.value) and both.flagged is None and both.value_text == RATIO_NOT_GIVEN


def test_a_censored_denominator_gives_an_upper_bound():
    r = _ratios(
        ("biering-sorensen", 100, False), ("side-plank-right", 60, True), ("side-plank-left", 80, True)
    )
    right_ext = r["side bridge : extensor (right)"]  # at most 0.60: surely below 0.75
    assert (right_ext.value_text, right_ext.flagged, right_ext.judged) == ("≤ 0.60", False, "within target")
    left_ext = r["side bridge : extensor (left)"]  # at most 0.80: could be either side of 0.75
    assert (left_ext.value_text, left_ext.flagged) == ("≤ 0.80", None)
    rl = r["right : left side bridge"]  # exact holds on both sides
    assert (rl.value_text, rl.flagged) == ("0.75", True)


def test_a_censored_repetition_makes_the_mean_a_lower_bound():
    summary = summarise(_holds(("side-plank-right", 80, True), ("side-plank-right", 90, False)))[0]
    held = summary.measure("held")
    assert held.lower_bound and held.mean == pytest.approx(85)
    assert [held.format_each(k) for k in range(2)] == ["80 s", "≥ 90 s"]
    assert held.text.startswith("≥ 85 s") and "1 a lower bound" in held.text
    exact = summarise(_holds(("side-plank-right", 80, True), ("side-plank-right", 90, True)))[0]
    assert not exact.measure("held").lower_bound and exact.measure("held").text == "85 ± 7 s (mean ± SD of 2)"


def test_left_right_comparisons_with_a_censored_side_are_bounds():
    """Right : left and the symmetry index rise with the right side: a censored right hold makes
    them lower bounds, a censored left one upper bounds, both censored: not given."""
    exact = side_pairs(summarise(_holds(("side-plank-left", 80, True), ("side-plank-right", 60, True))))
    pair = next(p for p in dict(exact)["side-plank"] if p.info.key == "held")
    # SI = (R − L)/(½(R + L)) × 100 = −20/70 × 100 = −29 %.
    assert (pair.ratio_text, pair.symmetry_text, pair.side_text("right")) == ("0.75", "-29 %", "60 s")
    right = side_pairs(summarise(_holds(("side-plank-left", 80, True), ("side-plank-right", 60, False))))
    pair = next(p for p in dict(right)["side-plank"] if p.info.key == "held")
    assert (pair.ratio_text, pair.symmetry_text, pair.side_text("right")) == ("≥ 0.75", "≥ -29 %", "≥ 60 s")
    left = side_pairs(summarise(_holds(("side-plank-left", 80, False), ("side-plank-right", 60, True))))
    pair = next(p for p in dict(left)["side-plank"] if p.info.key == "held")
    assert (pair.ratio_text, pair.symmetry_text, pair.side_text("left")) == ("≤ 0.75", "≤ -29 %", "≥ 80 s")
    both = side_pairs(summarise(_holds(("side-plank-left", 80, False), ("side-plank-right", 60, False))))
    pair = next(p for p in dict(both)["side-plank"] if p.info.key == "held")
    assert pair.ratio_text == pair.symmetry_text == RATIO_NOT_GIVEN


def test_a_flag_of_one_repetition_reads_yes_or_no():
    """Walkthrough s10 #15: `visit` printed "Foot put down yes in 0 of 1"."""
    from recordings.catalogue import catalogue
    from recordings.protocol_results import RepeatedMeasure

    info = catalogue().info("single-leg-left", "foot_down")
    assert RepeatedMeasure(info, (0.0,)).text == "no"
    assert RepeatedMeasure(info, (1.0,)).text == "yes"
    assert RepeatedMeasure(info, (1.0, 0.0, 0.0)).text == "yes in 1 of 3"
