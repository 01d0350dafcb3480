"""Long columns of a session file read straight from its chunks, inflated on both cores.

h5py reads a chunked dataset chunk by chunk under its global lock: for the 100-row chunks the
writer makes, most of the time goes to HDF5's per-chunk work, not to inflating. Where a
dataset's filter pipeline is exactly what this module undoes (deflate, optionally after shuffle,
optionally followed by fletcher32; `recordings.chunk_filters` knows the pipeline both ways, and
the writer makes the chunks with it), `ChunkColumn` finds every chunk's place in the file once
(HDF5's own chunk index, `chunk_iter`), reads the compressed bytes through a memory map, inflates
them with `zlib` (which releases the GIL, so two threads inflate at once) and undoes the shuffle
with numpy. The rows equal h5py's bit for bit (`tests/recordings/test_chunk_columns.py`).

Integrity: every chunk's deflate stream carries zlib's Adler-32 of the inflated bytes, which
`zlib` checks, so a damaged chunk is an error here as in h5py (`ChunkReadError`, an OSError like
h5py's). The fletcher32 checksum of the compressed bytes is not recomputed: a chunk whose content
inflates whole and checks is read even if only its stored fletcher32 word was damaged.

Anything else (other filters, a file with a user block, chunks missing, stored unfiltered, of
another size, an HDF5 without `chunk_iter`) is not handled: `chunk_columns` gives None and the
caller reads with h5py.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import threading
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from recordings.chunk_filters import pipeline_of, unshuffle
from sensors.errors import StabmonError

log = logging.getLogger(__name__)

_PAGE = mmap.PAGESIZE

#: One worker besides the calling thread: the machine this is made for has two cores. A forked
#: child (which runs beside its parent) inflates on its own thread only. The worker's name is in
#: `sensors.processing.batch_frames.FORK_SAFE_THREADS`.
_POOL: ThreadPoolExecutor | None = None
_THREADED = True


def _pool() -> ThreadPoolExecutor | None:
    global _POOL
    if _POOL is None and _THREADED:
        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inflate")
    return _POOL


def _after_fork_in_child() -> None:
    global _POOL, _THREADED
    _POOL, _THREADED = None, False  # the parent's worker thread does not exist here


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class ChunkReadError(StabmonError, OSError):
    """A chunk that does not inflate to a whole chunk (damaged file); an OSError like h5py's."""


class ChunkColumn:
    """Rows of one 1-D-chunked dataset (`column[a:b]` as `dataset[a:b]`), read from the file's
    memory map `mapped` (safe to read in a forked child: no HDF5 call). `offsets`, `sizes` (c,)
    int64: each chunk's place and stored size;
    `trailer`: bytes of checksum stored after each deflate stream."""

    fork_safe = True

    def __init__(
        self,
        dataset: h5py.Dataset,
        mapped: mmap.mmap,
        offsets: np.ndarray,
        sizes: np.ndarray,
        shuffled: bool,
        trailer: int,
    ) -> None:
        self.name = dataset.name
        self.shape: tuple[int, ...] = dataset.shape
        self.dtype = dataset.dtype
        self.ndim = dataset.ndim
        self.chunk_rows = int(dataset.chunks[0])
        self._row_items = int(np.prod(self.shape[1:], dtype=np.int64))
        self._chunk_bytes = self.chunk_rows * self._row_items * self.dtype.itemsize
        self._mapped = mapped
        self._view = memoryview(mapped)
        self._offsets = offsets
        self._sizes = sizes
        self._streams = sizes - trailer  # the deflate stream without the checksum after it
        self._shuffled = shuffled
        self._cache: np.ndarray | None = None  # the first rows, inflated ahead (`Prefetch`)
        self._cached_rows = 0
        self._whole_ready: threading.Event | None = None  # set once `InflateWhole` has it

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: slice) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError(f"{self.name}: only row ranges can be read, not {key!r}")
        start, stop, _ = key.indices(self.shape[0])
        stop = max(stop, start)
        if stop == start:
            return np.empty((0, *self.shape[1:]), dtype=self.dtype)
        ready = self._whole_ready
        if ready is not None:  # another thread is inflating the whole column: take its rows
            ready.wait()
        cache, cached = self._cache, self._cached_rows
        if cache is not None and stop <= cached:
            rows = cache[start:stop]
            rows.flags.writeable = False  # like the rows inflated from bytes
            return rows
        first, last = start // self.chunk_rows, (stop - 1) // self.chunk_rows + 1
        rows = self._inflate(first, last)
        a = start - first * self.chunk_rows
        return rows[a : a + stop - start]

    @property
    def cached_rows(self) -> int:
        """Rows [0, cached_rows) held in memory (inflated ahead): reading them costs nothing."""
        ready = self._whole_ready
        if ready is not None:
            ready.wait()
        return self._cached_rows

    def drop_cache(self) -> None:
        """Forget the rows inflated ahead (they are read from the chunks again if asked for)."""
        self._cache, self._cached_rows = None, 0

    def _inflate(self, first: int, last: int) -> np.ndarray:
        """Chunks [first, last) as rows ((last - first) * chunk_rows, ...)."""
        count = last - first
        middle = first + count // 2
        pool = _pool() if count > 8 else None
        other = pool.submit(self._inflate_raw, middle, last) if pool is not None else None
        parts = self._inflate_raw(first, middle if other is not None else last)
        if other is not None:
            parts += other.result()
        return self._rows_of(parts, first, last)

    def _inflate_serial(self, first: int, last: int) -> np.ndarray:
        """`_inflate` on the calling thread alone."""
        return self._rows_of(self._inflate_raw(first, last), first, last)

    def _rows_of(self, parts: list[bytes], first: int, last: int) -> np.ndarray:
        """The rows of inflated chunks [first, last)."""
        count = last - first
        self._release(first, last)
        raw = np.frombuffer(b"".join(parts), dtype=np.uint8)
        item = self.dtype.itemsize
        if self._shuffled and item > 1:
            raw = unshuffle(raw, count, item).copy()
        return raw.view(self.dtype).reshape(count * self.chunk_rows, *self.shape[1:])

    def _inflate_raw(self, first: int, last: int) -> list[bytes]:
        """The inflated bytes of chunks [first, last), each checked to be a whole chunk (inflated
        into a buffer of a whole chunk's size: 10-20 % faster than zlib's default 16 KiB buffer
        cut down after)."""
        view, size = self._view, self._chunk_bytes
        out = []
        try:
            for offset, stored in zip(
                self._offsets[first:last].tolist(), self._streams[first:last].tolist(), strict=True
            ):
                out.append(zlib.decompress(view[offset : offset + stored], bufsize=size))
        except zlib.error as error:
            raise ChunkReadError(
                f"{self.name}: {self._rows_text(first + len(out))}: a chunk does not inflate ({error})"
            ) from None
        wrong = [k for k, chunk in enumerate(out) if len(chunk) != size]
        if wrong:
            raise ChunkReadError(
                f"{self.name}: {self._rows_text(first + wrong[0])}: a chunk inflates to the wrong size"
            )
        return out

    def _rows_text(self, chunk: int) -> str:
        """'rows a–b' of chunk number `chunk` (the last row included)."""
        a = chunk * self.chunk_rows
        return f"rows {a}–{min(a + self.chunk_rows, self.shape[0]) - 1}"

    def _release(self, first: int, last: int) -> None:
        """Drop the pages just read from this process's resident memory (they stay in the page
        cache): a long file read through the map would otherwise count wholly in its RSS."""
        start = int(self._offsets[first:last].min()) // _PAGE * _PAGE
        stop = int((self._offsets[first:last] + self._sizes[first:last]).max())
        with contextlib.suppress(AttributeError, OSError, ValueError):  # no madvise: only RSS grows
            self._mapped.madvise(mmap.MADV_DONTNEED, start, stop - start)


def _layout(dataset: h5py.Dataset) -> tuple[bool, int] | None:
    """(whether the chunks are shuffled, bytes of checksum after each chunk's deflate stream),
    or None when the dataset is not one this module reads."""
    pipeline = pipeline_of(dataset, kinds="iuf")
    return None if pipeline is None else (pipeline.shuffled, pipeline.trailer)


def _chunk_table(dataset: h5py.Dataset) -> tuple[np.ndarray, np.ndarray] | None:
    """(offsets, sizes) of every chunk in row order, or None unless each is stored and filtered."""
    expected = -(-dataset.shape[0] // dataset.chunks[0])
    found: list[tuple[int, int, int, int]] = []
    dataset.id.chunk_iter(lambda s: found.append((s.chunk_offset[0], s.byte_offset, s.size, s.filter_mask)))
    if len(found) < expected:
        return None
    table = np.array(found, dtype=np.int64).reshape(-1, 4)
    table = table[np.argsort(table[:, 0], kind="stable")][:expected]
    if not (
        np.array_equal(table[:, 0], np.arange(expected) * dataset.chunks[0]) and (table[:, 3] == 0).all()
    ):
        return None
    return table[:, 1].copy(), table[:, 2].copy()


def chunk_columns(path: Path, datasets: Mapping[Any, h5py.Dataset]) -> dict[Any, ChunkColumn] | None:
    """The datasets (all of one file, opened from `path`) as `ChunkColumn`s, or None when any of
    them is not one this module reads (then read them with h5py)."""
    if not datasets:
        return None
    files = {ds.file.id.fileno for ds in datasets.values()}
    f = next(iter(datasets.values())).file
    if len(files) != 1 or f.driver != "sec2" or f.userblock_size != 0:
        return None
    try:
        layouts = {key: _layout(ds) for key, ds in datasets.items()}
        if any(layout is None for layout in layouts.values()):
            return None
        tables = {key: _chunk_table(ds) for key, ds in datasets.items()}
    except (AttributeError, OSError, RuntimeError, ValueError) as error:  # an HDF5 without chunk_iter
        log.debug("%s: chunk index not readable (%s); reading with h5py", path, error)
        return None
    if any(table is None for table in tables.values()):
        return None
    with open(path, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    size = len(mapped)
    for table in tables.values():
        assert table is not None
        if len(table[0]) and int((table[0] + table[1]).max()) > size:
            return None  # the index points past the end: damaged (h5py says how)
    return {
        key: ChunkColumn(ds, mapped, *tables[key], *layouts[key])  # type: ignore[misc]
        for key, ds in datasets.items()
    }


class Prefetch:
    """The first rows of some columns inflated ahead on a thread of their own at low priority
    (nice +10: mostly a core that would otherwise be idle), up to `max_bytes` in all, until
    `stop()`. Reading the columns gives the same rows either way; rows inflated ahead cost no
    inflating later (in a forked child too: it inherits them). Not idle priority (SCHED_IDLE):
    the thread holds the GIL between chunks, and a thread that never gets a busy core would
    then hold up the one that waits for the GIL."""

    #: Chunks inflated between two looks at the stop flag.
    BATCH_CHUNKS = 64

    def __init__(self, columns: list[ChunkColumn], max_bytes: int) -> None:
        self.columns = columns
        self._stop = threading.Event()
        self._max_bytes = max_bytes
        self._thread = threading.Thread(target=self._run, name="inflate-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(AttributeError, OSError):  # not Linux: an ordinary thread
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)  # this thread only
        share = self._max_bytes // max(len(self.columns), 1)
        caches = []
        for column in self.columns:
            chunks = min(share // max(column._chunk_bytes, 1), len(column._offsets))
            rows = min(chunks * column.chunk_rows, column.shape[0])
            caches.append((column, np.empty((rows, *column.shape[1:]), column.dtype), chunks))
        done = 0
        try:
            while not self._stop.is_set():  # the columns side by side, so each is ahead as far in time
                progressed = False
                for column, cache, chunks in caches:
                    last = min(done + self.BATCH_CHUNKS, chunks)
                    if last <= done:
                        continue
                    rows = column._inflate_serial(done, last)
                    a, z = done * column.chunk_rows, min(last * column.chunk_rows, len(cache))
                    cache[a:z] = rows[: z - a]
                    column._cache, column._cached_rows = cache, z
                    progressed = True
                if not progressed:
                    return
                done += self.BATCH_CHUNKS
        except (ChunkReadError, OSError, ValueError):  # a damaged chunk: the reader says so itself
            return

    def stop(self) -> None:
        """Stop inflating ahead and wait for the thread (before a fork, or reading the rows)."""
        self._stop.set()
        self._thread.join()


class InflateWhole:
    """Whole columns inflated on a thread of their own, at normal priority, while the caller
    does other work (a replay reads the file's metadata meanwhile: mostly HDF5 calls, and zlib
    releases the GIL). A read of one of these columns waits until the thread has inflated it,
    then takes the rows from memory (`drop_cache` frees them); a column the thread could not
    inflate (a damaged chunk) is read as usual, and that read says what is wrong. The thread's
    name is in `sensors.processing.batch_frames.FORK_SAFE_THREADS`."""

    def __init__(self, columns: list[ChunkColumn]) -> None:
        self.columns = columns
        self._stop = threading.Event()
        for column in columns:
            column._whole_ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inflate-whole", daemon=True)
        self._thread.start()

    #: Chunks inflated at a time (the inflated bytes of one batch are this thread's only
    #: temporaries: its heap does not grow with the column).
    BATCH_CHUNKS = 64

    def _run(self) -> None:
        for column in self.columns:
            try:
                if not self._stop.is_set():
                    column._cache = self._inflated(column)
                    column._cached_rows = column.shape[0]
            except (ChunkReadError, OSError, ValueError):  # the reader says what is wrong
                column._cache = None
            finally:
                ready, column._whole_ready = column._whole_ready, None
                if ready is not None:
                    ready.set()

    def _inflated(self, column: ChunkColumn) -> np.ndarray:
        """All of the column's rows, inflated a batch of chunks at a time."""
        rows = np.empty(column.shape, dtype=column.dtype)
        chunks, step = len(column._offsets), column.chunk_rows
        for first in range(0, chunks, self.BATCH_CHUNKS):
            last = min(first + self.BATCH_CHUNKS, chunks)
            a, z = first * step, min(last * step, len(rows))
            rows[a:z] = column._inflate_serial(first, last)[: z - a]
        return rows

    def stop(self) -> None:
        """Stop after the column being inflated and wait for the thread; reads go to the file."""
        self._stop.set()
        self._thread.join()
