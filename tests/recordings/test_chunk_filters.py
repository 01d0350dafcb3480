"""Chunks filtered outside HDF5 (`recordings.chunk_filters`) are the bytes HDF5 itself stores, and
the writer stores its bulk chunks that way: files read the same by h5py (which checks every
fletcher32), by the chunk reader and, chunk for chunk, equal a plain h5py write of the same rows."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from recordings import RecordingWriter, SessionMetadata, schema
from recordings.chunk_columns import chunk_columns
from recordings.chunk_filters import encode_chunks, fletcher32, fletcher32_each, pipeline_of
from recordings.pending_rows import PendingRows
from sensors import Frame, Placement, SampleBlock, SensorFamily, SensorIdentity
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import SessionSettings

ROWS = 50
GZIP = {"compression": "gzip", "compression_opts": 4, "shuffle": True, "fletcher32": True}


def _columns(rng: np.random.Generator, n: int) -> dict[str, tuple[np.ndarray, dict]]:
    """Columns like a session's (name → rows, filters), n rows each."""
    walk = np.cumsum(rng.normal(size=(n, 3)), axis=0)
    return {
        "acc": (walk, GZIP),
        "time": (np.arange(n) / 200.0 + 3.1, GZIP),
        "sequence": (np.arange(n, dtype=np.int64) + 12345, GZIP),
        "lost": (rng.integers(0, 3, n).astype(np.int32), GZIP),
        "valid": (rng.random((n, 6)) > 0.1, GZIP),
        "orientation": (rng.normal(size=(n, 2, 4)), GZIP),
        "no_shuffle_level_9": (
            walk[:, 0].copy(),
            {"compression": "gzip", "compression_opts": 9, "fletcher32": True},
        ),
        "no_checksum_level_1": (
            walk[:, 1].copy(),
            {"compression": "gzip", "compression_opts": 1, "shuffle": True},
        ),
    }


def _create(f: h5py.File, name: str, rows: np.ndarray, filters: dict) -> h5py.Dataset:
    return f.create_dataset(
        name,
        shape=(0, *rows.shape[1:]),
        maxshape=(None, *rows.shape[1:]),
        chunks=(ROWS, *rows.shape[1:]),
        dtype=rows.dtype,
        **filters,
    )


def _stored_chunks(dataset: h5py.Dataset) -> list[bytes]:
    tail = (0,) * (dataset.ndim - 1)
    out = []
    for k in range(dataset.shape[0] // ROWS):
        mask, chunk = dataset.id.read_direct_chunk((k * ROWS, *tail))
        assert mask == 0
        out.append(bytes(chunk))
    return out


def test_filtered_chunks_are_the_bytes_hdf5_stores(tmp_path):
    columns = _columns(np.random.default_rng(5), 4 * ROWS)
    with h5py.File(tmp_path / "hdf5.h5", "w", libver=schema.FILE_FORMAT) as f:
        for name, (rows, filters) in columns.items():
            dataset = _create(f, name, rows, filters)
            dataset.resize(len(rows), axis=0)
            dataset[:] = rows  # HDF5's own filters
            pipeline = pipeline_of(dataset)
            assert pipeline is not None, name
            assert encode_chunks(pipeline, rows) == _stored_chunks(dataset), name


@pytest.mark.parametrize("size", [1, 2, 3, 719, 720, 721, 5000])
def test_fletcher32_is_hdf5s_checksum(tmp_path, size):
    """HDF5's own fletcher32 (an unfiltered checksummed chunk holds the bytes, then the word):
    odd lengths, more than one 360-word block, all-0xFF bytes (sums that reduce to 65535)."""
    rng = np.random.default_rng(size)
    for data in (
        rng.integers(0, 256, size, dtype=np.uint8),
        np.full(size, 255, np.uint8),
        np.zeros(size, np.uint8),
    ):
        with h5py.File(tmp_path / "f.h5", "w") as f:
            dataset = f.create_dataset("x", data=data, chunks=(size,), fletcher32=True)
            _, stored = dataset.id.read_direct_chunk((0,))
        assert stored[:size] == data.tobytes()
        assert int.from_bytes(stored[size:], "little") == fletcher32(data.tobytes()), (size, data[:2])


def test_pipelines_not_made_here_are_refused(tmp_path):
    rows = np.zeros((ROWS, 3))
    with h5py.File(tmp_path / "f.h5", "w") as f:
        refused = {
            "lzf": _create(f, "lzf", rows, {"compression": "lzf"}),
            "checksum only": _create(f, "sum", rows, {"fletcher32": True}),
            "scale-offset": _create(f, "so", rows, {"compression": "gzip", "scaleoffset": 3}),
            "big-endian": _create(f, "be", rows.astype(">f8"), GZIP),
            "fletcher32 first": f.create_dataset("order", (0,), maxshape=(None,), chunks=(ROWS,), dtype="f8"),
        }
        plist = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        plist.set_chunk((ROWS,))
        plist.set_fletcher32()
        plist.set_deflate(4)
        space = h5py.h5s.create_simple((0,), (h5py.h5s.UNLIMITED,))
        refused["fletcher32 first"] = h5py.Dataset(
            h5py.h5d.create(f.id, b"first", h5py.h5t.IEEE_F64LE, space, plist)
        )
        for name, dataset in refused.items():
            assert pipeline_of(dataset) is None, name


def test_datasets_left_to_h5py_are_still_written_right(tmp_path):
    rows = np.random.default_rng(1).normal(size=(3 * ROWS, 3))
    pending = PendingRows()
    with h5py.File(tmp_path / "f.h5", "w") as f:
        datasets = {
            "lzf": _create(f, "lzf", rows, {"compression": "lzf"}),
            "gzip": _create(f, "gzip", rows, GZIP),
        }
        for path in datasets:
            pending.add(path, rows)
        assert pending.write_to(datasets) == {"lzf": 3 * ROWS, "gzip": 3 * ROWS}
        assert (pending.direct_chunks, pending.h5py_writes) == (3, 1)
    with h5py.File(tmp_path / "f.h5", "r") as f:
        assert np.array_equal(f["lzf"][:], rows) and np.array_equal(f["gzip"][:], rows)


def test_a_dataset_not_ending_on_a_chunk_boundary_is_appended_through_h5py(tmp_path):
    rows = np.random.default_rng(2).normal(size=(2 * ROWS, 3))
    pending = PendingRows()
    with h5py.File(tmp_path / "f.h5", "w") as f:
        datasets = {"x": _create(f, "x", rows, GZIP)}
        datasets["x"].resize(7, axis=0)
        datasets["x"][:] = rows[:7]
        pending.add("x", rows)
        pending.write_to(datasets)
        assert (pending.direct_chunks, pending.h5py_writes) == (0, 1)
        assert np.array_equal(datasets["x"][:], np.concatenate([rows[:7], rows]))


SENSORS = {
    Placement.LUMBAR: SensorIdentity(
        SensorFamily.STABMON, "C0:FF:EE:00:00:01", "SM-1", "1.0.3", "stabmon-imu"
    ),
    Placement.PELVIS: SensorIdentity(
        SensorFamily.STABMON, "C0:FF:EE:00:00:02", "SM-2", "1.0.3", "stabmon-imu"
    ),
}


def _session(path: Path, seconds: float, store_angles: bool) -> RecordingWriter:
    """A 100 Hz session of two sensors (notifications of 4 samples) and its frames."""
    rng = np.random.default_rng(9)
    metadata = SessionMetadata(
        "P-0007", "quiet-stance", SessionSettings(rate_hz=100.0), store_angles=store_angles
    )
    writer = RecordingWriter(path, metadata, SENSORS, flush_interval_s=0.02)
    placements = tuple(SENSORS)
    n = int(seconds * 100)
    for start in range(0, n, 4):
        for k, placement in enumerate(placements):
            seq = np.arange(start, start + 4)
            block = SampleBlock(
                placement,
                seq / 100 + k * 1e-4,
                rng.normal(size=(4, 3)),
                rng.normal(size=(4, 3)),
                seq,
                10**9 + seq * 10**7,
            )
            writer.append_samples(block, seq / 100.0)
        t = np.arange(start, start + 4) / 100
        acc = rng.normal(size=(4, 2, 3))
        angles = AngleBlock(
            t, placements, rng.normal(size=(4, 2, 4)), rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2)),
            rng.normal(size=(4, 2, 3)), rng.normal(size=(4, 3)),
        )  # fmt: skip
        writer.append_frame(Frame(t, placements, acc, acc, rng.random((4, 2)) > 0.1, 100.0), angles)
    writer.close()
    return writer


@pytest.mark.parametrize("store_angles", [False, True])
def test_the_writer_stores_its_bulk_chunks_directly_and_hdf5_would_store_the_same(tmp_path, store_angles):
    path = tmp_path / "session.h5"
    writer = _session(path, seconds=2.12, store_angles=store_angles)  # 4 whole chunks, then 12 rows
    with h5py.File(path, "r") as f:
        bulk = {
            name: ds
            for name, ds in _all_datasets(f).items()
            if ds.compression is not None and name.split("/")[0] in (schema.ACQUISITION, schema.PROCESSING)
        }
        assert len(bulk) == 2 * len(schema.RAW_DATASETS) + (7 if store_angles else 2)
        whole = sum(ds.shape[0] // ds.chunks[0] for ds in bulk.values())
        assert writer.chunks_stored_directly == whole  # every whole chunk, none through h5py
        columns = chunk_columns(path, {name: ds for name, ds in bulk.items() if ds.dtype.kind != "b"})
        assert columns is not None
        # A plain h5py write of the same rows: the same chunks, byte for byte; and every checksum
        # verifies when h5py reads (it raises on a bad one).
        with h5py.File(tmp_path / "plain.h5", "w", libver=schema.FILE_FORMAT) as plain:
            for name, ds in bulk.items():
                rows = ds[:]
                assert rows.shape[0] == 212
                copy = plain.create_dataset(
                    name, data=rows, maxshape=ds.maxshape, chunks=ds.chunks, compression="gzip",
                    compression_opts=4, shuffle=True, fletcher32=True,
                )  # fmt: skip
                tail = (0,) * (ds.ndim - 1)
                for k in range(-(-ds.shape[0] // ds.chunks[0])):
                    offset = (k * ds.chunks[0], *tail)
                    assert ds.id.read_direct_chunk(offset) == copy.id.read_direct_chunk(offset), (name, k)
                if name in columns:
                    assert np.array_equal(columns[name][:], rows), name


def _all_datasets(f: h5py.File) -> dict[str, h5py.Dataset]:
    found: dict[str, h5py.Dataset] = {}

    def take(name: str, item: h5py.HLObject) -> None:  # returning anything else stops the visit
        if isinstance(item, h5py.Dataset):
            found[name] = item

    f.visititems(take)
    return found


def test_checksums_of_several_streams_at_once_equal_each_alone():
    rng = np.random.default_rng(3)
    streams = [rng.integers(0, 256, size, dtype=np.uint8).tobytes() for size in (1, 2, 3, 721, 2000, 5)]
    streams += [b"\xff" * 999, b"\x00" * 10]
    assert fletcher32_each(streams) == [fletcher32(s) for s in streams]


def test_samples_lost_before_each_sample_are_what_the_schema_says(tmp_path):
    """The writer's shortcut for gap-free notifications gives `schema.lost_before` exactly, for
    blocks in step, with a gap before or inside them, and long ones."""
    rng = np.random.default_rng(4)
    placement = Placement.LUMBAR
    metadata = SessionMetadata("P-0008", "quiet-stance", SessionSettings(rate_hz=100.0))
    writer = RecordingWriter(tmp_path / "gaps.h5", metadata, {placement: SENSORS[placement]})
    expected, last, start = [], None, 1000
    for k in range(300):
        n = int(rng.choice([1, 4, 4, 4, 17, 40]))
        steps = np.ones(n, dtype=np.int64)
        if k % 7 == 3:
            steps[int(rng.integers(n))] += int(rng.integers(1, 50))  # a gap
        seq = start + np.cumsum(steps)
        start = int(seq.max())
        block = SampleBlock(placement, seq / 100.0, np.zeros((n, 3)), np.zeros((n, 3)), seq, seq * 10**7)
        writer.append_samples(block, seq / 100.0)
        expected.append(schema.lost_before(seq, last))
        last = int(seq[-1])
    writer.close()
    with h5py.File(tmp_path / "gaps.h5", "r") as f:
        stored = f[f"{schema.ACQUISITION}/{placement.value}/lost_before"][:]
    assert np.array_equal(stored, np.concatenate(expected)) and stored.any()
