"""A closed recording rewritten in large chunks (`recordings.consolidate`): every dataset and
attribute the same bytes (read by h5py, not by the reader under test), the analysis the same
table, the fast chunk reader still used; nothing changed when it cannot (left open, damaged)."""

import hashlib
import shutil

import h5py
import numpy as np
import pytest

from recordings.analysis import analyze_file
from recordings.chunk_columns import chunk_columns
from recordings.consolidate import FRESH_SUFFIX, consolidate, consolidated_chunks
from recordings.errors import RecordingError
from tests.recordings.corruptions import left_open
from tests.recordings.test_chunk_columns import _damaged_copy
from tests.recordings.test_replay import _record


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
