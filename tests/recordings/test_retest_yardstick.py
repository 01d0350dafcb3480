"""A re-test judges each change against the error of the same quantity: a value that grows with
the recording's length (path, jerk) is never judged against a 10 s window's error; the SEM is
shown beside the MDC95; a headline says which key measures changed beyond their error; and the
compare table's columns never run together."""

from __future__ import annotations

import itertools
import math
import re

import pytest

from recordings.compare import MdcBasis, Verdict, compare_results
from sensors.processing.analysis import AnalysisResult, Measure
from sensors.processing.collector import SessionCollector
from sensors.simulator import DrillOptions, make_drill
from stabmon.comparing import format_comparison
from tests.conftest import run_drill


def _stance(seconds: float, seed: int, sway_scale: float = 1.0) -> AnalysisResult:
    options = DrillOptions(duration_s=seconds, seed=seed, sway_scale=sway_scale)
    collector = SessionCollector()
    run_drill(make_drill("quiet-stance", options), [collector], seed=seed)
    return collector.analysis("quiet-stance")


@pytest.fixture(scope="module")
def stance() -> dict[str, AnalysisResult]:
    """The same simulated patient over 81 s (7 windows) and, another day, over 41 s (3 windows,
    the fewest a within-session error is taken from); and over 41 s with twice the sway (an
    impaired patient, same condition); and over 31 s (2 windows: too few)."""
    return {
        "long": _stance(81.0, seed=1),
        "short": _stance(41.0, seed=2),
        "impaired": _stance(41.0, seed=2, sway_scale=2.0),
        "too short": _stance(31.0, seed=3),
    }


def test_a_path_over_a_shorter_recording_is_no_improvement(stance):
    """The whole-recording path length and jerk of a 41 s re-test are about 40/80 of an 81 s
    baseline's; against a 10 s window's error they read "possibly better". Their means over the
    10 s windows — the quantity the error was measured on — show no real change."""
    comparison = compare_results(stance["long"], stance["short"])
    for key in ("angle_path_length", "acc_jerk"):
        whole, windows = comparison.row(key), comparison.row(f"mean_{key}")
        assert whole.retest < 0.8 * whole.baseline, whole  # the length, not the patient
        assert whole.verdict is Verdict.NOT_JUDGED and math.isnan(whole.mdc95)
        assert "see its mean of 10 s windows" in whole.verdict_text
        assert windows.basis is MdcBasis.WITHIN_SESSION and math.isfinite(windows.mdc95)
        assert abs(windows.change) < 0.3 * windows.baseline
    path = comparison.row("mean_angle_path_length")
    assert path.verdict is Verdict.NO_REAL_CHANGE, path
    # Each measure has one verdict: the whole-recording rows defer to their window means.
    judged = [r for r in comparison.rows if r.verdict is not Verdict.NOT_JUDGED]
    assert judged and all(r.name.startswith("mean_") for r in judged)
    assert comparison.judged_row("angle_path_length") is path


def test_the_sem_is_the_published_one_and_mdc95_is_1_96_root_2_sem():
    """Latimer 1999 (references.toml): Biering-Sørensen SEM 11.6 s in current low-back pain."""
    base = AnalysisResult("biering-sorensen", (Measure("g", "held", 100.0, "s", ""),))
    new = AnalysisResult("biering-sorensen", (Measure("g", "held", 150.0, "s", ""),))
    comparison = compare_results(base, new)
    row = comparison.row("held")
    assert row.basis is MdcBasis.PUBLISHED
    assert row.sem == pytest.approx(11.6)
    assert row.mdc95 == pytest.approx(1.96 * math.sqrt(2) * 11.6)
    assert row.sem_text == "11.6 s" and row.verdict is Verdict.BETTER
    text = format_comparison(comparison)
    assert " SEM " in text.splitlines()[1] and "11.6 s" in text
    assert comparison.headline.startswith("Better: 1 of 1 key measures changed beyond")
    assert comparison.headline.endswith("better: Time held +50 s (+50 %)")


def test_the_headline_says_which_key_measures_got_worse(stance):
    comparison = compare_results(stance["short"], stance["impaired"])
    headline = comparison.headline
    assert headline.startswith("Possibly worse: "), headline
    worse = headline.split("worse: ", 2)[2].split(";")[0]
    # Twice the sway: both acceleration sways double (the patient's, not the condition's).
    assert "Sway front–back (acceleration) +" in worse and "Sway side to side (acceleration) +" in worse
    assert "better:" not in headline
    assert "a lower bound" in headline  # the error came from the windows only
    for key in ("mean_acc_rms_ap", "mean_acc_rms_ml"):
        row = comparison.row(key)
        assert row.retest == pytest.approx(2.0 * row.baseline, rel=0.1)
        assert row.verdict is Verdict.POSSIBLY_WORSE
    nothing = compare_results(
        AnalysisResult("quiet-stance", (Measure("g", "acc_rms_ap", 0.1, "", ""),)),
        AnalysisResult("quiet-stance", (Measure("g", "acc_rms_ap", 0.2, "", ""),)),
    )
    assert nothing.headline.startswith("Key measures: no change could be judged")


def test_the_compare_table_columns_never_run_together(stance):
    """Every value sits in its own column, two spaces at least from the one before it, whatever
    the widths ('(−45 %)≥ 0.019 m/s²' was one run-together cell)."""
    text = format_comparison(compare_results(stance["long"], stance["impaired"]))
    lines = text.splitlines()
    header = next(k for k, line in enumerate(lines) if line.startswith("measure "))
    head = lines[header]
    labels = ("baseline", "re-test", "change", "MDC95", "SEM")
    ends = [head.index(label) + len(label) for label in labels]
    verdict_at = head.index("verdict")
    rows = [line for line in lines[header + 1 :] if len(line) > verdict_at]
    assert len(rows) >= 20
    for line in rows:
        # The name, two spaces or more, then the baseline right-aligned under its header.
        assert re.fullmatch(r"\S.*?\S {2,}\S(.*\S)?", line[: ends[0]]), line
        for start, end in itertools.pairwise(ends):
            cell = line[start:end]
            assert cell.startswith("  ") and cell[-1] != " ", (line, cell)  # right-aligned, apart
        assert line[ends[-1] : verdict_at] == "  " and line[verdict_at] != " ", line
    continuation = [line for line in lines[header + 1 :] if len(line) <= verdict_at]
    assert all(line.strip() and "  " not in line.strip() for line in continuation)  # wrapped names


def test_the_trend_shows_the_judged_quantity_with_its_error_band(stance):
    """The report's trend plots what the comparison judged (the mean of 10 s windows, with its
    MDC95 band), not a whole-recording value that has no known error."""
    from datetime import datetime, timedelta

    from recordings.report_history import HistoryPoint, trend_figure
    from recordings.subjects import Subject

    first = datetime(2026, 11, 2, 9, 0).astimezone()
    history = [HistoryPoint(first, stance["long"]), HistoryPoint(first + timedelta(days=14), stance["short"])]
    comparison = compare_results(stance["long"], stance["short"])
    trend = trend_figure(history, stance["short"], comparison, Subject("P-51"))
    assert trend is not None and "shaded: the MDC95 around the first visit" in trend.caption
    fig = trend.figure
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[0] == "Sway front–back (acceleration), mean of 10 s windows", titles
    assert all(", mean of 10 s windows" in t for t in titles)
    assert all(ax.patches for ax in fig.axes)  # the MDC95 band around the first session


def _bends(*trunk_ranges: float) -> AnalysisResult:
    """A bend session's measures as the analysis gives them: per bend and their mean only."""
    reps = [Measure("g", "trunk_flexion", v, "deg", "", k) for k, v in enumerate(trunk_ranges, 1)]
    mean = sum(trunk_ranges) / len(trunk_ranges)
    return AnalysisResult("forward-bend", (*reps, Measure("g", "mean_trunk_flexion", mean, "deg", "")))


def test_the_headline_judges_a_key_measure_compared_through_its_mean_only():
    """Walkthrough s10 #6: a bend's key measures exist only as means of bends; the headline said
    "no change could be judged" while the table judged them against Laird's published MDC."""
    comparison = compare_results(_bends(96.0, 98.0, 97.0), _bends(120.0, 121.0, 119.0))
    assert comparison.judged_row("trunk_flexion") is comparison.row("mean_trunk_flexion")
    assert comparison.headline.startswith("Better: 1 of 1 key measures changed beyond"), comparison.headline
    assert "Trunk flexion range" in comparison.headline
    # A clinic MDC file may name the measure or its mean: both are this comparison's.
    assert comparison.names_measure("trunk_flexion") and comparison.names_measure("mean_trunk_flexion")
    assert not comparison.names_measure("trunk_flexon")


def test_the_headline_gives_the_real_reason_nothing_was_judged():
    """Walkthrough s10 #6: two Biering-Sørensen holds both cut off by the task's end were said to
    have "no measurement error known" (Latimer's SEM is); the reason is the censoring."""
    cut_off = (Measure("g", "held", 93.0, "s", ""), Measure("g", "position_lost", 0.0, "1", ""))
    comparison = compare_results(
        AnalysisResult("biering-sorensen", cut_off), AnalysisResult("biering-sorensen", cut_off)
    )
    assert comparison.headline.startswith(
        "Key measures: no change could be judged (cut off by the task's end, a lower bound only, "
        "in one or both sessions: Time held"
    ), comparison.headline


def test_two_windows_a_session_are_too_few_to_judge_a_change(stance):
    """Walkthrough s10 #11: a change was called "better" against the spread of two 10 s windows a
    session (a pooled SD with two degrees of freedom). Reynard 2019 needs 4 repetitions for a
    reliable trunk sway; stabmon takes an error from 3 or more in each session."""
    comparison = compare_results(stance["too short"], stance["impaired"])
    row = comparison.row("mean_acc_rms_ap")
    assert row.verdict is Verdict.NOT_JUDGED and math.isnan(row.mdc95)
    assert row.verdict_text == "not judged (too few 10 s windows to judge: 2 + 3, needs ≥ 3 in each)"
