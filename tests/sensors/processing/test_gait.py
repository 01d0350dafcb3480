"""Gait from the pelvic sensor: simulator ground truth and the mobgap lower-back reference data."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from sensors import Placement
from sensors.processing import SessionSettings
from sensors.processing.analysis import SessionData, analyze
from sensors.processing.gait import gait_analysis
from sensors.simulator import DrillOptions, SimulatedSource, make_drill
from tests.sensors.processing.runs import run_session
from tests.shared_data import HA001, require


@pytest.fixture(scope="module")
def walk():
    drill = make_drill("gait", DrillOptions(duration_s=40, seed=2))
    sink, _ = run_session(SimulatedSource(drill, seed=2), SessionSettings())
    frame, angles = sink.frame, sink.all_angles
    truth = drill.truth
    bout = (frame.time_s > truth.walk_start_s + 1.5) & (frame.time_s < truth.walk_end_s - 1.5)
    k = frame.index(Placement.PELVIS)
    bout &= frame.valid[:, k]
    start, stop = np.flatnonzero(bout)[[0, -1]]
    part = slice(start, stop + 1)  # contiguous stretch (the radio's losses are short)
    q = angles.orientation[part, k]
    ok = np.isfinite(q).all(axis=1)
    q = np.where(ok[:, None], q, np.nan)
    # Bridge the few lost samples for this test by the nearest orientation, as a bout chooser would.
    fill = np.maximum.accumulate(np.where(ok, np.arange(len(q)), 0))
    acc = frame.acc_m_s2[part, k][fill]
    gyr = frame.gyr_rad_s[part, k][fill]
    result = gait_analysis(frame.time_s[part], q[fill], acc, gyr, sink.calibration.mount_q[Placement.PELVIS])
    return truth, result


def test_contacts_sides_and_cadence_match_the_script(walk):
    truth, r = walk
    detected = r.initial_contacts_s
    nearest = np.array([np.argmin(np.abs(truth.initial_contacts_s - t)) for t in detected])
    offsets = detected - truth.initial_contacts_s[nearest]
    assert len(np.unique(nearest)) == len(detected) >= 40
    assert np.all(np.abs(offsets) < 0.05)
    true_sides = np.array(truth.initial_contact_sides)[nearest]
    assert np.mean(np.array(r.sides) == true_sides) >= 0.95
    assert r.cadence_steps_per_min == pytest.approx(truth.cadence_steps_per_min, abs=1.0)
    assert r.right_step_time_s == pytest.approx(truth.right_step_time_s, abs=0.01)
    assert r.left_step_time_s == pytest.approx(truth.left_step_time_s, abs=0.01)
    assert r.step_time_symmetry_index_pct > 0  # the right step is the longer one
    assert r.stride_time_s == pytest.approx(truth.left_step_time_s + truth.right_step_time_s, abs=0.02)
    assert r.stride_regularity > 0.8 and r.step_regularity > 0.6


def test_pelvic_ranges_per_stride_match_the_script(walk):
    truth, r = walk
    assert np.median(r.pelvic_tilt_range_deg) == pytest.approx(truth.pelvic_tilt_range_deg, abs=1.0)
    assert np.median(r.pelvic_obliquity_range_deg) == pytest.approx(truth.pelvic_obliquity_range_deg, abs=1.0)
    assert np.median(r.pelvic_rotation_range_deg) == pytest.approx(truth.pelvic_rotation_range_deg, abs=1.5)
    assert r.harmonic_ratio_v > 1.0 and r.harmonic_ratio_ap > 1.0  # symmetric-ish, even harmonics dominate


@pytest.fixture(scope="module")
def mobgap_rows():
    """stabmon on every INDIP walking bout of HA001 (contacts at round(t·rate) − 1, mobgap's
    convention), pooled per test: Test5 straight walking, Test11 simulated daily activities."""
    require(HA001)
    from benchmarks import gait_mobgap as bench
    from benchmarks import gait_scoring as scoring

    pooled: dict[str, dict[str, list[dict]]] = {}
    for trial in bench.load_participant(HA001):
        for name, rows in bench.evaluate_trial(trial, margin_s=0.5, with_mobgap=False).items():
            pooled.setdefault(name, {}).setdefault(trial.test, []).extend(rows)
    summary = {test: scoring.summarise(rows) for test, rows in pooled["stabmon"].items()}
    summary["floor"] = {test: scoring.summarise(rows) for test, rows in pooled["reference_contacts"].items()}
    summary["per_foot"] = {
        test: scoring.summarise(rows) for test, rows in pooled["reference_per_foot"].items()
    }
    summary["filled"] = {test: scoring.summarise(rows) for test, rows in pooled["reference_filled"].items()}
    summary["targets"] = {
        test: scoring.bouts_meeting_targets(rows, test) for test, rows in pooled["stabmon"].items()
    }
    summary["hip"] = {
        test: scoring.summarise(rows) | {"targets": scoring.bouts_meeting_targets(rows, test)}
        for test, rows in pooled["stabmon_hip"].items()
    }
    return summary


def test_contacts_hold_on_straight_and_daily_life_walking(mobgap_rows):
    """Issue 16 targets, mobgap's matching (mutual nearest neighbour): F1 ≥ 0.90 at ±250 ms and
    ≥ 85 % of reference contacts within 100 ms over all bouts of each test; held at what is
    reached. Measured 2026-11-28 (sessions 3–5): Test5 F1 1.00, 94.4 % within 100 ms; Test11 F1
    0.937, 88.9 % (before session 2: 0.89, 83 %)."""
    assert set(mobgap_rows) == {"Test5", "Test11", "floor", "per_foot", "filled", "targets", "hip"}
    for test, f1, within in (("Test5", 1.0, 0.94), ("Test11", 0.93, 0.88)):
        r = mobgap_rows[test]
        assert r["f1_250ms"] >= f1 >= 0.90, test
        assert r["within_100ms"] >= within >= 0.85, test
        assert abs(r["median_lag_s"]) <= 0.03, test
        assert abs(r["step_count_error"]) <= 0.05 * r["reference_contacts"], test
    assert mobgap_rows["Test5"]["side_agreement"]["stabmon"] >= 0.95


def test_per_bout_targets_on_every_walking_bout(mobgap_rows):
    """Issue 16's targets hold per bout: F1 ≥ 0.90, ≥ 85 % within 100 ms, cadence error ≤ 2
    (Test5) / ≤ 4 (Test11). Measured 2026-11-29 (session 10, benchmarks/gait_targets.py): both
    straight bouts meet all three; of the six daily bouts 5 meet F1, 5 the timing and 2 the
    cadence, 2 all three (bouts 1, 2, 3 and 5 miss the cadence: +4.91, −5.43, +6.22, −4.40;
    mobgap's best detector, IcdShinImproved, meets all three on 2 of 6 as well). Held at what is
    reached, not at the target."""
    assert mobgap_rows["targets"]["Test5"] == {
        "bouts": 2,
        "f1_250ms": 2,
        "within_100ms": 2,
        "cadence": 2,
        "all": 2,
    }
    daily = mobgap_rows["targets"]["Test11"]
    assert daily["bouts"] == 6
    assert daily["f1_250ms"] >= 5 and daily["within_100ms"] >= 5
    assert daily["cadence"] >= 2 and daily["all"] >= 2


def test_contacts_from_the_hips_acceleration_on_ha001(mobgap_rows):
    """The benchmark row `stabmon_hip` (rule 5b, session 10: contacts in the hip joints' vertical
    acceleration, the pelvis' rotation about them taken out at the step cycle's scale; not adopted:
    worse on HA002 and MS001). On HA001 it fixes the forward bend of Test11 bout 5 and brings the
    daily cadence within 4 steps/min on 5 of 6 bouts. Measured 2026-11-29: Test11 F1 0.928, 88.9 %
    within 100 ms, cadence bias +1.14 / MAE 1.96, 3 of 6 bouts meeting all three targets; Test5 as
    stabmon's (F1 1.0, 94.4 %, MAE 0.15)."""
    daily, straight = mobgap_rows["hip"]["Test11"], mobgap_rows["hip"]["Test5"]
    assert daily["f1_250ms"] >= 0.92 and daily["within_100ms"] >= 0.88
    assert daily["cadence_mae_steps_per_min"] <= 2.0
    assert daily["targets"]["all"] >= 3 and daily["targets"]["cadence"] >= 5
    assert straight["f1_250ms"] == 1.0 and straight["within_100ms"] >= 0.94
    assert straight["targets"]["all"] == 2


def test_side_labels_hold_in_daily_life_turns(mobgap_rows):
    """Sides against INDIP's, on stabmon's contacts (paired at ±250 ms) and on the reference's own
    contacts. The sign of the band-passed yaw rate alone (stabmon before session 6, "sign_rule")
    gave 0.831 and 0.857 on the daily-activity bouts: turning adds a yaw rate of one sign. Read
    through the alternation model (side.py), measured 2026-11-28 (session 6): 0.915 and 0.968;
    straight walks 1.0 both ways. One of the six daily bouts has sides the sign rule and the model
    agree on throughout (cadence per foot there)."""
    daily, straight = mobgap_rows["Test11"], mobgap_rows["Test5"]
    assert daily["side_agreement"]["sign_rule"] == pytest.approx(0.831, abs=0.005)  # the rule before
    assert daily["side_agreement"]["stabmon"] >= 0.91
    assert daily["side_agreement_at_reference_contacts"]["stabmon"] >= 0.96
    assert straight["side_agreement_at_reference_contacts"]["stabmon"] == 1.0
    assert straight["bouts_with_trusted_sides"] == straight["bouts"] == 2
    assert daily["bouts_with_trusted_sides"] == 1


def test_cadence_holds_on_straight_and_daily_life_walking(mobgap_rows):
    """Cadence against the INDIP bout cadence, every bout: error ≤ 2 steps/min on straight walks
    and ≤ 4 on daily-activity bouts, as bias and as mean absolute error. INDIP's bout cadence is
    the plain mean of its per-stride cadences, slow first and last strides included; the
    reference's own contacts through stabmon's rule reproduce it (measured MAE 0.0 and 0.1;
    session 3's rule, which also cleaned the edge strides, was 4.5 off on Test11). Measured
    2026-11-28 (sessions 4–5): Test5 bias −0.17, MAE 0.17; Test11 bias +0.40, MAE 3.76 (session
    3: 4.75)."""
    for test, limit, bias in (("Test5", 2.0, 0.5), ("Test11", 4.0, 1.0)):
        assert abs(mobgap_rows[test]["cadence_bias_steps_per_min"]) <= bias, test
        assert mobgap_rows[test]["cadence_mae_steps_per_min"] <= limit, test
        assert mobgap_rows["floor"][test]["cadence_mae_steps_per_min"] <= 0.5, test


def test_a_pause_inside_a_bout_is_not_counted_as_missed_steps(mobgap_rows):
    """HA001's daily bouts hold real pauses of 1.3–1.5 s (1.8–2.1 typical steps) with every contact
    timed, and INDIP keeps them as slow strides. Missed steps are counted only where timing and
    sides both say so (a same-side pair across the gap): on the reference's own contacts and
    sides nothing is added (MAE 0.0 and 0.1, as without; session 7). Counting by timing alone
    (any interval ≥ 1.5 typical steps) added 2–5 steps there and moved Test11 by +1.6 to +5.0."""
    for test in ("Test5", "Test11"):
        assert mobgap_rows["filled"][test]["cadence_mae_steps_per_min"] <= 0.5, test
        assert mobgap_rows["filled"][test]["cadence_mae_steps_per_min"] == pytest.approx(
            mobgap_rows["floor"][test]["cadence_mae_steps_per_min"]
        )


def test_indips_per_foot_strides_give_its_cadence_from_its_own_contacts(mobgap_rows):
    """INDIP's own contacts and sides through its per-foot stride rule (each contact to the same
    foot's next) give its bout cadence: measured MAE 0.00 (Test5) and 0.13 steps/min (Test11, one
    bout where INDIP left two strides out)."""
    assert mobgap_rows["per_foot"]["Test5"]["cadence_mae_steps_per_min"] <= 0.01
    assert mobgap_rows["per_foot"]["Test11"]["cadence_mae_steps_per_min"] <= 0.2


def test_stride_length_and_speed_against_indip(mobgap_rows):
    """Inverted pendulum (Zijlstra & Hof 2003) with Mobilise-D's scale factor 4.587/4 (mobgap
    SlZijlstra), sensor height 0.964 m from infoForAlgo.mat, per-stride values averaged as INDIP
    does, turning strides shortened by cos(θ/2). Measured 2026-11-28 (session 5): straight walking
    −0.04 m stride length, −0.05 m/s speed; daily activities +0.10 m and +0.07 m/s (session 4,
    Zijlstra & Hof's factor 1.25: +0.06, +0.04; +0.19 m, +0.14 m/s). A step that holds a pause is
    measured over its last typical step, the pendulum's arc (session 8): daily stride length
    +0.104 → +0.082 m, speed +0.069 → +0.050 m/s; straight walks unchanged."""
    straight, daily = mobgap_rows["Test5"], mobgap_rows["Test11"]
    assert abs(straight["stride_length_bias_m"]) <= 0.07
    assert abs(straight["speed_bias_m_s"]) <= 0.07
    assert daily["stride_length_mae_m"] <= 0.09
    assert daily["speed_mae_m_s"] <= 0.075


def test_analysis_reports_stride_length_and_speed_only_with_a_sensor_height():
    """With the simulated sensor's own height (1.02 m), stride length and speed come within 5 % of
    the script's: measured −4.4 % and −4.2 % (session 11), Mobilise-D's real-life scale factor
    4.587/4 on a steady 1.2 m/s walk, as on HA001's straight walks (−3.5 %, −4.6 %). The test gave
    0.95 m before and read −7.8 % and −7.6 %: the pendulum's length was 7 % short."""
    drill = make_drill("gait", DrillOptions(duration_s=40, seed=2))
    truth = drill.truth
    sink, _ = run_session(SimulatedSource(drill, seed=2), SessionSettings())
    data = SessionData(sink.frame, sink.all_angles, sink.calibration.mount_q, tuple(sink.events))
    without = analyze(data, "gait")
    with pytest.raises(KeyError, match="stride_length"):
        without.value("stride_length")
    measured = analyze(replace(data, sensor_height_m=truth.sensor_height_m), "gait")
    stride, speed = measured.value("stride_length"), measured.value("gait_speed")
    assert stride == pytest.approx(truth.stride_length_m, rel=0.05)
    assert speed == pytest.approx(truth.speed_m_s, rel=0.05)
    # Speed is stride length over stride time (both robust means, so only nearly).
    assert speed == pytest.approx(stride / measured.value("stride_time"), rel=0.1)
    assert measured.value("cadence") == without.value("cadence")


def _mobgap_example_folders() -> dict[tuple[str, str], Path]:
    """mobgap's bundled lab participants (Apache-2.0), found by mobgap's own loader; skip without
    mobgap (a bench extra, not in CI) or when its data cannot be had (pooch cache or
    MOBGAP_DATA_DIR, else a download)."""
    pytest.importorskip("mobgap")
    from mobgap.data import get_all_lab_example_data_paths

    try:
        return get_all_lab_example_data_paths()
    except Exception as error:  # pooch's download without a network: no data to test on
        pytest.skip(f"mobgap's example data not available ({type(error).__name__})")


def test_contacts_and_cadence_hold_on_mobgaps_other_participants():
    """HA002 and MS001: unseen when session 2 built the detector; session 3's two rules were
    chosen with them in view (RESULTS.md). Their daily-activity bouts list some contacts without
    a time (turns); the scoring drops those (mobgap's loaders do too). Session 2's detector found
    26 contacts too many on MS001 (F1 0.81) with cadence +19.7 steps/min, where mobgap's
    detectors reach F1 0.80–0.86 and −0.2 to +9.3. Measured 2026-11-28 (session 4): MS001 F1
    0.85, step count −1 against all contacts, cadence +1.8; HA002 F1 0.78 (mobgap 0.65–0.75).
    Daily-activity stride length with the turning correction and Mobilise-D's scale factor
    (session 5): MS001 MAE 0.11 m, HA002 0.13 m (session 4 with Zijlstra & Hof's 1.25: 0.17,
    0.21; mobgap's SlZijlstra on its own detectors' contacts 0.18–0.20 and 0.16–0.19). Of the
    detections the scoring calls extra, those between an untimed contact's timed neighbours are
    most of the untimed steps (HA002 6 of 8, MS001 5 of 5). INDIP's per-foot strides from its own
    contacts and sides give HA002's cadence within +3.4 steps/min, where contacts i → i+2 give
    −13.4 (session 5). Session 6: sides through the alternation model agree with INDIP's on
    MS001 0.975 and HA002 0.833 of stabmon's contacts (sign rule 0.899, 0.694); cadence per foot
    where the sign rule and the model agree on every contact brings MS001's daily MAE from 5.31
    to 3.97 steps/min (bias +1.78 → +0.94), HA002 unchanged (no such bout). Session 7: a missed
    contact counted as the step it hides: MS001 daily 3.97 → 2.95 (two bouts, each closer),
    HA002 −13.70 → −11.51."""
    folders = _mobgap_example_folders()
    from benchmarks import gait_mobgap as bench
    from benchmarks import gait_scoring as scoring

    rows: dict[tuple[str, str], list[dict]] = {}
    per_foot: list[dict] = []
    filled: dict[str, list[dict]] = {}
    for key in (("HA", "002"), ("MS", "001")):
        for trial in bench.load_participant(folders[key]):
            evaluated = bench.evaluate_trial(trial, margin_s=0.5, with_mobgap=False)
            rows.setdefault((key[0] + key[1], trial.test), []).extend(evaluated.get("stabmon", []))
            if trial.test == "Test11":
                filled.setdefault(key[0] + key[1], []).extend(evaluated["reference_filled"])
            if key == ("HA", "002"):  # HA002 Test5: no bouts
                per_foot.extend(evaluated.get("reference_per_foot", []))
    ms_daily = scoring.summarise(rows[("MS001", "Test11")])
    assert ms_daily["cadence_mae_steps_per_min"] <= 3.0  # measured 2.95 (session 6: 3.97; 5: 5.31)
    assert ms_daily["side_agreement"]["stabmon"] >= 0.97  # measured 0.975 (sign rule 0.899)
    assert ms_daily["f1_250ms"] >= 0.84
    assert ms_daily["f1_250ms_with_untimed"] >= 0.87  # measured 0.88
    assert ms_daily["within_100ms"] >= 0.75  # measured 0.769
    assert abs(ms_daily["step_count_error_with_untimed"]) <= 0.05 * ms_daily["reference_contacts"]
    assert abs(ms_daily["cadence_bias_steps_per_min"]) <= 4.0
    ms_straight = scoring.summarise(rows[("MS001", "Test5")])
    assert ms_straight["f1_250ms"] == 1.0 and abs(ms_straight["cadence_bias_steps_per_min"]) <= 2.0
    ha_daily = scoring.summarise(rows[("HA002", "Test11")])
    assert ha_daily["side_agreement"]["stabmon"] >= 0.83  # measured 0.833 (sign rule 0.694)
    assert ha_daily["f1_250ms"] >= 0.77  # measured 0.783
    assert ha_daily["f1_250ms_with_untimed"] >= 0.83  # measured 0.84
    assert ha_daily["within_100ms"] >= 0.59  # measured 0.609
    assert abs(scoring.summarise(per_foot)["cadence_bias_steps_per_min"]) <= 4.0  # measured +3.43
    # Missed steps counted (a same-side pair across a gap, session 7): stabmon's HA002 cadence
    # −13.70 → −11.51; the reference's timed contacts with INDIP's sides, where every untimed
    # contact is a missed one, −13.36 → −4.33 (HA002) and −9.80 → −3.21 (MS001).
    assert ha_daily["cadence_bias_steps_per_min"] >= -12.0
    assert scoring.summarise(filled["HA002"])["cadence_bias_steps_per_min"] >= -4.5
    assert scoring.summarise(filled["MS001"])["cadence_mae_steps_per_min"] <= 5.0  # measured 4.91 (10.57)
    # A step holding a pause measured over its last typical step (session 8): stride length MAE
    # MS001 0.110 → 0.096 m, HA002 0.134 → 0.102 m; speed 0.099 → 0.096, 0.045 → 0.037 m/s.
    assert ms_daily["stride_length_mae_m"] <= 0.10 and ha_daily["stride_length_mae_m"] <= 0.11
    assert ms_daily["speed_mae_m_s"] <= 0.099 and ha_daily["speed_mae_m_s"] <= 0.04


def _participant_folder(folder: Path) -> Path:
    """A Mobilise-D participant folder (data.mat, infoForAlgo.mat) of a 20 s pendulum walk at
    100 Hz, steps every 0.55 s from 2 s, with two INDIP walking bouts: one with its contacts, one
    listing contacts without times only."""
    rate, step_s, leg = 100.0, 0.55, 0.95
    t = np.arange(0.0, 20.0, 1 / rate)
    phase = ((t - 2.0) % step_s) / step_s
    height = np.sqrt(leg**2 - ((phase - 0.5) * 0.65) ** 2)
    vertical = np.gradient(np.gradient(height, t), t) * ((t > 2.0) & (t < 18.0))
    acc_g = np.column_stack([1.0 + vertical / 9.81, np.zeros_like(t), np.zeros_like(t)])
    contacts = np.arange(2.0 + step_s, 17.5, step_s) + 0.01  # MATLAB's one-based sample times
    sides = np.array(["Left", "Right"] * len(contacts))[: len(contacts)].astype(object)
    walk = {"Start": contacts[0], "End": contacts[-1], "InitialContact_Event": contacts}
    walk |= {"InitialContact_LeftRight": sides, "Cadence": 120 / (2 * step_s), "Turning_Flag": 0}
    walk |= {"AverageStrideLength": 1.3, "WalkingSpeed": 1.2}
    untimed = walk | {"InitialContact_Event": np.full(3, np.nan), "InitialContact_LeftRight": sides[:3]}
    trial = {
        "SU": {"LowerBack": {"Acc": acc_g, "Gyr": np.zeros_like(acc_g), "Fs": {"Acc": rate}}},
        "Standards": {"INDIP": {"ContinuousWalkingPeriod": np.array([walk, untimed], dtype=object)}},
    }
    scipy.io.savemat(folder / "data.mat", {"data": {"TimeMeasure1": {"Test5": {"Trial1": trial}}}})
    scipy.io.savemat(folder / "infoForAlgo.mat", {"infoForAlgo": {"TimeMeasure1": {"SensorHeight": 95.0}}})
    return folder


def test_benchmark_leaves_out_a_bout_without_timed_contacts_and_says_so(tmp_path, capsys):
    """An unseen participant may list a walking bout whose contacts all lack a time: nothing to
    score it against. The benchmark names it on stderr and scores the others."""
    from benchmarks import gait_mobgap as bench

    assert bench.main([str(_participant_folder(tmp_path)), "--stabmon-only"]) == 0
    out = capsys.readouterr()
    assert "Test5/Trial1: walking bout 1 has 0 timed contacts; left out" in out.err
    result = json.loads(out.out)["per_trial"][f"{tmp_path.parent.name}/{tmp_path.name}/Test5/Trial1"]
    assert result["stabmon"]["bouts"] == 1
    assert result["stabmon"]["f1_250ms"] == 1.0
    assert abs(result["stabmon"]["cadence_bias_steps_per_min"]) <= 1.0


def test_benchmark_mount_is_mobgaps_mobilised_sensor_frame():
    """The benchmark's sensor→segment mount for the Mobilise-D lower-back sensor (x superior,
    y right, z anterior) is mobgap's own `INITIAL_MOBILISED_ORIENTATION` (sensor frame → its
    global frame x forward, y left, z up, which is stabmon's segment frame)."""
    consts = pytest.importorskip("mobgap.consts")
    from benchmarks import gait_mobgap as bench
    from sensors import quaternion as quat

    expected = consts.INITIAL_MOBILISED_ORIENTATION.as_matrix()
    np.testing.assert_allclose(quat.to_matrix(bench.MOBILISED_MOUNT), expected, atol=1e-12)


def test_benchmark_mount_puts_the_anterior_axis_forward_on_ha001():
    """On HA001's own data, with the benchmark's mount: walking upright, the segment's vertical
    axis stays near the earth's (mean sagittal inclination within 30° of upright over Test11), and
    in Test11 bout 5's forward bend (123–124.5 s, session 8) the anterior axis tips more than 60°
    below the horizontal. With the identity mount (the benchmark before session 9) the "anterior"
    axis is the sensor's x, which points up: ~75° above the horizontal while walking."""
    require(HA001)
    from benchmarks import gait_mobgap as bench
    from sensors import quaternion as quat
    from sensors.processing.angles import inclination_angles, segment_orientation
    from sensors.processing.orientation import OrientationEstimator, OrientationSettings

    trial = next(t for t in bench.load_participant(HA001) if t.test == "Test11")
    q = OrientationEstimator(OrientationSettings(rate_hz=trial.rate_hz)).step(
        trial.gyr_rad_s, trial.acc_m_s2, np.ones(len(trial.acc_m_s2), bool)
    )
    t = np.arange(len(q)) / trial.rate_hz
    segment = segment_orientation(q, bench.MOBILISED_MOUNT)
    elevation = np.degrees(np.arcsin(quat.rotate(segment, np.array([1.0, 0.0, 0.0]))[:, 2]))
    bend = (t >= 123.0) & (t <= 124.5)
    assert elevation[bend].min() < -60.0  # measured −78°
    assert abs(np.degrees(np.mean(inclination_angles(segment)[:, 0]))) < 30.0
    as_before = segment_orientation(q, np.array([1.0, 0.0, 0.0, 0.0]))
    assert np.median(quat.rotate(as_before, np.array([1.0, 0.0, 0.0]))[:, 2]) > 0.8  # pointing up
