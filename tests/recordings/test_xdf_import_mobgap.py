"""Real data through the XDF import: the Mobilise-D lower-back sensor of ../shared/data's HA001
(read in place), written as an XDF file the way an outside lab would (float32 samples in g and
deg/s, LabRecorder's file header), imported, analysed, and its gait contacts checked against the
INDIP reference contacts."""

import logging
import shutil
import struct
from pathlib import Path

import h5py
import numpy as np
import pytest

pytest.importorskip("pyxdf")

from benchmarks.gait_mobgap import mutual_nearest_pairs
from benchmarks.mobgap_data import load_participant
from engine.imports import import_xdf
from recordings import read_recording
from recordings.analysis import replay
from recordings.xdf_import import XdfImportError
from sensors.events import EventKind
from sensors.identity import SensorFamily
from sensors.placements import Placement
from sensors.processing.analysis import analyze
from sensors.processing.analysis_movement import walking_bout, walking_run
from sensors.processing.calibration import GRAVITY_POSTURE
from sensors.processing.errors import ProcessingError
from stabmon.cli import main
from tests.shared_data import HA001

STREAM = "MobGap LowerBack"
#: The file header's recording time, as LabRecorder writes it (local time with its offset).
RECORDED = "2024-03-05T14:02:11+0100"

pytestmark = pytest.mark.skipif(not (HA001 / "data.mat").exists(), reason="HA001 reference data absent")


def _chunk(tag: int, content: bytes) -> bytes:
    body = struct.pack("<H", tag) + content
    return (bytes([1, len(body)]) if len(body) < 256 else b"\x04" + struct.pack("<I", len(body))) + body


def _xdf(path: Path, trial, header_datetime: str | None) -> Path:
    """The trial's lower-back samples as one XDF stream: float32 acc in g and gyr in deg/s (as
    the Mobilise-D files hold them), 100 samples per chunk, LSL time from 1000 s; markers none."""
    acc_g, gyr_deg_s = trial.acc_m_s2 / 9.81, np.degrees(trial.gyr_rad_s)
    units = [("Acc", "g")] * 3 + [("Gyr", "deg/s")] * 3
    channels = "".join(
        f"<channel><label>{kind}{axis}</label><unit>{unit}</unit><type>{kind}</type></channel>"
        for (kind, unit), axis in zip(units, "XYZXYZ", strict=True)
    )
    when = f"<datetime>{header_datetime}</datetime>" if header_datetime else ""
    info = (
        f'<?xml version="1.0"?><info><name>{STREAM}</name><type>IMU</type><channel_count>6'
        f"</channel_count><nominal_srate>{trial.rate_hz}</nominal_srate><channel_format>float32"
        f"</channel_format><source_id>mobgap-ha001</source_id><hostname>lab-pc</hostname>"
        f"<desc><channels>{channels}</channels></desc></info>"
    )
    out = b"XDF:" + _chunk(1, f'<?xml version="1.0"?><info><version>1.0</version>{when}</info>'.encode())
    sid = struct.pack("<I", 1)
    out += _chunk(2, sid + info.encode())
    x = np.hstack([acc_g, gyr_deg_s]).astype("<f4")
    t = 1000.0 + np.arange(len(x)) / trial.rate_hz
    for s in range(0, len(x), 100):
        rows = range(s, min(s + 100, len(x)))
        body = b"".join(b"\x08" + struct.pack("<d", t[i]) + x[i].tobytes() for i in rows)
        out += _chunk(3, sid + bytes([1, len(rows)]) + body)
    footer = (
        f'<?xml version="1.0"?><info><first_timestamp>{t[0]}</first_timestamp><last_timestamp>'
        f"{t[-1]}</last_timestamp><sample_count>{len(x)}</sample_count></info>"
    )
    path.write_bytes(out + _chunk(6, sid + footer.encode()))
    return path


@pytest.fixture(scope="module")
def trials():
    return {t.name.split("/", 2)[2]: t for t in load_participant(HA001)}


def _import(
    tmp_path_factory, trial, drill="gait", placement=Placement.PELVIS, when=RECORDED, subject="P-096"
):
    folder = tmp_path_factory.mktemp("mobgap")
    xdf = _xdf(folder / "ha001.xdf", trial, when)
    return import_xdf(xdf, subject, drill, {STREAM: placement}, out_dir=folder)


@pytest.fixture(scope="module")
def straight_walk(tmp_path_factory, trials):
    """Test5 Trial1: 12.5 s that start in motion (no still standing capture), one walking bout of
    9 reference contacts."""
    return _import(tmp_path_factory, trials["Test5/Trial1"])


def _contacts_against_reference(path: Path, trial) -> tuple[int, int, list[float]]:
    """(reference contacts, those paired with a detected contact within 250 ms, lags s) for the
    gait analysis of the imported file (mobgap's mutual-nearest matching, its sample convention)."""
    data = replay(read_recording(path), running_measures=False).collector.session_data()
    detected = walking_bout(data, walking_run(data)).initial_contacts_s
    samples = np.round(detected * trial.rate_hz).astype(int)  # session time 0 = the first sample
    reference = np.concatenate([bout.contacts for bout in trial.bouts])
    pairs = mutual_nearest_pairs(samples, reference, 0.25 * trial.rate_hz)
    return len(reference), len(pairs), [(samples[i] - reference[j]) / trial.rate_hz for i, j in pairs]


def test_an_imported_file_says_where_and_when_it_was_recorded(straight_walk):
    rec = read_recording(straight_walk)
    sensor = rec.sensors[Placement.PELVIS]
    assert sensor.family is SensorFamily.IMPORTED
    assert sensor.model == f"XDF stream {STREAM!r} (IMU) on lab-pc" and sensor.serial == "mobgap-ha001"
    assert rec.attributes["created_utc"] == "2024-03-05T13:02:11+00:00"  # the header's time, in UTC
    assert straight_walk.name == "sub-P-096_gait_20240305T130211000Z.h5"  # single task: no "-unknown"
    protocol = rec.protocol
    assert protocol["source_format"] == "XDF 1.0" and protocol["file"] == "ha001.xdf"
    assert protocol["streams"] == {"pelvis": STREAM}
    assert protocol["recorded_utc"] == "2024-03-05T13:02:11+00:00"
    assert rec.attributes["operator_notes"] == "imported from ha001.xdf (XDF 1.0)"


def test_a_file_without_a_recording_time_says_it_is_dated_at_the_import(tmp_path_factory, trials):
    path = _import(tmp_path_factory, trials["Test5/Trial2"], when=None, subject="P-095")
    assert read_recording(path).protocol["recorded_utc"] == "not in the file (dated at the import)"


def test_a_walk_without_standing_still_gives_gait_calibrated_from_gravity(straight_walk, trials, caplog):
    """The auditor's Test5: 16 copies of "stand still and upright, then calibrate again", then
    "never calibrated". Walking is calibrated from gravity, said once; the contacts match INDIP's."""
    rec = read_recording(straight_walk)
    calibrations = [e for e in rec.events if e.kind is EventKind.CALIBRATION]
    assert [e.label for e in calibrations] == [GRAVITY_POSTURE]
    with caplog.at_level(logging.WARNING):
        data = replay(rec, running_measures=False).collector.session_data()
        result = analyze(data, rec.drill)
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1 and "calibrated from gravity while moving" in said[0], said
    assert result.value("steps") >= 9 and 85 <= result.value("cadence") <= 115
    reference, paired, lags = _contacts_against_reference(straight_walk, trials["Test5/Trial1"])
    assert (reference, paired) == (9, 9)
    assert abs(float(np.median(lags))) <= 0.05


def test_daily_life_walking_finds_the_reference_contacts(tmp_path_factory, trials):
    """The auditor's Test11 (138 s, 6 walking bouts, 63 reference contacts) gave 0 steps: samples
    stamped exactly on the frame grid made every 10th frame a gap."""
    trial = trials["Test11/Trial1"]
    path = _import(tmp_path_factory, trial, subject="P-094")
    reference, paired, lags = _contacts_against_reference(path, trial)
    assert reference == 63 and paired >= 57
    assert abs(float(np.median(lags))) <= 0.05
    frames = read_recording(path).processing
    assert frames.valid.all()  # every frame of an unbroken stream is whole


def test_a_sensor_the_drill_needs_missing_is_one_clear_line(tmp_path_factory, trials, straight_walk):
    """Mapped to the lumbar placement, the import was accepted and `analyze` leaked
    "InvalidSamplesError: frame has no pelvis sensor"."""
    folder = tmp_path_factory.mktemp("refused")
    xdf = _xdf(folder / "ha001.xdf", trials["Test5/Trial1"], RECORDED)
    with pytest.raises(XdfImportError) as refused:
        import_xdf(xdf, "P-093", "gait", {STREAM: Placement.LUMBAR}, out_dir=folder)
    message = str(refused.value)
    assert "the gait analysis needs a pelvis sensor at S1/S2 (sacrum); this recording has lumbar" in message
    assert f"{STREAM!r} → lumbar" in message and "--map" in message and "\n" not in message
    assert list(folder.glob("*.h5")) == []  # refused before anything was written
    data = replay(read_recording(straight_walk), running_measures=False).collector.session_data()
    with pytest.raises(ProcessingError, match=r"^the forward-bend analysis needs a lumbar sensor at T12/L1"):
        analyze(data, "forward-bend")


def test_retries_of_a_failing_calibration_are_said_once(tmp_path_factory, trials, caplog, capsys):
    """A drill that needs a still capture (quiet stance) on walking data: the attempts every 0.5 s
    fail with different numbers ("turned at 11 °/s", "9 °/s", …); each kind is said once."""
    with caplog.at_level(logging.WARNING, logger="sensors.processing.pipeline"):
        path = _import(
            tmp_path_factory, trials["Test5/Trial1"], "quiet-stance", Placement.LUMBAR, subject="P-092"
        )
    said = [r.getMessage() for r in caplog.records if "calibration not done yet" in r.getMessage()]
    assert 1 <= len(said) <= 3, said
    failed = [e for e in read_recording(path).events if e.label.startswith("failed:")]
    assert len(failed) == len(said)
    # As an older stabmon imported it for gait (the drill attribute rewritten with h5py): analyze
    # says what is missing in one line, before replaying anything.
    older = path.with_name("older-gait-import.h5")
    shutil.copyfile(path, older)
    with h5py.File(older, "r+") as f:
        f.attrs["drill"] = "gait"
    capsys.readouterr()
    assert main(["analyze", str(older)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"stabmon analyze: {older}: cannot analyse (the gait analysis needs a pelvis sensor at "
        "S1/S2 (sacrum); this recording has lumbar)"
    ]


def test_an_imported_walk_that_never_stands_still_says_what_a_reviewer_can_do(
    tmp_path_factory, trials, caplog, capsys
):
    """Imported for quiet stance, the walk never stood still: the import and its replay said the
    live instruction "stand still and upright, then calibrate again", which no one can follow in
    a file. They say what the capture showed and that it was tried again; `analyze` says the file
    holds no still stretch to calibrate from."""
    with caplog.at_level(logging.WARNING, logger="sensors.processing.pipeline"):
        path = _import(
            tmp_path_factory, trials["Test5/Trial1"], "quiet-stance", Placement.LUMBAR, subject="P-091"
        )
        capsys.readouterr()
        assert main(["analyze", str(path)]) == 2
    said = [r.getMessage() for r in caplog.records if "calibration not done yet" in r.getMessage()]
    assert said and all("tried again every 0.5 s on the last 2 s" in line for line in said), said
    labels = [e.label for e in read_recording(path).events if e.label.startswith("failed:")]
    err = capsys.readouterr().err
    for text in (*said, *labels, err):
        assert "calibrate again" not in text and "stand still" not in text, text
    assert "the recording holds no 2 s of still, upright standing to calibrate from (lumbar sensor " in err, (
        err
    )
    assert "a recording that starts with it can be measured" in err, err
