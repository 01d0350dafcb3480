"""A closed session file's columns rewritten once in large chunks: the same data, read far faster.

The writer stores a chunk per `file_layout.CHUNK_S` (0.5 s) of every column, so that a crash loses
little of a live file; a 1-h two-sensor 200 Hz file then holds ~100 000 chunks, and reading pays
per chunk (HDF5's chunk index walked from Python, one `zlib` call and its bookkeeping each): about
a quarter of `stabmon analyze`'s CPU. Once the file is closed, those small chunks protect nothing.

`consolidate` rewrites a closed file with chunks of `CHUNK_S` (at each group's own sample rate: a
sensor's raw columns at the rate its device clock shows, the frames at the session's rate) in
every compressed column chunked by rows whose chunks are at most half as long (same dtype, shape,
growable axis, filters and checksums: standard deflate, readable by any HDF5 1.10+ and by older
stabmon), copies everything else as it is, checks that every dataset and attribute of the copy is
byte for byte what the original holds (the copy read by HDF5, the original's columns by
`chunk_columns`' own decoder: two decoders agree) and that the copy opens as a recording, makes the copy
durable (fsync) and only then puts it in place of the original, atomically (`os.replace`). Any
failure leaves the original untouched and removes the copy; a copy left by a consolidation that
was killed is removed before the file is consolidated again and whenever the library is listed
(`recordings.stale_copies`). A disk without room for the copy plus MIN_FREE_AFTER_BYTES is not
written at all (the file is left as it is, and the error says why). A file left open by a crash is refused
(`stabmon recover` first); a file already consolidated is left as it is.

Where it runs: once, right after a recording is closed (the live file's crash-loss window is not
changed: only the closed file is rewritten), or on older files by hand.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import h5py
import numpy as np

from recordings import schema
from recordings.chunk_columns import ChunkColumn, chunk_columns
from recordings.chunk_damage import refuse_damaged
from recordings.chunk_filters import Pipeline, encode_chunks, pipeline_of
from recordings.disk_room import MIN_FREE_BYTES, free_bytes
from recordings.errors import RecordingError, RecordingNotFoundError
from recordings.file_access import check_schema, open_recording_file, root_attributes
from recordings.reader import read_recording
from recordings.recovery import needs_recovery
from recordings.repack import COPY_ROWS, _copy_attributes, _same, storage_options
from recordings.stale_copies import FRESH_SUFFIX, sweep
from recordings.write_lock import WriteLock, being_recorded

log = logging.getLogger(__name__)

#: Seconds of data a consolidated chunk holds (the writer's: 0.5 s). The 1-h 200 Hz `analyze`
#: (benchmarks/RESULTS.md, "Offline analysis, session 7"): 5-s and 20-s chunks both cut its CPU by
#: a quarter; longer chunks waste more inflating at a read's edges.
CHUNK_S = 10.0
#: Only columns of at least this many consolidated chunks are rewritten: a short file (under
#: 40 s at the default) costs little to read whatever its chunks, and is left as it is.
MIN_CHUNKS = 4
#: Free disk space (bytes) a consolidation leaves at least, beyond its copy (up to the file's
#: size): what a recording's writer needs free to go on writing (`writer.MIN_FREE_BYTES`).
MIN_FREE_AFTER_BYTES = MIN_FREE_BYTES
#: What a damaged file is refused (`chunk_damage.refuse_damaged`).
REFUSED = "cannot consolidate a damaged file, it is left as it is"


@dataclass(frozen=True)
class Consolidated:
    """What `consolidate` did: the file, its size before and after (bytes), and the number of
    stored chunks before and after (all datasets); `rewritten` False when nothing was to gain."""

    path: Path
    bytes_before: int
    bytes_after: int
    chunks_before: int
    chunks_after: int
    rewritten: bool


def consolidate(path: Path | str, chunk_s: float = CHUNK_S) -> Consolidated:
    """Rewrite the closed recording `path` in place with chunks of `chunk_s` (see the module's
    docstring). Raises RecordingError (every file left as it was) when it cannot."""
    path = Path(path)
    if not path.exists():
        raise RecordingNotFoundError(path, "no such file")
    if being_recorded(path):
        raise RecordingError(
            path, "a session is recording into this file now: consolidate it once it is closed"
        )
    if needs_recovery(path):
        raise RecordingError(
            path,
            "the file was left open (by a crash, or by a session recording it where files cannot be "
            "locked): once no session writes it, `stabmon recover` repairs it first",
        )
    sweep(path.parent, path.name)
    before = path.stat().st_size
    fresh: Path | None = None
    lock: WriteLock | None = None
    try:
        with open_recording_file(path) as source:
            check_schema(path, root_attributes(path, source))
            chunks_before = _chunk_count(source)
            unchanged = Consolidated(path, before, before, chunks_before, chunks_before, rewritten=False)
            if not _grown_chunks(source, None):  # nothing long enough, at any rate: no need to read it
                refuse_damaged(path, source, REFUSED)  # (reading a short file costs little)
                return unchanged
            rate_hz = read_recording(path, derived=False, raw=False).settings.rate_hz
            rows = _rows_per_group(source, chunk_s, rate_hz)
            if not _grown_chunks(source, rows):
                refuse_damaged(path, source, REFUSED)
                return unchanged
            _check_room(path, before)
            fresh, lock = _fresh_copy(path)
            with h5py.File(fresh, "w", libver=schema.FILE_FORMAT) as copy:
                _copy_attributes(source, copy)
                _copy_group(path, source, copy, rows)
            with h5py.File(fresh, "r") as copy:
                _check_copy(path, source, copy)
                chunks_after = _chunk_count(copy)
        read_recording(fresh, derived=False, raw=False)  # opens as a recording (the bytes are checked)
        shutil.copymode(path, fresh)
        _sync(fresh)
    except RecordingError:
        _remove(fresh, lock)
        raise
    except Exception as error:  # a full or read-only disk, a copy another program spoiled…
        _remove(fresh, lock)
        if isinstance(error, OSError) and path.is_file():  # a damaged chunk? say which, and when
            with open_recording_file(path) as source:
                refuse_damaged(path, source, REFUSED)
        raise RecordingError(path, f"cannot consolidate: {error}") from None
    except BaseException:
        _remove(fresh, lock)
        raise
    assert fresh is not None and lock is not None  # every way here made the copy
    try:
        os.replace(fresh, path)
    except OSError as error:  # e.g. the file open in another program on Windows
        _remove(fresh, lock)
        raise RecordingError(path, f"cannot consolidate: the file cannot be replaced ({error})") from None
    lock.release()
    _sync(path.parent)
    after = path.stat().st_size
    log.info(
        "consolidated %s: %d → %d chunks, %.1f → %.1f MB",
        path.name,
        chunks_before,
        chunks_after,
        before / 1e6,
        after / 1e6,
    )
    return Consolidated(path, before, after, chunks_before, chunks_after, rewritten=True)


def _check_room(path: Path, size: int) -> None:
    """Raise RecordingError (nothing written) unless the disk has room for a copy of `size` bytes
    (a copy is never larger than its original's data) and MIN_FREE_AFTER_BYTES more: a copy
    that failed for lack of space would first have filled the disk to zero."""
    try:
        free = free_bytes(path.parent)
    except OSError:
        return  # cannot tell: the copy fails cleanly if there is no room
    needed = size + MIN_FREE_AFTER_BYTES
    if free < needed:
        raise RecordingError(
            path,
            f"not enough free space to consolidate: {free / 1e6:.1f} MB free, {needed / 1e6:.1f} MB "
            f"needed (the copy, and {MIN_FREE_AFTER_BYTES // 2**20} MB left free for recordings); "
            "the file is left as it is",
        )


def _fresh_copy(path: Path) -> tuple[Path, WriteLock]:
    """A new, unique, empty copy beside `path` (two consolidations of one file at once each write
    their own), ending in FRESH_SUFFIX, and its write lock, taken before the copy exists: a copy
    nobody holds the lock of is stale (`recordings.stale_copies`)."""
    while True:
        fresh = path.with_name(f"{path.name}.{secrets.token_hex(4)}{FRESH_SUFFIX}")
        try:
            lock = WriteLock(fresh)
        except RecordingError:
            continue  # that name's lock is held: another one
        try:
            os.close(os.open(fresh, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            lock.release()
            continue
        except OSError:
            lock.release()
            raise
        return fresh, lock


def _remove(fresh: Path | None, lock: WriteLock | None) -> None:
    """Remove the copy, if any, then its lock; a folder that refuses (read-only) leaves it, and
    the original stays as it was either way."""
    if fresh is not None:
        with contextlib.suppress(OSError):
            fresh.unlink(missing_ok=True)
    if lock is not None:
        lock.release()


def consolidated_chunks(dataset: h5py.Dataset, rows: int | None) -> tuple[int, ...] | None:
    """The chunk shape `consolidate` gives the dataset (chunks of `rows` rows), or None when it
    keeps its own: only compressed columns chunked by whole rows (`chunk_filters.pipeline_of`)
    whose chunks are at most half as long and that hold at least MIN_CHUNKS new chunks. rows
    None: whether some `rows` could give it new chunks (at least twice its own)."""
    chunks = dataset.chunks
    if chunks is None or not dataset.shape:
        return None
    wanted = 2 * chunks[0] if rows is None else rows
    if 2 * chunks[0] > wanted or dataset.shape[0] < MIN_CHUNKS * wanted or pipeline_of(dataset) is None:
        return None
    return (wanted, *chunks[1:])


def _rows_per_group(f: h5py.File, chunk_s: float, rate_hz: float) -> dict[str, int]:
    """Rows in `chunk_s` of each group's data, by the group's own rate: a sensor's raw columns
    at the rate its device clock shows (a Movella DOT streams 60 Hz in a 100-Hz session), every
    other group (`""`: the default) at the session's frame rate `rate_hz` (Hz)."""
    rows = {"": max(1, round(chunk_s * rate_hz))}
    acquisition = f.get(schema.ACQUISITION)
    if not isinstance(acquisition, h5py.Group):
        return rows
    for group in acquisition.values():
        times = group.get("device_time_s") if isinstance(group, h5py.Group) else None
        if isinstance(times, h5py.Dataset) and times.ndim == 1 and times.shape[0] > 2:
            sensor_hz = _sample_rate_hz(np.asarray(times[()], dtype=np.float64))
            if sensor_hz is not None:
                rows[group.name] = max(1, round(chunk_s * sensor_hz))
    return rows


def _sample_rate_hz(device_time_s: np.ndarray) -> float | None:
    """A sensor's sample rate (Hz) from its device times (n,) s: one over the median step between
    samples (robust to gaps and clock jumps); None when the times give none."""
    steps = np.diff(device_time_s)
    steps = steps[np.isfinite(steps) & (steps > 0)]
    if len(steps) == 0:
        return None
    rate = 1.0 / float(np.median(steps))
    return rate if np.isfinite(rate) and rate > 0 else None


def _group_rows(rows: Mapping[str, int], dataset: h5py.Dataset) -> int:
    return rows.get(dataset.parent.name, rows[""])


def _grown_chunks(group: h5py.Group, rows: Mapping[str, int] | None) -> bool:
    """Any dataset under `group` that consolidating would re-chunk (rows: per group, see
    `_rows_per_group`; None: whether any chunk length would)."""
    found: list[str] = []

    def visit(name: str, item: h5py.HLObject) -> None:
        if not isinstance(item, h5py.Dataset):
            return
        if consolidated_chunks(item, None if rows is None else _group_rows(rows, item)) is not None:
            found.append(name)

    group.visititems(visit)
    return bool(found)


def _chunk_count(group: h5py.Group) -> int:
    """Stored chunks of every chunked dataset under `group`."""
    counts: list[int] = []

    def visit(_: str, item: h5py.HLObject) -> None:
        if isinstance(item, h5py.Dataset) and item.chunks is not None:
            counts.append(item.id.get_num_chunks())

    group.visititems(visit)
    return sum(counts)


def _copy_group(path: Path, source: h5py.Group, target: h5py.Group, rows: Mapping[str, int]) -> None:
    for name, item in list(source.items()):  # (h5py holds its lock while iterating items)
        if isinstance(item, h5py.Group):
            child = target.create_group(name)
            _copy_attributes(item, child)
            _copy_group(path, item, child, rows)
            continue
        options = storage_options(item, consolidated_chunks(item, _group_rows(rows, item)))
        dataset = target.create_dataset(name, shape=item.shape, dtype=item.dtype, **options)
        _copy_attributes(item, dataset)
        if item.shape == ():
            dataset[()] = item[()]
            continue
        original = _rows_of(path, item)
        pipeline = pipeline_of(dataset)
        whole = 0
        if pipeline is not None:  # whole chunks filtered here, on both cores, and stored as they are
            whole = item.shape[0] // pipeline.chunk_rows * pipeline.chunk_rows
            _store_chunks(dataset, pipeline, _encoded(original, pipeline, whole, _copy_rows(dataset)))
        step = _copy_rows(dataset)
        for start in range(whole, item.shape[0], step):  # the rest (all of it, unfiltered) by h5py
            part = slice(start, min(start + step, item.shape[0]))
            dataset[part] = original[part]


def _encoded(
    original: h5py.Dataset | ChunkColumn, pipeline: Pipeline, whole: int, step: int
) -> Iterator[tuple[int, list[bytes]]]:
    """(first row, stored bytes of each chunk) of rows [0, whole) of `original`, `step` rows at a
    time, filtered on a second thread one step ahead of the caller."""

    def encode(start: int) -> tuple[int, list[bytes]]:
        rows = np.asarray(original[start : min(start + step, whole)], dtype=pipeline.dtype)
        return start, encode_chunks(pipeline, rows)

    starts = iter(range(0, whole, step))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="consolidate") as pool:
        pending = [pool.submit(encode, start) for start in islice(starts, 2)]
        while pending:
            done = pending.pop(0).result()
            following = next(starts, None)
            if following is not None:
                pending.append(pool.submit(encode, following))
            yield done


def _store_chunks(
    dataset: h5py.Dataset, pipeline: Pipeline, parts: Iterator[tuple[int, list[bytes]]]
) -> None:
    """Store filtered chunks as they are (`write_direct_chunk`: the bytes HDF5's filters make)."""
    tail = (0,) * len(pipeline.row_shape)
    store = dataset.id.write_direct_chunk
    for start, chunks in parts:
        for k, chunk in enumerate(chunks):
            store((start + k * pipeline.chunk_rows, *tail), chunk, filter_mask=0)


def _rows_of(path: Path, dataset: h5py.Dataset) -> h5py.Dataset | ChunkColumn:
    """The dataset's rows read straight from its chunks where `chunk_columns` can (many times
    faster than h5py for the writer's small chunks), else through h5py."""
    if dataset.chunks is None or dataset.shape[0] == 0:
        return dataset
    columns = chunk_columns(path, {"rows": dataset})
    return dataset if columns is None else columns["rows"]


def _check_copy(path: Path, source: h5py.Group, copy: h5py.Group) -> None:
    """Raise RecordingError unless the copy holds the same members, attributes and bytes: the
    copy's rows as HDF5 reads them, the original's as `_rows_of` does."""
    where = Path(copy.file.filename)
    if set(source) != set(copy) or set(source.attrs) != set(copy.attrs):
        raise RecordingError(where, f"the copy of {source.name} differs in its members or attributes")
    if not all(_same(source.attrs[a], copy.attrs[a]) for a in source.attrs):
        raise RecordingError(where, f"the attributes of {source.name} differ in the copy")
    for name, item in list(source.items()):  # (h5py holds its lock while iterating items)
        twin = copy[name]
        if isinstance(item, h5py.Group):
            _check_copy(path, item, twin)
            continue
        if isinstance(twin, h5py.Group) or item.shape != twin.shape or item.dtype != twin.dtype:
            raise RecordingError(where, f"{item.name} differs in shape or type in the copy")
        if set(item.attrs) != set(twin.attrs) or not all(
            _same(item.attrs[a], twin.attrs[a]) for a in item.attrs
        ):
            raise RecordingError(where, f"the attributes of {item.name} differ in the copy")
        if item.shape == ():
            same = _same(item[()], twin[()])
        else:
            original, step = _rows_of(path, item), _copy_rows(twin)
            same = all(
                _same(original[a : a + step], twin[a : a + step]) for a in range(0, item.shape[0], step)
            )
        if not same:
            raise RecordingError(where, f"{item.name} differs in the copy")


def _copy_rows(dataset: h5py.Dataset) -> int:
    """Rows written at a time: whole chunks of the copy (no chunk written twice), about COPY_ROWS."""
    if dataset.chunks is None:
        return COPY_ROWS
    rows = dataset.chunks[0]
    return rows * max(1, COPY_ROWS // rows)


def _sync(path: Path) -> None:
    """Make a file (or a folder's entries) durable; a folder that cannot be opened (Windows) is skipped."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
