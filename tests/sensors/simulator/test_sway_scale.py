"""`--sway-scale`: a more or less unsteady simulated patient in the same condition (unlike
`--dual-task`, which changes the condition too)."""

from __future__ import annotations

import json

import pytest

from recordings import read_recording
from recordings.analysis import analyze_recording
from sensors.errors import UnknownDrillError
from sensors.simulator import DrillOptions, make_drill
from stabmon.cli import main
from tests.cli_args import RECORD_NO_RADIO


def test_the_scale_multiplies_the_scripted_sway_and_leaves_the_condition():
    normal = make_drill("quiet-stance", DrillOptions(duration_s=30, seed=4))
    unsteady = make_drill("quiet-stance", DrillOptions(duration_s=30, seed=4, sway_scale=2.5))
    assert unsteady.truth.trunk_ap_rms_deg == pytest.approx(2.5 * normal.truth.trunk_ap_rms_deg)
    assert unsteady.truth.trunk_ml_rms_deg == pytest.approx(2.5 * normal.truth.trunk_ml_rms_deg)
    assert unsteady.truth.dual_task_factor == 1.0  # still the single-task condition
    both = DrillOptions(sway_scale=2.0, dual_task_factor=1.5)
    assert both.sway_factor == pytest.approx(3.0)
    with pytest.raises(UnknownDrillError, match="sway_scale must be a positive number"):
        DrillOptions(sway_scale=0.0)


def test_record_sway_scale_keeps_the_single_task_condition(tmp_path, capsys):
    paths = {}
    for scale in ("1", "2"):
        out = tmp_path / scale
        argv = [*RECORD_NO_RADIO, "--drill", "quiet-stance", "--seconds", "16", "--seed", "3"]
        assert main([*argv, "--sway-scale", scale, "--subject", "P-31", "--out", str(out)]) == 0
        (paths[scale],) = out.glob("*.h5")
    normal, unsteady = read_recording(paths["1"]), read_recording(paths["2"])
    assert "dual" not in paths["2"].name
    assert unsteady.condition == normal.condition and unsteady.condition.task == "single"
    assert json.loads(str(unsteady.attributes["protocol_json"]))["sway_scale"] == 2.0
    assert "sway_scale" not in normal.protocol  # the default patient is stored as before
    # The same simulated patient (seed) swaying twice as much: the measured sway doubles.
    before, after = analyze_recording(normal), analyze_recording(unsteady)
    for key in ("acc_rms_ap", "acc_rms_ml", "angle_rms_ap"):
        assert after.value(key) == pytest.approx(2.0 * before.value(key), rel=0.1), key
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["record", "--help"])
    assert "--sway-scale FACTOR" in capsys.readouterr().out


def test_sway_scale_needs_the_simulator(capsys):
    assert main(["record", "--sensor", "lumbar=AA:BB:CC:DD:EE:FF", "--sway-scale", "2"]) == 2
    assert "--sway-scale goes with --simulate" in capsys.readouterr().err
