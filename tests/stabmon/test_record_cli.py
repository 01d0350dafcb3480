"""`stabmon record --simulate` end to end, through bleak and the virtual radio: a readable file
whose data match the simulator."""

import numpy as np
import pytest

from recordings import read_recording
from recordings.analysis import analyze_file
from sensors import EventKind, Placement
from sensors.processing.angles import inclination_angles
from sensors.simulator import DrillOptions, make_drill
from sensors.simulator.body import segment_quaternions
from stabmon.cli import main
from tests.cli_args import RECORD_NO_RADIO, RECORD_SIMULATED


def test_record_simulated_session_end_to_end(tmp_path, capsys):
    code = main(
        [
            *RECORD_SIMULATED,
            "--drill",
            "forward-bend",
            "--seconds",
            "20",
            "--seed",
            "4",
            "--subject",
            "T01",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    files = list(tmp_path.glob("sub-T01_forward-bend_*.h5"))
    assert len(files) == 1
    assert "Calibration: neutral stance, done" in out and str(files[0]) in out
    assert "Measures (forward-bend):" in out and "Lumbar contribution at end range, mean of bends" in out
    rec = read_recording(files[0])
    for placement in (Placement.LUMBAR, Placement.PELVIS):
        samples = rec.samples[placement]
        lost = np.sum(np.diff(samples.sequence) - 1)
        # 20 s at 100 Hz, whole packets, and what a fast virtual link had delivered by the stop
        # (the runner reads its queue to the end: sensors.processing.session_end)
        assert 1992 <= len(samples) + lost <= 2050
        assert rec.sensors[placement].family.value == "stabmon"  # virtual sensors on the profile
    kinds = [e.kind for e in rec.events]
    assert EventKind.CALIBRATION in kinds and EventKind.TASK_START in kinds
    assert rec.calibration_time_s == pytest.approx(2.0, abs=0.2)
    # The recorded trunk angle follows the simulated body.
    drill = make_drill("forward-bend", DrillOptions(duration_s=20, seed=4))
    t = rec.processing.time_s
    truth = np.degrees(
        inclination_angles(segment_quaternions(drill.pose(t), drill.heading_rad)[Placement.LUMBAR])
    )
    measured = np.degrees(rec.processing.inclination_rad[:, 0])
    ok = np.isfinite(measured[:, 0])
    assert ok.mean() > 0.85
    assert np.sqrt(np.mean((measured[ok, 0] - truth[ok, 0]) ** 2)) < 1.5
    assert np.ptp(measured[ok, 0]) > 90  # the bends are there


def test_record_without_the_radio_keeps_every_sample_of_the_simulated_body(tmp_path, capsys):
    argv = [*RECORD_NO_RADIO, "--drill", "forward-bend", "--seconds", "12", "--seed", "4"]
    assert main([*argv, "--subject", "T02", "--out", str(tmp_path)]) == 0
    assert "Simulating 2 sensors without a radio (seed 4)" in capsys.readouterr().out
    rec = read_recording(next(tmp_path.glob("sub-T02_forward-bend_*.h5")))
    assert rec.protocol["source"] == "simulated sensors (no radio)"
    for placement in (Placement.LUMBAR, Placement.PELVIS):
        sequence = rec.samples[placement].sequence
        # 12 s at 100 Hz, to within a 0.1 s delivery block; nothing lost
        assert len(sequence) == pytest.approx(1200, abs=10) and np.all(np.diff(sequence) == 1)
    drill = make_drill("forward-bend", DrillOptions(duration_s=12, seed=4))
    t = rec.processing.time_s
    truth = np.degrees(
        inclination_angles(segment_quaternions(drill.pose(t), drill.heading_rad)[Placement.LUMBAR])
    )
    measured = np.degrees(rec.processing.inclination_rad[:, 0])
    ok = np.isfinite(measured[:, 0])
    assert ok.mean() > 0.8  # from the calibration at 2 s on
    assert np.sqrt(np.mean((measured[ok, 0] - truth[ok, 0]) ** 2)) < 1.5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--drill", "cartwheel"], "unknown drill 'cartwheel'"),
        (["--subject", "Jane Doe"], "never a name"),
        (
            ["--drill", "forward-bend", "--placements", "lumbar"],
            "a forward-bend session needs a pelvis sensor",
        ),
    ],
)
def test_bad_arguments_give_clear_errors_and_no_file(tmp_path, capsys, args, message):
    try:
        code = main(["record", "--simulate", "--fast", "--seconds", "5", "--out", str(tmp_path), *args])
    except SystemExit as refused:  # checked by the argument's type, before anything runs
        code = refused.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.glob("*.h5"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give either --sensor PLACEMENT=ID"),
        (["--sensor", "lumbar"], "--sensor takes PLACEMENT=ID"),
        (["--sensor", "lumbar=A", "--sensor", "lumbar=B"], "gives lumbar twice"),
        (  # one sensor for two placements: refused before any scan (it would read 0 between them)
            ["--sensor", "lumbar=D4:22:CD:00:10:01", "--sensor", "pelvis=d4-22-cd-00-10-01"],
            "lumbar and pelvis name the same sensor d4-22-cd-00-10-01",
        ),
        (["--drill", "single-leg-left", "--sensor", "lumbar=A"], "a single-leg-left session needs a pelvis"),
        (["--sensor", "hip=A", "--sensor", "pelvis=B"], "unknown placement 'hip'"),
        (["--simulate", "--sensor", "lumbar=A"], "give either"),
        (["--no-radio", "--sensor", "lumbar=A", "--sensor", "pelvis=B"], "--no-radio goes with --simulate"),
    ],
)
def test_real_sensor_arguments_are_checked_before_any_radio(tmp_path, capsys, args, message):
    assert main(["record", "--out", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err


def test_drills_lists_every_drill(capsys):
    assert main(["drills"]) == 0
    out = capsys.readouterr().out
    for name in ("quiet-stance", "perturbations", "gait", "biering-sorensen", "side-plank-left"):
        assert name in out


@pytest.mark.xdist_group("lsl")
def test_record_publishes_on_lsl_and_names_a_missing_marker_stream(tmp_path, capsys):
    argv = [*RECORD_SIMULATED, "--seconds", "6", "--subject", "L1", "--out", str(tmp_path)]
    assert main([*argv, "--lsl"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "Publishing on LSL: stabmon-lumbar, stabmon-pelvis (IMU), stabmon-angles, stabmon-markers" in out
    assert main([*argv, "--lsl-markers", "no-such-platform"]) == 2
    assert "no LSL stream named 'no-such-platform'" in capsys.readouterr().err


def test_a_sit_to_stand_recorded_without_a_length_holds_five_rises(tmp_path, capsys):
    """With no --seconds the session lasts one repetition of the drill's protocol (3 + 40 s): a
    sit-to-stand recording then holds the five rises its five-times time needs (the old fixed
    30 s held three)."""
    code = main(
        [
            *RECORD_SIMULATED,
            "--drill",
            "sit-to-stand",
            "--seed",
            "1",
            "--subject",
            "T02",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Recording sit-to-stand for 43 s" in out
    assert "Rises measured                                     5" in out
    assert "Five-times sit-to-stand time" in out and "fewer than five rises" not in out


def test_a_quiet_stance_with_the_lumbar_sensor_alone_is_recorded_and_measured(tmp_path, capsys):
    """Every stance measure reads the lumbar sensor only, so a stance needs no pelvis sensor."""
    argv = [*RECORD_NO_RADIO, "--drill", "quiet-stance", "--placements", "lumbar", "--seconds", "15"]
    assert main([*argv, "--seed", "3", "--subject", "T03", "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("sub-T03_quiet-stance_*.h5")
    assert read_recording(path).placements == (Placement.LUMBAR,)
    _, result = analyze_file(path)
    assert 0.2 < result.value("angle_rms_ap") < 1.0  # the simulated trunk sways 0.4° RMS front–back
    assert result.value("acc_rms_ap") > 0 and not result.notes
