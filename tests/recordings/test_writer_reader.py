"""HDF5 session files: every field round-trips, readable while written, bad files named clearly."""

import math
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from recordings import (
    ForeignFileError,
    NewerSchemaError,
    NotARecordingError,
    RecordingNotFoundError,
    RecordingWriter,
    SessionMetadata,
    read_recording,
    session_file_name,
)
from recordings.errors import InvalidSubjectIdError
from recordings.writer import CHUNK_S
from sensors import Event, EventKind, Frame, Placement, SampleBlock, SensorFamily, SensorIdentity
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import SessionSettings

PLACEMENTS = (Placement.LUMBAR, Placement.PELVIS)
SENSORS = {
    Placement.LUMBAR: SensorIdentity(
        SensorFamily.MOVELLA_DOT, "D4:22:CD:00:00:01", "DOT-1", "2.6.0", "Xsens DOT"
    ),
    Placement.PELVIS: SensorIdentity(
        SensorFamily.STABMON, "C0:FF:EE:00:00:02", "SM-2", "1.0.3", "stabmon-imu"
    ),
}


def _blocks(rng, placement, n_blocks=5, n=40):
    blocks = []
    for b in range(n_blocks):
        seq = np.arange(b * n, (b + 1) * n) + (7 if b >= 2 else 0)  # 7 samples lost before block 2
        blocks.append(
            SampleBlock(
                placement,
                100.0 + seq / 100,
                rng.normal(size=(n, 3)),
                rng.normal(size=(n, 3)),
                seq,
                np.full(n, 10**9 + b * 400_000_000),
            )
        )
    return blocks


def _frame_and_angles(rng, n=120):
    t = np.arange(n) / 100
    valid = rng.random((n, 2)) > 0.1
    acc = rng.normal(size=(n, 2, 3))
    frame = Frame(t, PLACEMENTS, acc, acc, valid, 100.0)
    angles = AngleBlock(
        time_s=t,
        placements=PLACEMENTS,
        orientation=rng.normal(size=(n, 2, 4)),
        inclination_rad=rng.normal(size=(n, 2, 2)),
        axial_rad=rng.normal(size=(n, 2)),
        angular_velocity_rad_s=rng.normal(size=(n, 2, 3)),
        lumbar_rad=rng.normal(size=(n, 3)),
    )
    return frame, angles


def _write(path: Path, rng):
    metadata = SessionMetadata(
        "P-0042", "forward-bend", SessionSettings(), "pain 3/10 before; ünïcode ok", {"reps": 5}
    )
    writer = RecordingWriter(path, metadata, SENSORS)
    writer.set_host_origin(987_654_321)
    blocks = {p: _blocks(rng, p) for p in PLACEMENTS}
    for k in range(5):  # interleaved, as a runner receives them
        for p in PLACEMENTS:
            writer.append_samples(blocks[p][k], blocks[p][k].device_time_s - 100.0)
    frame, angles = _frame_and_angles(rng)
    writer.append_frame(frame, angles)
    events = [
        Event(1.5, EventKind.PERTURBATION, "push forward", source="operator"),
        Event(2.0, EventKind.PAIN_RATING, "lower back", 4.0),
        Event(3.0, EventKind.ANNOTATION, "x" * 400),
    ]
    for event in events:
        writer.add_event(event)
    calibration = SegmentCalibration(
        {p: np.array([1.0, 0, 0, 0]) * (k + 1) for k, p in enumerate(PLACEMENTS)}, 2.5
    )
    writer.set_calibration(calibration)
    writer.close()
    return metadata, blocks, frame, angles, events, calibration


def test_every_field_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "s.h5"
    metadata, blocks, frame, angles, events, calibration = _write(path, rng)
    rec = read_recording(path)
    assert rec.attributes["subject_id"] == "P-0042"
    assert rec.attributes["drill"] == "forward-bend"
    assert rec.attributes["operator_notes"] == metadata.operator_notes
    assert rec.attributes["schema_version"] == "0.3.0"
    assert rec.protocol == {"reps": 5}
    assert rec.placements == PLACEMENTS
    assert rec.sensors == SENSORS
    for p in PLACEMENTS:
        expected = blocks[p]
        for name in ("device_time_s", "acc_m_s2", "gyr_rad_s", "sequence", "host_receive_ns"):
            np.testing.assert_array_equal(
                getattr(rec.samples[p], name), np.concatenate([getattr(b, name) for b in expected])
            )
        np.testing.assert_array_equal(rec.session_time_s[p], rec.samples[p].device_time_s - 100.0)
        expected_lost = np.zeros(200, dtype=np.int32)
        expected_lost[80] = 7
        np.testing.assert_array_equal(rec.lost_before[p], expected_lost)
    np.testing.assert_array_equal(rec.arrival.placement_index, [0, 1] * 5)
    np.testing.assert_array_equal(rec.arrival.rows, [40] * 10)
    assert rec.arrival.host_origin_ns == 987_654_321
    assert rec.settings == metadata.settings
    assert rec.migrated_from is None
    np.testing.assert_array_equal(rec.processing.time_s, frame.time_s)
    np.testing.assert_array_equal(rec.processing.valid, frame.valid)
    np.testing.assert_array_equal(rec.processing.orientation, angles.orientation)
    np.testing.assert_array_equal(rec.processing.inclination_rad, angles.inclination_rad)
    np.testing.assert_array_equal(rec.processing.axial_rad, angles.axial_rad)
    np.testing.assert_array_equal(rec.processing.angular_velocity_rad_s, angles.angular_velocity_rad_s)
    np.testing.assert_array_equal(rec.processing.lumbar_rad, angles.lumbar_rad)
    for got, sent in zip(rec.events, events, strict=True):
        assert (got.time_s, got.kind, got.source) == (sent.time_s, sent.kind, sent.source)
    assert [e.label for e in rec.events[:2]] == [e.label for e in events[:2]]
    assert rec.events[2].label == "x" * 256  # long text is clipped to the field, not lost silently
    assert math.isnan(rec.events[0].value) and rec.events[1].value == 4.0
    assert rec.calibration_time_s == 2.5
    for p in PLACEMENTS:
        np.testing.assert_array_equal(rec.calibration_mount_q[p], calibration.mount_q[p])


def test_file_is_readable_while_being_written(tmp_path):
    """A reader sees every whole compressed chunk (0.5 s of data) while the writer runs, and the
    partial last chunk once it closes."""
    rng = np.random.default_rng(1)
    path = tmp_path / "live.h5"
    writer = RecordingWriter(path, SessionMetadata("LIVE1", "quiet-stance"), SENSORS, flush_interval_s=0.1)
    chunk_rows = round(100.0 * CHUNK_S)
    try:
        for block in _blocks(rng, Placement.LUMBAR, n_blocks=3):
            writer.append_samples(block, block.device_time_s)
        deadline = time.monotonic() + 10
        seen = 0
        while time.monotonic() < deadline and seen < 120 - 120 % chunk_rows:
            time.sleep(0.05)
            seen = len(read_recording(path).samples[Placement.LUMBAR])
        assert seen == 120 - 120 % chunk_rows
    finally:
        writer.close()
    assert len(read_recording(path).samples[Placement.LUMBAR]) == 120


def test_subject_ids_must_be_pseudonyms(tmp_path):
    with pytest.raises(InvalidSubjectIdError, match="never a name"):
        RecordingWriter(tmp_path / "x.h5", SessionMetadata("John Smith", "gait"), SENSORS)
    assert not (tmp_path / "x.h5").exists()
    name = session_file_name("S01", "gait", __import__("datetime").datetime(2026, 1, 2, 3, 4, 5, 678000))
    assert name == "sub-S01_gait_20260102T030405678Z.h5"


def test_an_existing_file_is_never_overwritten(tmp_path):
    path = tmp_path / "keep.h5"
    path.write_bytes(b"precious")
    with pytest.raises(Exception, match=r"keep\.h5"):
        RecordingWriter(path, SessionMetadata("S1", "gait"), SENSORS)
    assert path.read_bytes() == b"precious"


def test_bad_files_get_specific_errors_naming_the_file(tmp_path):
    with pytest.raises(RecordingNotFoundError, match=r"missing\.h5"):
        read_recording(tmp_path / "missing.h5")
    noise = tmp_path / "noise.h5"
    noise.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(NotARecordingError, match=r"noise\.h5: not an HDF5 file"):
        read_recording(noise)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = np.arange(10)
    with pytest.raises(ForeignFileError, match="another program"):
        read_recording(foreign)
    good = tmp_path / "good.h5"
    _write(good, np.random.default_rng(2))
    newer = tmp_path / "newer.h5"
    newer.write_bytes(good.read_bytes())
    with h5py.File(newer, "r+") as f:
        f.attrs["schema_version"] = "7.0.0"
    with pytest.raises(NewerSchemaError, match="newer"):
        read_recording(newer)
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(NotARecordingError, match=r"truncated\.h5: HDF5 file is truncated"):
        read_recording(truncated)
