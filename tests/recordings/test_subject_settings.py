"""The pelvic sensor's height as a subject setting: stored beside the subject's recordings, set
with `stabmon subject --sensor-height`, used by analyze for stride length and gait speed."""

import asyncio
import json
import logging
import shutil

import numpy as np
import pytest
import scipy.io

from engine.factory import record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings.analysis import analyze_file
from recordings.subjects import Subject, SubjectError, load_subject, save_subject, subject_beside
from sensors.processing import SessionSettings
from sensors.processing.gait import GaitSettings, gait_analysis
from sensors.processing.orientation import OrientationEstimator, OrientationSettings
from stabmon.cli import main
from tests.shared_data import HA001, require


def test_the_sensor_height_is_kept_with_the_subject_and_checked(tmp_path, capsys):
    assert main(["subject", "P01", "--sensor-height", "0.95", "--data-dir", str(tmp_path)]) == 0
    assert "pelvic sensor height 0.950 m" in capsys.readouterr().out
    assert main(["subject", "P01", "--sex", "female", "--data-dir", str(tmp_path)]) == 0  # kept
    stored = json.loads((tmp_path / "sub-P01" / "subject.json").read_text())
    assert stored["sensor_height_m"] == 0.95 and stored["demographics"]["sex"] == "female"
    assert load_subject(tmp_path, "P01").sensor_height == 0.95
    assert load_subject(tmp_path, "P02").sensor_height is None  # never measured
    assert main(["subject", "P01", "--sensor-height", "95", "--data-dir", str(tmp_path)]) == 2  # cm, not m
    assert "sensor height must be 0.3–2 m" in capsys.readouterr().err
    assert load_subject(tmp_path, "P01").sensor_height == 0.95  # the stored value is untouched
    stored["sensor_height_m"] = -1.0
    (tmp_path / "sub-P01" / "subject.json").write_text(json.dumps(stored))
    with pytest.raises(
        SubjectError, match=r"sub-P01.subject\.json: cannot read subject data .*sensor height"
    ):
        load_subject(tmp_path, "P01")


def test_ha001_stride_length_from_its_stored_sensor_height_matches_indip(tmp_path):
    """HA001's infoForAlgo.mat gives its sensor height (cm); stored as the subject's setting (m)
    it gives the inverted-pendulum stride length of the straight walks within 0.10 m of the
    INDIP reference on average (measured −0.04 m)."""
    require(HA001)
    info = scipy.io.loadmat(HA001 / "infoForAlgo.mat", squeeze_me=True, struct_as_record=False)["infoForAlgo"]
    centimetres = float(getattr(info, info._fieldnames[0]).SensorHeight)
    assert (
        main(["subject", "HA001", "--sensor-height", str(centimetres / 100), "--data-dir", str(tmp_path)])
        == 0
    )
    height = load_subject(tmp_path, "HA001").sensor_height
    assert height == pytest.approx(0.964)
    errors = []
    from benchmarks.mobgap_data import load_participant

    for trial in load_participant(HA001):
        if trial.test != "Test5":
            continue
        rate = trial.rate_hz
        q = OrientationEstimator(OrientationSettings(rate_hz=rate)).step(
            trial.gyr_rad_s, trial.acc_m_s2, np.ones(len(trial.acc_m_s2), bool)
        )
        t = np.arange(len(q)) / rate
        for bout in trial.bouts:
            part = slice(bout.start - 50, bout.end + 50)
            r = gait_analysis(
                t[part],
                q[part],
                trial.acc_m_s2[part],
                trial.gyr_rad_s[part],
                np.array([1.0, 0.0, 0.0, 0.0]),
                GaitSettings(sensor_height_m=height),
            )
            errors.append(r.stride_length_m - bout.stride_length_m)
    assert len(errors) == 2
    assert abs(np.mean(errors)) <= 0.10  # measured −0.04
    assert np.max(np.abs(errors)) <= 0.15


@pytest.fixture(scope="module")
def gait_file(tmp_path_factory):
    """A 25 s simulated gait recording in the library layout: <data dir>/sub-G1/g.h5."""
    folder = tmp_path_factory.mktemp("lib") / "sub-G1"
    folder.mkdir()
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=2, realtime=False),
        processing=SessionSettings(rate_hz=100.0, duration_s=24.0),
    )
    return asyncio.run(record(spec, "G1", folder / "g.h5", "gait", 25.0)).path


def test_analyze_uses_the_sensor_height_stored_beside_the_recording(gait_file, tmp_path, caplog):
    data_dir = gait_file.parent.parent
    _, without = analyze_file(gait_file)
    with pytest.raises(KeyError, match="stride_length"):
        without.value("stride_length")
    save_subject(data_dir, Subject("G1", sensor_height_m=0.95))
    assert subject_beside(gait_file, "G1").sensor_height == 0.95
    _, measured = analyze_file(gait_file)
    assert 0.6 < measured.value("stride_length") < 2.2 and 0.4 < measured.value("gait_speed") < 2.5
    assert measured.value("cadence") == without.value("cadence")
    elsewhere = tmp_path / "g.h5"  # outside the library: no subject beside it
    shutil.copy(gait_file, elsewhere)
    with pytest.raises(KeyError, match="stride_length"):
        analyze_file(elsewhere)[1].value("stride_length")
    (data_dir / "sub-G1" / "subject.json").write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="recordings.analysis"):
        _, damaged = analyze_file(gait_file)  # a damaged subject file does not stop the analysis
    assert damaged.value("cadence") == without.value("cadence")
    assert "subject.json: cannot read subject data" in caplog.text
