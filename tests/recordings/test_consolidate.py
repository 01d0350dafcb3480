"""A closed recording rewritten in large chunks (`recordings.consolidate`): every dataset and
attribute the same bytes (read by h5py, not by the reader under test), the analysis the same
table, the fast chunk reader still used; nothing changed when it cannot (left open, damaged)."""

import dataclasses
import hashlib
import shutil

import h5py
import numpy as np
import pytest

from recordings import RecordingWriter, SessionMetadata
from recordings.analysis import analyze_file
from recordings.chunk_columns import chunk_columns
from recordings.consolidate import FRESH_SUFFIX, consolidate, consolidated_chunks
from recordings.errors import RecordingError
from sensors.identity import SensorFamily, SensorIdentity
from sensors.processing.session import SessionSettings
from sensors.samples import SampleBlock
from tests.recordings.corruptions import left_open
from tests.recordings.test_chunk_columns import _damaged_copy
from tests.recordings.test_replay import _record
from tests.recordings.test_writer_reader import PLACEMENTS, _frame_and_angles


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("consolidate")
    # 44 s of data: 4 consolidated chunks; kept in the writer's chunks to consolidate here
    rec, _, _ = _record(folder, "forward-bend", 45.0, consolidate=False)
    return rec


def _bytes(value):
    """A value's bytes (variable-length strings: their text), its dtype and shape."""
    array = np.asarray(value)
    raw = repr(array.tolist()).encode() if array.dtype.kind == "O" else array.tobytes()
    return raw, array.dtype.str, array.shape


def _contents(path):
    """{name: (attributes, chunks, layout, bytes)} of every object, read with h5py."""
    out = {}
    with h5py.File(path, "r") as f:
        out["/"] = ({k: _bytes(v) for k, v in f.attrs.items()}, None, None, None)

        def visit(name, item):
            attrs = {k: _bytes(v) for k, v in item.attrs.items()}
            if isinstance(item, h5py.Dataset):
                filters = (item.compression, item.compression_opts, item.shuffle, item.fletcher32)
                layout = (filters, item.dtype.str, item.shape, item.maxshape)
                out[name] = (attrs, item.chunks, layout, _bytes(item[()]))
            else:
                out[name] = (attrs, None, None, None)

        f.visititems(visit)
    return out


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_consolidating_keeps_every_byte_and_the_analysis(recorded, tmp_path):
    copy = tmp_path / recorded.path.name
    shutil.copyfile(recorded.path, copy)
    before = _contents(copy)
    result = consolidate(copy)
    assert result.rewritten and result.chunks_after < result.chunks_before / 5
    assert result.bytes_after < result.bytes_before and result.bytes_after == copy.stat().st_size
    assert not list(copy.parent.glob("*" + FRESH_SUFFIX))
    after = _contents(copy)
    assert after.keys() == before.keys()
    grown = 0
    for name, (attrs, chunks, layout, raw) in before.items():
        attrs2, chunks2, layout2, raw2 = after[name]
        assert (attrs2, layout2, raw2) == (attrs, layout, raw), name
        if chunks2 != chunks:
            grown += 1
            assert chunks2[0] >= 10 * chunks[0] and chunks2[1:] == chunks[1:], name
    assert grown >= 14 + 2  # 7 raw columns of each sensor, the frame grid and its valid flags
    with h5py.File(copy, "r") as f:
        acc = f["acquisition/lumbar/acc_m_s2"]
        assert acc.chunks[0] == 1000  # 10 s at 100 Hz
        assert chunk_columns(copy, {"acc": acc}) is not None  # still read straight from its chunks
    _, table = analyze_file(recorded.path)
    _, again = analyze_file(copy)
    assert again == table and len(table.measures) > 0
    digest = _digest(copy)
    assert not consolidate(copy).rewritten and _digest(copy) == digest  # once is enough


def test_a_file_left_open_is_refused_and_left_as_it_was(recorded, tmp_path):
    (_, path), _ = left_open(recorded.path, tmp_path)
    digest = _digest(path)
    with pytest.raises(RecordingError, match="recover"):
        consolidate(path)
    assert _digest(path) == digest


def test_a_damaged_file_is_left_as_it_was(recorded, tmp_path):
    copy, _ = _damaged_copy(recorded, tmp_path)
    digest = _digest(copy)
    with pytest.raises(RecordingError, match="cannot consolidate"):
        consolidate(copy)
    assert _digest(copy) == digest
    assert not list(copy.parent.glob("*" + FRESH_SUFFIX))


def test_only_compressed_columns_of_many_chunks_are_regrown(tmp_path):
    path = tmp_path / "layouts.h5"
    with h5py.File(path, "w") as f:
        gzip = {"compression": "gzip", "shuffle": True, "fletcher32": True, "maxshape": (None, 3)}
        f.create_dataset("column", data=np.zeros((5000, 3)), chunks=(50, 3), **gzip)
        f.create_dataset("short", data=np.zeros((40, 3)), chunks=(50, 3), **gzip)
        f.create_dataset("plain", data=np.zeros((5000, 3)), chunks=(50, 3), maxshape=(None, 3))
        f.create_dataset("long_chunks", data=np.zeros((5000, 3)), chunks=(800, 3), **gzip)
        f.create_dataset("by_column", data=np.zeros((5000, 3)), chunks=(50, 1), compression="gzip")
        f.create_dataset("contiguous", data=np.zeros((5000, 3)))
    with h5py.File(path, "r") as f:
        assert consolidated_chunks(f["column"], 1000) == (1000, 3)
        assert consolidated_chunks(f["column"], 1250) == (1250, 3)
        assert consolidated_chunks(f["column"], 1300) is None  # fewer than 4 new chunks: too short
        assert consolidated_chunks(f["column"], None) == (100, 3)  # some chunk length would do
        for name in ("short", "plain", "long_chunks", "by_column", "contiguous"):
            assert consolidated_chunks(f[name], 1000) is None, name
            assert consolidated_chunks(f[name], None) is None, name


def test_the_command_consolidates_each_file_and_reports_the_ones_it_cannot(recorded, tmp_path, capsys):
    from stabmon.cli import main

    good = tmp_path / "good.h5"
    shutil.copyfile(recorded.path, good)
    damaged, _ = _damaged_copy(recorded, tmp_path)
    assert main(["consolidate", str(damaged), str(good)]) == 2
    out, err = capsys.readouterr()
    assert f"{damaged}: /acquisition/lumbar/acc_m_s2 rows" in err and "cannot consolidate" in err
    assert f"{good}: " in out and "chunks" in out
    with h5py.File(good, "r") as f:
        assert f["acquisition/pelvis/gyr_rad_s"].chunks == (1000, 3)
    assert main(["consolidate", str(good)]) == 0
    assert "nothing to gain" in capsys.readouterr().out


def test_the_check_finds_a_copy_that_differs(recorded, tmp_path):
    from recordings.consolidate import _check_copy

    copy = tmp_path / "copy.h5"
    shutil.copyfile(recorded.path, copy)
    consolidate(copy)
    with h5py.File(recorded.path, "r") as source, h5py.File(copy, "r") as same:
        _check_copy(recorded.path, source, same)  # equal: no error
    with h5py.File(copy, "r+") as f:
        f["acquisition/pelvis/acc_m_s2"][1234, 1] = np.nextafter(f["acquisition/pelvis/acc_m_s2"][1234, 1], 0)
    with (
        h5py.File(recorded.path, "r") as source,
        h5py.File(copy, "r") as changed,
        pytest.raises(RecordingError, match="acc_m_s2 differs"),
    ):
        _check_copy(recorded.path, source, changed)
    with h5py.File(copy, "r+") as f:
        f["acquisition/pelvis/acc_m_s2"].attrs["units"] = "g"
    with (
        h5py.File(recorded.path, "r") as source,
        h5py.File(copy, "r") as changed,
        pytest.raises(RecordingError, match="attributes of /acquisition/pelvis/acc_m_s2"),
    ):
        _check_copy(recorded.path, source, changed)


def _rows_per_chunk(path):
    with h5py.File(path, "r") as f:
        return f["acquisition/lumbar/acc_m_s2"].chunks[0], f["processing/time_s"].chunks[0]


def test_a_recording_is_consolidated_when_it_closes(recorded, tmp_path):
    """engine.recording.Recording rewrites the file it closed (100 Hz: 0.5 s = 50 rows, 10 s =
    1000) into the same data as the writer's own file of the same simulated session."""
    assert _rows_per_chunk(recorded.path) == (50, 50)
    closed, _, _ = _record(tmp_path, "forward-bend", 45.0)
    assert _rows_per_chunk(closed.path) == (1000, 1000)
    assert not list(tmp_path.glob("*" + FRESH_SUFFIX))
    with h5py.File(closed.path, "r") as new, h5py.File(recorded.path, "r") as old:
        for name in ("acquisition/lumbar/acc_m_s2", "acquisition/pelvis/session_time_s", "processing/time_s"):
            assert np.array_equal(new[name][()], old[name][()]), name


def _sixty_hz_session(path, seconds=60.0, sensor_hz=60.0):
    """A 100-Hz session of two Movella DOT sensors streaming at 60 Hz (what a virtual DOT pair
    asked for 100 Hz sends: its nearest output rate), written by the recording's writer."""
    rng = np.random.default_rng(60)
    sensors = {
        p: SensorIdentity(SensorFamily.MOVELLA_DOT, f"D4:22:CD:00:00:0{k}", f"DOT-{k}", "2.6.0", "Xsens DOT")
        for k, p in enumerate(PLACEMENTS)
    }
    writer = RecordingWriter(
        path, SessionMetadata("DOT60", "quiet-stance", SessionSettings(rate_hz=100.0)), sensors
    )
    writer.set_host_origin(0)
    n, per_block = round(seconds * sensor_hz), 30
    for start in range(0, n, per_block):
        seq = np.arange(start, start + per_block)
        t = seq / sensor_hz
        for p in PLACEMENTS:
            block = SampleBlock(
                p,
                t,
                rng.normal(size=(per_block, 3)),
                rng.normal(size=(per_block, 3)),
                seq,
                (t * 1e9).astype(np.int64),
            )
            writer.append_samples(block, t)
        frames = round(per_block / sensor_hz * 100)
        frame, angles = _frame_and_angles(rng, n=frames)
        frame_t = start / sensor_hz + frame.time_s
        writer.append_frame(
            dataclasses.replace(frame, time_s=frame_t), dataclasses.replace(angles, time_s=frame_t)
        )
    writer.close()


def test_a_minute_of_sixty_hz_sensors_is_consolidated_at_their_own_rate(tmp_path):
    # Before: chunk length and "too short to bother" came from the session's 100-Hz frame rate, so
    # the raw columns of a 60-s file of 60-Hz sensors (3600 rows < 4 × 1000) kept 72 small chunks.
    path = tmp_path / "dot60.h5"
    _sixty_hz_session(path)
    before = _contents(path)
    result = consolidate(path)
    assert result.rewritten
    after = _contents(path)
    assert after.keys() == before.keys()
    for name, (attrs, _, layout, raw) in before.items():
        assert after[name][0] == attrs and after[name][2:] == (layout, raw), name  # the same bytes
    with h5py.File(path, "r") as f:
        for placement in ("lumbar", "pelvis"):
            group = f[f"acquisition/{placement}"]
            assert group["acc_m_s2"].shape[0] == 3600
            for name in ("acc_m_s2", "gyr_rad_s", "sequence", "device_time_s", "session_time_s"):
                assert group[name].chunks[0] == 600, (placement, name)  # 10 s at the sensor's 60 Hz
        assert f["processing/time_s"].chunks == (1000,)  # 10 s of the 100-Hz frames
