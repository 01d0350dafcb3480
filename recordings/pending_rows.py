"""The chunk policy: rows wait in memory per dataset, and a compressed dataset is appended whole
chunks only until the final write, so no compressed chunk is ever rewritten (rewriting one
reallocates it and bloated live files 10x).

Whole chunks of a dataset whose filters `recordings.chunk_filters` makes are filtered in Python
(deflate releases the interpreter lock) and stored as they are with `write_direct_chunk`. What a
dataset is (compressed, rows a chunk, filters, rows so far) is read from HDF5 once, not at every
flush: the HDF5 calls left per flush are one extent change and one store per chunk, each
holding the lock for microseconds. Any other dataset, and the last partial chunk written on
close, go through h5py as before; the bytes in the file are the same either way."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import h5py
import numpy as np

from recordings.chunk_filters import Pipeline, encode_chunks, pipeline_of
from recordings.file_layout import Datasets

#: A small in-place write into an open file (clock origin, calibration).
Write = Callable[[Datasets], None]


def append_rows(dataset: h5py.Dataset, rows: np.ndarray) -> None:
    """Append rows (n, ...) at the end of a resizable dataset."""
    n = len(rows)
    if n == 0:
        return
    start = dataset.shape[0]
    dataset.resize(start + n, axis=0)
    dataset[start:] = rows


@dataclass
class _Target:
    """A dataset as the writer appends to it: `chunk_rows` for a compressed one (appended whole
    chunks at a time) else None, its `pipeline` when its chunks are stored directly, and the rows
    it holds (kept here: asking HDF5 costs a call)."""

    dataset: h5py.Dataset
    chunk_rows: int | None
    pipeline: Pipeline | None
    rows: int
    row_shape: tuple[int, ...]

    def extend(self, rows: int) -> int:
        """Grow the dataset by `rows` rows; returns the first new row."""
        start = self.rows
        self.dataset.id.set_extent((start + rows, *self.row_shape))
        self.rows = start + rows
        return start


class PendingRows:
    """Rows waiting to be appended, per dataset path. Compressed datasets take whole chunks only
    until the final write, so each compressed chunk is written exactly once. `snapshot()` before a
    write and `restore()` after a failed one put back everything that write took."""

    #: False: every write goes through h5py (HDF5 filters the chunks): the reference the
    #: benchmarks compare with.
    store_directly: ClassVar[bool] = True

    def __init__(self) -> None:
        self._rows: dict[str, list[np.ndarray]] = {}
        self._direct: list[Write] = []
        self._targets: dict[str, _Target] = {}  # a rescue file brings new dataset objects
        #: Chunks filtered here and stored directly, and row blocks written through h5py.
        self.direct_chunks = 0
        self.h5py_writes = 0
        #: Time spent filtering chunks outside HDF5 (mostly with the interpreter lock released), ns.
        self.filter_ns = 0

    def snapshot(self) -> tuple[dict[str, list[np.ndarray]], list[Write]]:
        return {path: list(parts) for path, parts in self._rows.items()}, list(self._direct)

    def restore(self, snapshot: tuple[dict[str, list[np.ndarray]], list[Write]]) -> None:
        """Back to the snapshot, keeping whatever was added since (nothing is added during a write)."""
        self._rows, self._direct = snapshot
        self._targets.clear()  # a failed write may have left any extent: ask HDF5 again

    def set_later(self, write: Write) -> None:
        """A small in-place write (calibration, clock origin), done with the next rows."""
        self._direct.append(write)

    def add(self, path: str, rows: np.ndarray) -> None:
        self._rows.setdefault(path, []).append(rows)

    def _target(self, path: str, dataset: h5py.Dataset) -> _Target:
        target = self._targets.get(path)
        if target is None or target.dataset is not dataset:
            compressed = dataset.compression is not None
            pipeline = pipeline_of(dataset) if compressed and self.store_directly else None
            chunk_rows = int(dataset.chunks[0]) if compressed else None
            rows, *row_shape = dataset.shape
            target = _Target(dataset, chunk_rows, pipeline, int(rows), tuple(row_shape))
            self._targets[path] = target
        return target

    def write_to(self, datasets: Datasets, final: bool = False) -> dict[str, int]:
        """Append what is ready; returns the rows appended per dataset path."""
        for write in self._direct:
            write(datasets)
        self._direct = []
        written: dict[str, int] = {}
        for path, parts in self._rows.items():
            if not parts:
                continue
            rows = np.concatenate(parts) if len(parts) > 1 else parts[0]
            target = self._target(path, datasets[path])
            n = whole = len(rows)
            if target.chunk_rows is not None:
                whole = n - n % target.chunk_rows
                if not final:
                    n = whole
            self._append(target, rows[:whole], rows[whole:n])
            self._rows[path] = [rows[n:]] if n < len(rows) else []
            written[path] = n
        return written

    def _append(self, target: _Target, whole: np.ndarray, rest: np.ndarray) -> None:
        """Append `whole` (whole chunks of a compressed dataset, or any rows of another), then
        `rest` (the last partial chunk, on close) through h5py."""
        pipeline = target.pipeline
        if (
            len(whole)
            and pipeline is not None
            and target.rows % pipeline.chunk_rows == 0
            and np.can_cast(whole.dtype, pipeline.dtype, "safe")
        ):
            began = time.perf_counter_ns()
            chunks = encode_chunks(pipeline, np.asarray(whole, dtype=pipeline.dtype))
            self.filter_ns += time.perf_counter_ns() - began
            start = target.extend(len(whole))
            tail = (0,) * len(pipeline.row_shape)
            store = target.dataset.id.write_direct_chunk
            for k, chunk in enumerate(chunks):
                store((start + k * pipeline.chunk_rows, *tail), chunk, filter_mask=0)
            self.direct_chunks += len(chunks)
            whole = whole[:0]
        for rows in (whole, rest):
            if len(rows):
                start = target.extend(len(rows))
                target.dataset[start:] = rows
                self.h5py_writes += 1
