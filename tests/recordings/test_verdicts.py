"""Re-test verdicts: MDC from published values, the clinic's or the within-session lower bound;
direction from the catalogue; warnings; and conditions that are never mixed."""

import math
import shutil
from datetime import UTC, datetime, timedelta

import h5py
import pytest

from recordings import read_recording
from recordings.compare import (
    ConditionMismatchError,
    MdcBasis,
    SessionFacts,
    Verdict,
    check_comparable,
    compare_results,
)
from recordings.conditions import condition_for
from recordings.library import SessionLibrary
from sensors.processing.analysis import AnalysisResult, Measure
from stabmon.cli import main
from tests.cli_args import RECORD_NO_RADIO, RECORD_SIMULATED
from tests.redate import redate


def _result(drill: str, **values: float) -> AnalysisResult:
    return AnalysisResult(drill, tuple(Measure("g", k, v, "", "") for k, v in values.items()))


def test_a_published_mdc_decides_and_the_direction_follows_the_catalogue():
    base = _result("biering-sorensen", held=150.0, drift=2.0, position_lost=1.0)
    row = compare_results(base, _result("biering-sorensen", held=200.0, drift=2.0, position_lost=1.0)).row(
        "held"
    )
    # Latimer 1999: SEM 11.6 s in current LBP → MDC95 = 1.96·√2·11.6 = 32.2 s.
    assert row.mdc95 == pytest.approx(1.96 * math.sqrt(2) * 11.6)
    assert row.basis is MdcBasis.PUBLISHED and "Latimer 1999" in row.basis_note
    assert row.verdict is Verdict.BETTER  # held longer is better
    assert row.change_text == "+50 s (+33 %)"
    worse = compare_results(_result("biering-sorensen", held=200.0), _result("biering-sorensen", held=150.0))
    assert worse.row("held").verdict is Verdict.WORSE
    small = compare_results(base, _result("biering-sorensen", held=170.0))
    assert small.row("held").verdict is Verdict.NO_REAL_CHANGE  # 20 s < 32 s
    flag = compare_results(base, _result("biering-sorensen", position_lost=0.0, held=150.0))
    assert flag.row("position_lost").verdict is Verdict.NOT_JUDGED  # no MDC for it


def test_lower_sway_is_better_and_symmetry_is_better_toward_zero():
    clinic = {"acc_rms_ap": 0.01, "step_time_symmetry_index": 2.0}
    sway = compare_results(
        _result("quiet-stance", acc_rms_ap=0.05), _result("quiet-stance", acc_rms_ap=0.03), clinic
    )
    assert (sway.row("acc_rms_ap").verdict, sway.row("acc_rms_ap").basis) == (Verdict.BETTER, MdcBasis.CLINIC)
    gait = compare_results(
        _result("gait", step_time_symmetry_index=-8.0, cadence=100.0),
        _result("gait", step_time_symmetry_index=3.0, cadence=112.0),
        clinic,
    )
    assert gait.row("step_time_symmetry_index").verdict is Verdict.BETTER  # |3| < |−8|
    assert gait.row("cadence").verdict is Verdict.NOT_JUDGED  # no MDC anywhere: said, not guessed


def test_the_within_session_mdc_is_a_lower_bound_and_says_so():
    reps = [Measure("g", "trunk_flexion", v, "", "", k) for k, v in enumerate((90.0, 91.0, 89.5), 1)]
    later = [Measure("g", "trunk_flexion", v, "", "", k) for k, v in enumerate((93.0, 92.5, 93.5), 1)]
    base = AnalysisResult("forward-bend", (*reps, Measure("g", "mean_marp", 10.0, "", "")))
    new = AnalysisResult("forward-bend", (*later, Measure("g", "mean_marp", 10.0, "", "")))
    # trunk flexion has a published MDC (Laird 2016), the conservative one: +3° is no real change.
    base = AnalysisResult("forward-bend", (*base.measures, Measure("g", "mean_trunk_flexion", 90.2, "", "")))
    new = AnalysisResult("forward-bend", (*new.measures, Measure("g", "mean_trunk_flexion", 93.0, "", "")))
    row = compare_results(base, new).row("mean_trunk_flexion")
    assert row.basis is MdcBasis.PUBLISHED and row.verdict is Verdict.NO_REAL_CHANGE
    # Without it (a reference set with no MDC) the within-session estimate is used, as a lower bound.
    from recordings.references import ReferenceSet

    row = compare_results(base, new, references=ReferenceSet(())).row("mean_trunk_flexion")
    assert row.basis is MdcBasis.WITHIN_SESSION and row.mdc_text.startswith("≥ ")
    assert row.verdict is Verdict.POSSIBLY_BETTER


def test_changes_read_with_one_minus_sign_and_one_set_of_words():
    """Walkthrough s8 #14: compare printed "−0.01 s (-0 %)" (two different minus signs),
    "((lower bound))", and "possible change" beside "possibly better"."""
    from stabmon.comparing import format_comparison

    small = compare_results(
        _result("sit-to-stand", five_rise_time=6.0), _result("sit-to-stand", five_rise_time=5.9)
    )
    assert small.row("five_rise_time").change_text == "−0.1 s (−2 %)"
    tiny = compare_results(_result("biering-sorensen", held=300.0), _result("biering-sorensen", held=299.0))
    assert tiny.row("held").change_text == "−1 s (< 1 %)"
    down = compare_results(_result("biering-sorensen", held=200.0), _result("biering-sorensen", held=150.0))
    assert down.row("held").change_text == "−50 s (−25 %)"
    assert all("-" not in r.change_text for c in (small, tiny, down) for r in c.rows)
    # An undirected measure beyond a lower-bound MDC: "possibly changed", like "possibly better".
    from recordings.references import ReferenceSet

    reps = [Measure("g", "pelvic_onset_lag", v, "", "", k) for k, v in enumerate((0.20, 0.21, 0.19), 1)]
    later = [Measure("g", "pelvic_onset_lag", v, "", "", k) for k, v in enumerate((0.40, 0.41, 0.39), 1)]
    base = AnalysisResult("forward-bend", (*reps, Measure("g", "mean_pelvic_onset_lag", 0.2, "", "")))
    new = AnalysisResult("forward-bend", (*later, Measure("g", "mean_pelvic_onset_lag", 0.4, "", "")))
    comparison = compare_results(base, new, references=ReferenceSet(()))
    row = comparison.row("mean_pelvic_onset_lag")
    assert row.info.better.value == "none" and row.verdict is Verdict.POSSIBLY_CHANGED
    words = {v.value for v in Verdict}
    assert {"possibly changed", "possibly better", "possibly worse", "changed"} <= words
    assert not any(w.startswith("possible ") for w in words)
    text = format_comparison(comparison)
    assert "possibly changed (within-session repetitions, a lower bound)" in text
    assert "((" not in text and "))" not in text


def test_a_censored_hold_is_never_called_worse_and_only_a_gain_is_claimed_from_one():
    """A hold the task ended before the posture was lost is a lower bound (walkthrough s8 #5):
    a re-test cut short at 60 s after a 150-s baseline is not "worse"; a re-test of ≥ 200 s after
    150 s held is better whatever its true length; a censored baseline judges nothing."""
    lost = _result("biering-sorensen", held=150.0, position_lost=1.0)
    cut = compare_results(lost, _result("biering-sorensen", held=60.0, position_lost=0.0)).row("held")
    assert cut.verdict is Verdict.NOT_JUDGED and cut.cells[2] == "≥ 60 s"
    gain = compare_results(lost, _result("biering-sorensen", held=200.0, position_lost=0.0)).row("held")
    assert gain.verdict is Verdict.BETTER and gain.cells[1:3] == ("150 s", "≥ 200 s")
    first_cut = _result("biering-sorensen", held=100.0, position_lost=0.0)
    after = compare_results(first_cut, _result("biering-sorensen", held=200.0, position_lost=1.0))
    assert after.row("held").verdict is Verdict.NOT_JUDGED and after.row("held").cells[1] == "≥ 100 s"
    same = compare_results(lost, _result("biering-sorensen", held=160.0, position_lost=0.0)).row("held")
    assert same.verdict is Verdict.NOT_JUDGED  # within the MDC, but could be far more
    from stabmon.comparing import format_comparison

    shown = format_comparison(
        compare_results(lost, _result("biering-sorensen", held=60.0, position_lost=0.0))
    )
    assert "≥ 60 s" in shown and "worse" not in shown


def test_float_noise_is_no_change():
    a = _result("forward-bend", mean_lumbar_contribution_end_range=47.30000000000001)
    b = _result("forward-bend", mean_lumbar_contribution_end_range=47.3)
    row = compare_results(a, b).row("mean_lumbar_contribution_end_range")
    assert row.change != 0 and row.change_text == "0 %"
    assert "e-" not in row.change_text


def test_warnings_for_length_and_sensors_and_conditions_are_never_mixed():
    single = condition_for("quiet-stance", "single")
    dual = condition_for("quiet-stance", "dual", "stroop")
    a = SessionFacts("a.h5", single, 30.0, ("lumbar: stabmon IMU", "pelvis: stabmon IMU"))
    b = SessionFacts("b.h5", single, 62.0, ("lumbar: movella_dot DOT", "pelvis: stabmon IMU"))
    warnings = check_comparable(a, b)
    assert any("lengths differ (30 s vs 62 s)" in w for w in warnings)
    assert any("sensor sets differ" in w for w in warnings)
    with pytest.raises(ConditionMismatchError, match="different conditions"):
        check_comparable(a, SessionFacts("c.h5", dual, 30.0, a.sensors))
    unknown = condition_for("quiet-stance", "unknown")
    assert any(
        "conditions may differ" in w
        for w in check_comparable(a, SessionFacts("d.h5", unknown, 30.0, a.sensors))
    )


def _record(data_dir, subject, seconds, seed, dual=1.0, radio=False):
    """A quiet stance by `stabmon record` on the simulated body, over the virtual BLE link when
    `radio` (conditions and comparison do not depend on the link)."""
    record = RECORD_SIMULATED if radio else RECORD_NO_RADIO
    argv = [*record, "--drill", "quiet-stance", "--seconds", str(seconds)]
    argv += ["--seed", str(seed), "--dual-task", str(dual), "--subject", subject, "--data-dir", str(data_dir)]
    assert main(argv) == 0


def test_dual_and_single_task_sessions_are_kept_apart(tmp_path, capsys):
    _record(tmp_path, "P05", 14, 1, radio=True)
    _record(tmp_path, "P05", 14, 2, dual=2.0)
    dual_first = next((tmp_path / "sub-P05").glob("*_quiet-stance-dual_*.h5"))
    redate(dual_first, datetime.now(UTC) - timedelta(days=7))  # the dual-task baseline visit
    _record(tmp_path, "P05", 14, 3, dual=2.0)
    library = SessionLibrary(tmp_path)
    entries = library.sessions("P05")
    single = [e for e in entries if e.condition.task == "single"]
    dual = [e for e in entries if e.condition.task == "dual"]
    assert len(single) == 1 and len(dual) == 2
    # The condition is in the file name, the root attribute and the library listing.
    assert "_quiet-stance_" in single[0].path.name and "_quiet-stance-dual_" in dual[0].path.name
    with h5py.File(dual[0].path) as f:
        assert f.attrs["condition"] == "task=dual, vision=eyes-open, surface=firm"
    assert library.baseline("P05", "quiet-stance", dual[0].condition).path == dual[0].path
    capsys.readouterr()
    assert main(["compare", str(dual[1].path), "--data-dir", str(tmp_path)]) == 0
    assert f"Baseline {dual[0].path.name}" in capsys.readouterr().out  # not the single-task one
    assert main(["compare", str(single[0].path), str(dual[1].path)]) == 2
    assert "different conditions" in capsys.readouterr().err
    assert main(["sessions", "--subject", "P05", "--data-dir", str(tmp_path)]) == 0
    assert "dual task" in capsys.readouterr().out

    # A file from before the condition attribute: derived from its protocol settings, or unknown.
    old = tmp_path / "old.h5"
    shutil.copy(dual[0].path, old)
    with h5py.File(old, "a") as f:
        del f.attrs["condition"]
    assert read_recording(old).condition == dual[0].condition
    with h5py.File(old, "a") as f:
        f.attrs["protocol_json"] = "{}"
    assert read_recording(old).condition.task == "unknown"


def test_gait_gets_verdicts_from_its_10_s_windows():
    from sensors.processing.collector import SessionCollector
    from sensors.simulator import DrillOptions, make_drill
    from tests.conftest import run_drill

    def walk(seed):
        collector = SessionCollector()
        run_drill(make_drill("gait", DrillOptions(seed=seed)), [collector], seed=seed)
        return collector.analysis("gait")

    base, retest = walk(1), walk(2)
    windows = {m.repetition for m in base.measures if m.repetition is not None}
    assert len(windows) >= 2
    comparison = compare_results(base, retest)
    cadence = comparison.row("cadence")
    assert cadence.basis is MdcBasis.WITHIN_SESSION and math.isfinite(cadence.mdc95)
    assert cadence.verdict is not Verdict.NOT_JUDGED
    assert comparison.row("steps").verdict is Verdict.NOT_JUDGED  # a count
