"""The chunk policy: rows wait in memory per dataset, and a compressed dataset is appended whole
chunks only until the final write, so no compressed chunk is ever rewritten (rewriting one
reallocates it and bloated live files 10x).

Whole chunks of a dataset whose filters `recordings.chunk_filters` makes are filtered in Python
(deflate releases the interpreter lock) and stored as they are with `write_direct_chunk`: the
HDF5 calls left (a resize, one store per chunk) hold the lock for microseconds instead of the
whole compression. Any other dataset, and the last partial chunk written on close, go through
h5py as before; the bytes in the file are the same either way."""

from __future__ import annotations

import time
from collections.abc import Callable
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


def append_chunks(dataset: h5py.Dataset, pipeline: Pipeline, chunks: list[bytes], start: int) -> None:
    """Append filtered chunks (`chunk_filters.encode_chunks`) at `start`, the end of `dataset` and
    a chunk boundary, storing them as they are."""
    if not chunks:
        return
    dataset.resize(start + len(chunks) * pipeline.chunk_rows, axis=0)
    tail = (0,) * len(pipeline.row_shape)
    store = dataset.id.write_direct_chunk
    for k, chunk in enumerate(chunks):
        store((start + k * pipeline.chunk_rows, *tail), chunk, filter_mask=0)


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
        # Per dataset path: the dataset object it was worked out for, and its pipeline (None:
        # written through h5py). A rescue file brings new dataset objects.
        self._pipelines: dict[str, tuple[h5py.Dataset, Pipeline | None]] = {}
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

    def set_later(self, write: Write) -> None:
        """A small in-place write (calibration, clock origin), done with the next rows."""
        self._direct.append(write)

    def add(self, path: str, rows: np.ndarray) -> None:
        self._rows.setdefault(path, []).append(rows)

    def pipeline(self, path: str, dataset: h5py.Dataset) -> Pipeline | None:
        """The filters of `dataset` (at `path`) if its whole chunks are stored directly."""
        known = self._pipelines.get(path)
        if known is None or known[0] is not dataset:
            direct = self.store_directly and dataset.compression is not None
            known = (dataset, pipeline_of(dataset) if direct else None)
            self._pipelines[path] = known
        return known[1]

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
            dataset = datasets[path]
            n = len(rows)
            whole = n
            if dataset.compression is not None:
                whole = n - n % dataset.chunks[0]
                if not final:
                    n = whole
            self._append(path, dataset, rows[:whole], rows[whole:n])
            self._rows[path] = [rows[n:]] if n < len(rows) else []
            written[path] = n
        return written

    def _append(self, path: str, dataset: h5py.Dataset, whole: np.ndarray, rest: np.ndarray) -> None:
        """Append `whole` (whole chunks of a compressed dataset, or any rows of another), then
        `rest` (the last partial chunk, on close) through h5py."""
        if len(whole):
            pipeline = self.pipeline(path, dataset)
            start = dataset.shape[0]
            if (
                pipeline is not None
                and start % pipeline.chunk_rows == 0
                and np.can_cast(whole.dtype, pipeline.dtype, "safe")
            ):
                began = time.perf_counter_ns()
                chunks = encode_chunks(pipeline, np.asarray(whole, dtype=pipeline.dtype))
                self.filter_ns += time.perf_counter_ns() - began
                append_chunks(dataset, pipeline, chunks, start)
                self.direct_chunks += len(chunks)
            else:
                append_rows(dataset, whole)
                self.h5py_writes += 1
        if len(rest):
            append_rows(dataset, rest)
            self.h5py_writes += 1
