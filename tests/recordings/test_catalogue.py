"""The measures catalogue covers every measure analysis emits, for every drill the simulator knows
(enumerated by running the analysis, not listed by hand), and nothing a clinician reads shows a raw
key or NaN."""

import math
import re

import pytest

from recordings.catalogue import Better, CatalogueError, Kind, catalogue, format_signed, load_catalogue
from recordings.compare import ChangeRow, MdcBasis
from recordings.measure_table import repetition_rows, session_rows
from sensors.processing.analysis import AnalysisResult, Measure
from sensors.processing.collector import SessionCollector
from sensors.simulator import DrillOptions, make_drill
from stabmon.console import format_measures
from tests.conftest import run_drill

#: One worker for the module: its shared fixture is built once, not once per xdist worker.
pytestmark = pytest.mark.xdist_group("every-drill")

#: Raw analysis keys look like this (snake case with an underscore); a clinician never sees one.
RAW_KEY = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")


def _analyse(drill: str, seed: int = 1, seconds: float | None = None, **parameters: float) -> AnalysisResult:
    drill_script = make_drill(drill, DrillOptions(duration_s=seconds, seed=seed), **parameters)
    collector = SessionCollector()
    run_drill(drill_script, [collector], seed=seed)
    return collector.analysis(drill)


@pytest.fixture(scope="module")
def every_drill(every_drill_analysed) -> dict[str, AnalysisResult]:
    """Every drill's measures (tests/conftest.py's shared analyses: holds scripted to end inside
    the recording give the same measure names as their drawn minutes-long times, none of them NaN)."""
    return {name: result for name, (_, result) in every_drill_analysed.items()}


def test_the_catalogue_describes_every_measure_of_every_drill(every_drill):
    cat = catalogue()
    seen = 0
    for drill, result in every_drill.items():
        assert result.measures, drill
        for m in result.measures:
            info = cat.info(drill, m.name)  # CatalogueError if missing
            assert info.name and info.meaning and info.source, (drill, m.name)
            assert "_" not in info.name and not info.name[0].islower(), info.name
            assert info.unit not in ("1", "deg", "m^2/s^5"), (m.name, info.unit)
            seen += 1
    assert seen > 200
    # Unknown measures are an error, never a silent raw key.
    with pytest.raises(CatalogueError, match="no measure 'made_up'"):
        cat.info("gait", "made_up")


def test_every_catalogued_measure_is_emitted_by_some_drill(every_drill):
    """The catalogue has no stale entries: each one is something analysis emits."""
    emitted = {
        (catalogue().family_of(drill), m.name.removeprefix("mean_"))
        for drill, result in every_drill.items()
        for m in result.measures
    }
    # Emitted only in some sessions: stride length and speed need the subject's sensor height, and
    # "no response" a push mark the trunk did not answer (tests/sensors/processing cover both).
    conditional = {("gait", "stride_length"), ("gait", "gait_speed"), ("perturbations", "no_response")}
    assert set(catalogue().entries) <= emitted | {("gait", "steps")} | conditional


def test_units_and_directions_as_a_clinician_reads_them():
    cat = catalogue()
    assert cat.info("forward-bend", "mean_trunk_flexion").unit == "°"
    assert cat.info("forward-bend", "mean_trunk_flexion").better is Better.HIGHER
    assert cat.info("quiet-stance-foam", "acc_rms_ap").better is Better.LOWER
    assert cat.info("biering-sorensen", "held").format(150.4) == "150 s"
    assert cat.info("plank", "position_lost").format(1.0) == "yes"
    share = cat.info("perturbations", "mean_anticipatory")
    assert (share.unit, share.format(0.25)) == ("%", "25 %")
    # 'repetitions' means different things per drill.
    assert cat.info("quiet-stance", "repetitions").name == "10 s windows measured"
    assert cat.info("forward-bend", "repetitions").name == "Bends measured"
    assert cat.info("forward-bend", "repetitions").kind is Kind.COUNT


def test_measure_names_are_words_a_clinician_uses_and_keys_stay():
    """Walkthrough s8 #14: "Sway jerkiness (JERK)". Names carry no abbreviation (JERK, RMS, MARP)
    nor signal-processing term (centroid); the machine keys (exports, stored analyses) stay."""
    cat = catalogue()
    jargon = re.compile(r"\b[A-Z]{3,}\b|\bcentroid\b|deviation phase")
    names = {(family, key): info.name for (family, key), info in cat.entries.items()}
    assert not {k: n for k, n in names.items() if jargon.search(n)}
    assert cat.info("quiet-stance", "acc_jerk").name == "Sway jerkiness"
    assert cat.info("quiet-stance", "acc_rms_ap").name == "Sway front–back (acceleration)"
    assert cat.info("forward-bend", "marp").name == "Trunk–pelvis timing difference"
    assert cat.info("plank", "tremor_rms").name == "Tremor size"
    for family in {f for f, _ in cat.entries}:  # still one name per measure within a drill
        family_names = [n for (f, _), n in names.items() if f == family]
        assert len(family_names) == len(set(family_names)), family


def test_a_missing_value_says_why_instead_of_nan():
    # A 6 s plank: too short for the fatigue trend (two 5 s tremor windows after the reference).
    result = _analyse("plank", seconds=9.0)
    assert math.isnan(result.value("fatigue_trend"))
    rows = {r.measure.name: r for r in session_rows(result)}
    assert re.match(
        r"Not measured — the \d+\.\d s hold was too short for a trend", rows["fatigue_trend"].text
    )
    text = format_measures(result)
    assert "nan" not in text.lower().replace("not measured", "")
    mean_nan = catalogue().info("forward-bend", "mean_lumbar_pelvic_ratio").format(math.nan)
    assert mean_nan == "Not measured — no bend could be measured"


def test_change_formatting_never_shows_float_noise():
    info = catalogue().info("forward-bend", "mean_lumbar_contribution_end_range")
    assert info.format_change(40.0, 40.0 + 1.11e-16) == "0 %"
    assert info.format_change(40.0, 37.26) == "−2.7 %"
    assert info.format_change(40.0, 42.76) == "+2.8 %"
    # A signed value (a dual-task cost, a symmetry index) that rounds to zero is "0" (s11 #8).
    assert [format_signed(v, 0) for v in (-0.4, -0.0, 0.3, 0.6, -0.6)] == ["0", "0", "0", "+1", "-1"]


def test_a_change_between_values_shown_differently_is_never_zero():
    duration = catalogue().info("forward-bend", "duration")  # seconds, two decimals
    # 1.7651 and 1.7649 s show as 1.77 and 1.76 s: the change is their difference, not "0 s".
    assert (duration.format(1.7651), duration.format(1.7649)) == ("1.77 s", "1.76 s")
    assert duration.format_change(1.7651, 1.7649) == "−0.01 s"
    row = ChangeRow(duration, 1.7651, 1.7649, math.nan, MdcBasis.NONE)
    assert row.cells[1:4] == ("1.77 s", "1.76 s", "−0.01 s (< 1 %)")
    # Both shown as 1.76 s but 4 ms apart: one decimal more; equal to that too: 0.
    assert duration.format_change(1.7620, 1.7580) == "−0.004 s"
    assert duration.format_change(1.76201, 1.76199) == "0 s"


def test_analyze_output_shows_names_not_keys_and_no_nan(every_drill):
    for drill, result in every_drill.items():
        text = format_measures(result, repetitions=True)
        assert "nan" not in text.lower(), drill
        keys = {m.name for m in result.measures}
        assert not (set(RAW_KEY.findall(text)) & keys), (drill, set(RAW_KEY.findall(text)) & keys)


def test_means_carry_their_spread_and_each_repetition_is_listed(every_drill):
    bends = every_drill["forward-bend"]
    rows = {r.measure.name: r for r in session_rows(bends)}
    flexion = rows["mean_trunk_flexion"]
    reps = repetition_rows(bends)
    assert flexion.n == len(reps) >= 2
    assert "± " in flexion.text and f"SD of {flexion.n})" in flexion.text
    assert session_rows(bends)[0].info.key_measure  # key measures first


def test_a_bad_catalogue_file_names_the_file_and_the_measure(tmp_path):
    path = tmp_path / "measures.toml"
    path.write_text('[[group]]\nfamilies = ["gait"]\n[group.measures.cadence]\nname = "Cadence"\n')
    with pytest.raises(CatalogueError, match=r"measures.toml group 1: measure 'cadence' needs meaning"):
        load_catalogue(path)


def test_flag_measures_are_never_nan_text():
    m = Measure("hold", "position_lost", 0.0, "1", "")
    assert catalogue().info("bridge", m.name).format(m.value) == "no"


def test_five_times_sit_to_stand_time_matches_the_simulated_rises():
    drill = make_drill("sit-to-stand", DrillOptions(seed=2))
    collector = SessionCollector()
    run_drill(drill, [collector], seed=2)
    rises = drill.truth.rises
    assert len(rises) >= 5
    truth = rises[4].extension_end_s - rises[0].flexion_start_s  # fifth upright − first lean
    assert collector.analysis("sit-to-stand").value("five_rise_time") == pytest.approx(truth, abs=0.4)


def test_the_timed_five_times_sit_to_stand_is_measured_from_its_five_fast_rises():
    """The timed test (five rises as fast as possible, standing after the fifth): the simulated
    patient's 2.4-s cycles give 10.9 s, near Bohannon's 60–69 y mean (11.4 s)."""
    drill = make_drill("five-times-sit-to-stand", DrillOptions(seed=3))
    collector = SessionCollector()
    run_drill(drill, [collector], seed=3)
    rises = drill.truth.rises
    assert len(rises) == 5
    truth = rises[4].extension_end_s - rises[0].flexion_start_s
    assert truth == pytest.approx(10.9)
    result = collector.analysis("five-times-sit-to-stand")
    assert result.value("five_rise_time") == pytest.approx(truth, abs=0.3)
    assert result.value("repetitions") == 5


def test_time_on_one_leg_from_the_pelvis_and_from_the_clinician():
    import numpy as np

    from sensors.processing.foot_down import time_to_foot_down

    t = np.arange(0.0, 30.0, 0.01)
    # On the left leg from 3.5 s (pelvis tilts 3°), foot down at 17 s (level again by 17.5 s).
    tilt = np.interp(t, [0, 3.0, 4.0, 17.0, 17.5, 30.0], [0, 0, 3.0, 3.0, 0.2, 0.2])
    tilt += np.random.default_rng(1).normal(0, 0.2, len(t))
    r = time_to_foot_down(t, tilt, 3.0, 25.0)
    assert r.foot_down and r.how == "pelvis level again"
    assert r.time_s == pytest.approx(17.0 + 0.5 * 2 / 3 * 1.0 - 3.0, abs=0.35)  # crosses 1° at ~17.3 s
    assert time_to_foot_down(t, -tilt, 3.0, 25.0).foot_down  # the right leg tilts the other way
    held = time_to_foot_down(t, np.where(t > 3.5, 3.0, 0.0), 3.0, 25.0)
    assert (held.foot_down, held.time_s, held.how) == (False, 22.0, "held to the end")
    clinician = time_to_foot_down(t, tilt, 3.0, 12.4, ended_by_clinician=True)
    assert (clinician.time_s, clinician.how) == (pytest.approx(9.4), "clinician")
    gap = np.where((t > 10) & (t < 20), np.nan, np.where(t > 3.5, 3.0, 0.0))
    assert not time_to_foot_down(t, gap, 3.0, 25.0).foot_down  # missing data is never "level"


def test_a_simulated_single_leg_stance_is_held_to_the_end(every_drill_analysed):
    drill, left = every_drill_analysed["single-leg-left"]
    assert left.value("foot_down") == 0.0
    task_s = drill.duration_s - drill.calibration_end_s  # (42 s)
    assert left.value("time_on_one_leg") == pytest.approx(task_s, abs=0.2)


def test_a_key_measure_the_analysis_could_not_give_is_a_not_measured_row():
    """Walkthrough s10 #10: a bend drill with no complete bend gave only "Bends measured 0" and
    the report's key measures table was an empty header."""
    from recordings.measure_table import session_rows

    no_bends = AnalysisResult("forward-bend", (Measure("g", "repetitions", 0.0, "1", ""),))
    rows = {r.measure.name: r for r in session_rows(no_bends, key_only=True)}
    assert set(rows) == {f"mean_{k}" for k in catalogue().key_measures("forward-bend")}
    assert rows["mean_trunk_flexion"].text == "Not measured — no bend could be measured"
    # No rise: the per-rise means say so; the five-rise time (a session value) its own reason.
    no_rises = AnalysisResult(
        "five-times-sit-to-stand",
        (Measure("g", "repetitions", 0.0, "1", ""), Measure("g", "five_rise_time", math.nan, "s", "")),
    )
    texts = {r.measure.name: r.text for r in session_rows(no_rises, key_only=True)}
    assert texts == {
        "five_rise_time": "Not measured — fewer than five rises were recorded",
        "mean_flexion_duration": "Not measured — no rise could be measured",
        "mean_extension_duration": "Not measured — no rise could be measured",
    }


def test_time_to_peak_says_it_counts_from_the_response_onset():
    """Walkthrough s11 #3: the value is t[peak] − t[onset] (METRICS.md §3: a property of the
    trunk's second-order response, its latency reported apart), but the text said "from the
    push": 0.18 s read as from the push where the push-to-peak time was 0.24–0.28 s."""
    meaning = catalogue().info("perturbations", "time_to_peak").meaning
    assert "from the start of the trunk's response" in meaning and "from the push" not in meaning
