"""Columns read straight from a file's chunks (`recordings.chunk_columns`) equal h5py's rows bit
for bit, on files the writer made, on an older-schema file and on a file of a foreign layout;
a damaged chunk is an error; the counters read once (`load_raw.Counters`) equal the column."""

import shutil

import h5py
import numpy as np
import pytest

from recordings import load_raw
from recordings.chunk_columns import ChunkReadError, chunk_columns
from tests.recordings.test_replay import _record

RAW = tuple(load_raw.RAW_DATASETS)  # every raw column of one sensor


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chunks")
    rec, live, _ = _record(folder, "forward-bend", 30.0)
    return rec, live


def _slices(n, rng):
    fixed = [(0, n), (0, 1), (n - 1, n), (7, 7), (99, 101), (100, 200), (n - 150, n + 50)]
    return fixed + [tuple(sorted(rng.integers(0, n + 1, 2).tolist())) for _ in range(20)]


def test_every_raw_column_of_a_recording_equals_h5py(recorded):
    rec, _ = recorded
    rng = np.random.default_rng(5)
    with h5py.File(rec.path, "r") as f:
        datasets = {(p.value, n): f["acquisition"][p.value][n] for p in rec.placements for n in RAW}
        columns = chunk_columns(rec.path, datasets)
        assert columns is not None
        for key, column in columns.items():
            ds = datasets[key]
            assert (len(column), column.shape, column.dtype) == (len(ds), ds.shape, ds.dtype)
            for a, b in _slices(len(ds), rng):
                got, expected = column[a:b], ds[a:b]
                assert got.dtype == expected.dtype and got.shape == expected.shape, key
                assert got.tobytes() == expected.tobytes(), (key, a, b)


def test_other_layouts_are_left_to_h5py(tmp_path):
    values = np.arange(3000, dtype=np.float64).reshape(1000, 3) * 0.1
    path = tmp_path / "layouts.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("plain", data=values)  # contiguous
        f.create_dataset("chunked", data=values, chunks=(100, 3))  # no filter
        f.create_dataset("lzf", data=values, chunks=(100, 3), compression="lzf")
        f.create_dataset("gzip_by_column", data=values, chunks=(100, 1), compression="gzip")
        f.create_dataset("big_endian", data=values.astype(">f8"), chunks=(100, 3), compression="gzip")
        f.create_dataset("gzip", data=values, chunks=(100, 3), compression="gzip")
        f.create_dataset(
            "gzip_shuffle_fletcher",
            data=values,
            chunks=(64, 3),
            compression="gzip",
            shuffle=True,
            fletcher32=True,
        )
        f.create_dataset("unwritten", shape=(1000, 3), dtype="f8", chunks=(100, 3), compression="gzip")
    with h5py.File(path, "r") as f:
        for name in ("plain", "chunked", "lzf", "gzip_by_column", "big_endian", "unwritten"):
            assert chunk_columns(path, {name: f[name]}) is None, name
        for name in ("gzip", "gzip_shuffle_fletcher"):
            columns = chunk_columns(path, {name: f[name]})
            assert columns is not None
            assert columns[name][0:1000].tobytes() == f[name][:].tobytes()
            assert columns[name][63:65].tobytes() == f[name][63:65].tobytes()


def _damaged_copy(rec, tmp_path, name="acc_m_s2"):
    """A copy with bytes flipped in the middle of one lumbar chunk's deflate stream; its rows."""
    copy = tmp_path / "damaged.h5"
    shutil.copyfile(rec.path, copy)
    with h5py.File(copy, "r") as f:
        ds = f[f"acquisition/lumbar/{name}"]
        info = ds.id.get_chunk_info(ds.id.get_num_chunks() // 2)
        rows = int(info.chunk_offset[0])
    data = bytearray(copy.read_bytes())
    for k in range(8):
        data[info.byte_offset + info.size // 2 + k] ^= 0x5A
    copy.write_bytes(bytes(data))
    return copy, rows


def test_a_damaged_chunk_is_an_error_as_in_h5py(recorded, tmp_path):
    rec, _ = recorded
    copy, rows = _damaged_copy(rec, tmp_path)
    with h5py.File(copy, "r") as f:
        ds = f["acquisition/lumbar/acc_m_s2"]
        with pytest.raises(OSError):
            ds[rows : rows + 10]
        columns = chunk_columns(copy, {"acc": ds})
        assert columns is not None
        with pytest.raises(ChunkReadError, match="acc_m_s2"):
            columns["acc"][rows : rows + 10]
        assert columns["acc"][0:50].tobytes() == ds[0:50].tobytes()  # the chunks before read


def test_analysis_of_a_file_with_a_damaged_raw_chunk_says_so_and_reads_around_it(recorded, tmp_path):
    from recordings.analysis import analyze_file

    rec, _ = recorded
    copy, rows = _damaged_copy(rec, tmp_path)
    recording, result = analyze_file(copy)  # the window-at-a-time read fails; read whole around it
    assert [(d.dataset, d.start) for d in recording.damaged] == [("/acquisition/lumbar/acc_m_s2", rows)]
    assert any(f"acc_m_s2 rows {rows}–{rows + 49}" in p for p in recording.problems)
    assert result.measures


def test_counters_read_once_equal_the_column_with_jumps(tmp_path):
    rng = np.random.default_rng(2)
    steps = np.where(rng.random(5000) < 0.02, rng.integers(2, 300, 5000), 1)
    steps[2000] = 2**40  # a counter that jumps far (a sensor restarted its count)
    sequence = 17 + np.cumsum(steps).astype(np.int64)
    path = tmp_path / "counters.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("lumbar")
        for name in RAW:
            shape = (5000, 3) if name in ("acc_m_s2", "gyr_rad_s") else (5000,)
            g.create_dataset(
                name, data=np.zeros(shape), chunks=(100, *shape[1:]), compression="gzip", shuffle=True
            )
        del g["sequence"]
        g.create_dataset(
            "sequence", data=sequence, chunks=(100,), compression="gzip", shuffle=True, fletcher32=True
        )
    with h5py.File(path, "r") as f:
        counters = load_raw.sound(path, f["lumbar"])
    assert counters is not None and len(counters) == 5000
    for a, b in _slices(5000, rng):
        np.testing.assert_array_equal(counters[a:b], sequence[a:b])
    assert counters[0:5000].dtype == np.int64


@pytest.mark.parametrize("change", ["equal", "back"])
def test_counters_that_do_not_increase_are_not_sound(tmp_path, change):
    sequence = np.arange(1000, dtype=np.int64)
    sequence[500] = sequence[499] if change == "equal" else 3
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("lumbar")
        for name in RAW:
            shape = (1000, 3) if name in ("acc_m_s2", "gyr_rad_s") else (1000,)
            g.create_dataset(name, data=sequence if name == "sequence" else np.zeros(shape))
    with h5py.File(path, "r") as f:
        assert load_raw.sound(path, f["lumbar"]) is None


def test_rows_inflated_ahead_equal_h5py_and_stop_at_the_budget(recorded):
    from recordings.chunk_columns import Prefetch

    rec, _ = recorded
    rng = np.random.default_rng(6)
    with h5py.File(rec.path, "r") as f:
        names = ("acc_m_s2", "gyr_rad_s")
        datasets = {(p.value, n): f["acquisition"][p.value][n] for p in rec.placements for n in names}
        columns = chunk_columns(rec.path, datasets)
        assert columns is not None
        budget = 4 * 100 * 24 * len(columns)  # four 100-row chunks of each column
        ahead = Prefetch(list(columns.values()), budget)
        ahead._thread.join(timeout=30)  # let it finish (it stops at the budget by itself)
        ahead.stop()
        for key, column in columns.items():
            assert column._cached_rows == min(400, len(column)), key
            for a, b in [*_slices(len(column), rng), (0, 400), (10, 399), (399, 401)]:
                got = column[a:b]
                assert got.tobytes() == datasets[key][a:b].tobytes(), (key, a, b)
                if a < b <= 400:
                    assert not got.flags.writeable  # nobody can change the rows kept ahead
            column.drop_cache()
            assert column[0:400].tobytes() == datasets[key][0:400].tobytes()


def test_inflating_ahead_stops_when_asked(recorded):
    from recordings.chunk_columns import Prefetch

    rec, _ = recorded
    with h5py.File(rec.path, "r") as f:
        columns = chunk_columns(rec.path, {"acc": f["acquisition"][rec.placements[0].value]["acc_m_s2"]})
        assert columns is not None
        ahead = Prefetch(list(columns.values()), 1 << 30)
        ahead.stop()  # at once: returns after at most one batch of chunks
        assert not ahead._thread.is_alive()
        assert columns["acc"]._cached_rows <= Prefetch.BATCH_CHUNKS * columns["acc"].chunk_rows


def test_columns_inflated_whole_on_a_thread_equal_h5py_and_are_read_from_memory(recorded):
    from recordings.chunk_columns import InflateWhole

    rec, _ = recorded
    rng = np.random.default_rng(7)
    with h5py.File(rec.path, "r") as f:
        names = ("host_receive_ns", "session_time_s", "acc_m_s2")
        datasets = {(p.value, n): f["acquisition"][p.value][n] for p in rec.placements for n in names}
        columns = chunk_columns(rec.path, datasets)
        assert columns is not None
        whole = InflateWhole(list(columns.values()))
        for key, column in columns.items():  # read at once: each read waits for the thread
            assert column.cached_rows == len(column), key
            for a, b in _slices(len(column), rng):
                got = column[a:b]
                assert got.tobytes() == datasets[key][a:b].tobytes(), (key, a, b)
                assert b <= a or not got.flags.writeable  # nobody can change the rows kept in memory
        whole.stop()
        column = next(iter(columns.values()))
        column.drop_cache()
        assert column.cached_rows == 0
        assert column[0 : len(column)].tobytes() == datasets[next(iter(columns))][:].tobytes()


def test_a_damaged_chunk_of_a_column_inflated_whole_is_an_error_when_read(recorded, tmp_path):
    from recordings.chunk_columns import InflateWhole

    rec, _ = recorded
    copy, rows = _damaged_copy(rec, tmp_path)
    with h5py.File(copy, "r") as f:
        ds = f["acquisition/lumbar/acc_m_s2"]
        columns = chunk_columns(copy, {"acc": ds})
        assert columns is not None
        InflateWhole([columns["acc"]]).stop()
        assert columns["acc"].cached_rows == 0  # the thread could not: the reader says why
        with pytest.raises(ChunkReadError, match="acc_m_s2"):
            columns["acc"][rows : rows + 10]
        assert columns["acc"][0:50].tobytes() == ds[0:50].tobytes()
