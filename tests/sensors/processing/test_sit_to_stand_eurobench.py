"""The Eurobench chair benchmark's loader and scoring on a synthetic trial in that layout.

The real trials (eurobench/pi_bench, no licence stated) are not in CI; this writes the simulator's
sit-to-stand series into the repository's CSV layout (trunk sensor as IMU 5, pelvis as IMU 4,
seat force from the simulator's seated fraction) and runs the benchmark's own code on it.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from sensors import Placement
from sensors.processing import SessionSettings
from sensors.simulator import DrillOptions, SimulatedSource, make_drill
from tests.sensors.processing.runs import run_session

ROOT = Path(__file__).resolve().parents[3]
HEADER = (
    "time,Fx_seat,Fy_seat,Fz_seat,Mx_seat,My_seat,Mz_seat,CoPx_seat,CoPy_seat,"
    "Fx_feet,Fy_feet,Fz_feet,Mx_feet,My_feet,Mz_feet,CoPx_feet,CoPy_feet,"
    + ",".join(f"{q}{a}{k}" for k in range(1, 7) for q in "AG" for a in "xyz")
)


@pytest.fixture(scope="module")
def chair(tmp_path_factory):
    """DIR with input/subject_07_5sts_chair_raw_01.csv and output/subject_07_5sts/, and the drill."""
    drill = make_drill("sit-to-stand", DrillOptions(duration_s=45, seed=6))
    sink, _ = run_session(SimulatedSource(drill, seed=6), SessionSettings())
    frame = sink.frame
    start = np.searchsorted(frame.time_s, drill.truth.sit_down_s + 3.0)  # seated and still
    part = slice(start, len(frame.time_s))
    ok = frame.valid[part].all(axis=1)
    fill = np.maximum.accumulate(np.where(ok, np.arange(len(ok)), 0))  # bridge the radio's few losses
    t = frame.time_s[part][fill]
    seated = drill._seated_fraction(t)
    columns = np.zeros((len(t), 17 + 36))
    columns[:, 0] = np.arange(len(t)) / frame.rate_hz
    columns[:, 3] = 1.0 + 2.5 * seated  # raw seat force units: 1 unloaded, 3.5 sitting
    still = np.array([0.0, 0.0, 9.81, 0.0, 0.0, 0.0])
    columns[:, 17:] = np.tile(still, 6)
    for k, placement in ((4, Placement.PELVIS), (5, Placement.LUMBAR)):
        i = frame.index(placement)
        base = 17 + 6 * (k - 1)
        columns[:, base : base + 3] = frame.acc_m_s2[part, i][fill]
        columns[:, base + 3 : base + 6] = np.degrees(frame.gyr_rad_s[part, i][fill])
    root = tmp_path_factory.mktemp("chair")
    (root / "input").mkdir()
    (root / "output" / "subject_07_5sts").mkdir(parents=True)
    path = root / "input" / "subject_07_5sts_chair_raw_01.csv"
    np.savetxt(path, columns, delimiter=",", header=HEADER, comments="")
    return root, drill, float(frame.time_s[part][0])


def test_loader_reads_the_layout_and_the_force_plate_gives_the_seat_offs(chair):
    root, drill, t0 = chair
    from benchmarks import sit_to_stand_eurobench as bench

    trial = bench.load_trial(root / "input" / "subject_07_5sts_chair_raw_01.csv")
    assert trial.subject == "subject_07" and set(trial.imus) == set(range(1, 7))
    assert trial.rate_hz == pytest.approx(100.0, rel=1e-6)
    assert np.degrees(trial.imus[5][1]).max() > 30  # gyroscope read as deg/s, returned in rad/s
    # Seated fraction 0.2 on a minimum-jerk rise from seat-off: 10u³ − 15u⁴ + 6u⁵ = 0.8 at u = 0.6863.
    expected = [r.seat_off_s + 0.6863 * r.extension_duration_s - t0 for r in drill.truth.rises]
    found = bench.seat_off_times_s(trial.time_s, trial.seat_force)
    assert found == pytest.approx(expected, abs=0.015)


def test_benchmark_runs_on_the_layout_and_finds_every_repetition(chair, capsys):
    root, drill, _ = chair
    (root / "output" / "subject_07_5sts" / "5STS_duration.yaml").write_text("type: 'scalar'\nvalue: 30.0\n")
    from benchmarks import sit_to_stand_eurobench as bench

    assert bench.main([str(root)]) == 0
    printed = json.loads(capsys.readouterr().out)
    result = printed["subject_07"]
    rises = len(drill.truth.rises)
    assert rises == 5
    assert result["rises_found"] == rises and result["sit_downs_found"] >= rises - 1
    assert result["reference_total_s"] == 30.0
    assert result["total_error_s"] == pytest.approx(result["total_s"] - 30.0, abs=1e-3)
    assert all(e is not None for e in result["seat_off_error_s"])
    # The simulator puts seat-off at peak trunk flexion and the force at 0.2 later still;
    # stabmon's seat-off (peak flexion velocity) comes before both: only the sign is known here.
    assert all(e < 0 for e in result["seat_off_error_s"])
    # The made-up reference total (30 s) is far from the drill's: the target is not met, and the
    # pooled verdict says so.
    assert abs(result["total_error_s"]) > bench.TOTAL_TARGET_S
    assert result["targets_met"] is False and printed["pooled"]["targets_met"] is False


@pytest.mark.parametrize(
    ("total_error_s", "seat_off_errors_s", "met"),
    [
        (0.4, [0.1, -0.14], True),
        (-0.5, [0.15], True),
        (0.6, [0.0], False),  # total time off by more than 0.5 s
        (None, [0.05], True),  # no reference total: held only to the seat-offs
        (0.1, [0.05, None], False),  # a seat-off not found
        (0.1, [-0.16], False),  # a seat-off 160 ms early
    ],
)
def test_targets_are_total_time_within_half_a_second_and_every_seat_off_within_150_ms(
    total_error_s, seat_off_errors_s, met
):
    from benchmarks import sit_to_stand_eurobench as bench

    assert bench._targets_met(total_error_s, seat_off_errors_s) is met


def test_bad_files_are_refused_with_the_reason(tmp_path):
    from benchmarks import sit_to_stand_eurobench as bench

    bad = tmp_path / "subject_01_5sts_chair_raw_01.csv"
    bad.write_text("time,Fz_seat\n0,1\n0.01,1\n")
    with pytest.raises(bench.EurobenchFormatError, match="Ax5"):
        bench.load_trial(bad)
    bad.write_text(HEADER + "\n" + ",".join(["0"] * 53) + "\n" + ",".join(["nan"] * 53) + "\n")
    with pytest.raises(bench.EurobenchFormatError, match="line 3"):
        bench.load_trial(bad)
    unnamed = tmp_path / "trial.csv"
    unnamed.write_text(HEADER + "\n")
    with pytest.raises(bench.EurobenchFormatError, match="subject_NN_"):
        bench.load_trial(unnamed)
