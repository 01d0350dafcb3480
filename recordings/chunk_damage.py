"""Chunks of a session file that cannot be read (a bit flipped on disk, a damaged copy): found,
named with their dataset, rows and session time, and read around.

HDF5 refuses a whole read when one chunk fails its Fletcher-32 checksum or does not inflate
("filter returned failure during read"), so one damaged 0.5-s chunk would make every row of
the dataset unreachable. `read_around_damage` reads the dataset whole when it can (the usual
case: no cost) and otherwise chunk by chunk. A chunk HDF5 refuses is decoded here once more
from its stored bytes: when only its checksum word is damaged, the content still inflates
whole and passes zlib's own Adler-32 check of the inflated bytes, so its rows are kept; else
its rows are damaged, filled (NaN, or 0 for integers) and listed. The reader leaves a sensor's
damaged rows out as a gap (`recordings.load`); `recordings.chunk_recovery` writes a copy with
the gap flagged as a dropped-packet gap is.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from recordings.chunk_filters import pipeline_of, unshuffle
from recordings.errors import RecordingError

log = logging.getLogger(__name__)

#: Source of the `annotation` events by which `stabmon recover` notes a gap it made of a
#: damaged chunk (`recordings.chunk_recovery`); the reader lists them among a file's problems.
GAP_NOTE_SOURCE = "recovery"


@dataclass(frozen=True)
class DamagedRows:
    """Rows [start, stop) of the dataset `dataset` (its HDF5 path) that cannot be read; start_s
    and end_s bound them in session time (s; NaN when unknown): the last readable time before
    them and the first after, or the rows' own times when those were readable."""

    dataset: str
    start: int
    stop: int
    start_s: float = math.nan
    end_s: float = math.nan

    @property
    def rows(self) -> int:
        return self.stop - self.start

    def describe(self) -> str:
        """e.g. '/acquisition/lumbar/acc_m_s2 rows 2100–2149 (21.00–21.49 s) cannot be read'."""
        return f"{self.dataset} rows {self.start}–{self.stop - 1}{self.time_text()} cannot be read"

    def time_text(self) -> str:
        """' (21.00–21.49 s of the session)', or '' when the time is unknown."""
        a, b = self.start_s, self.end_s
        if math.isfinite(a) and math.isfinite(b):
            return f" ({a:.2f}–{b:.2f} s of the session)"
        if math.isfinite(a):
            return f" (after {a:.2f} s of the session)"
        if math.isfinite(b):
            return f" (before {b:.2f} s of the session)"
        return ""


def read_around_damage(dataset: h5py.Dataset, n: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Rows [0, n) of `dataset`, and the row ranges [a, b) of the chunks that cannot be read
    (filled with NaN, or 0 for integers). Raises OSError as h5py does when the dataset is not
    chunked (nothing to read around)."""
    try:
        return dataset[:n], []
    except OSError:
        if dataset.chunks is None:
            raise
    step = int(dataset.chunks[0])
    rows = np.zeros((n, *dataset.shape[1:]), dtype=dataset.dtype)
    if rows.dtype.kind == "f":
        rows[:] = np.nan
    bad: list[tuple[int, int]] = []
    for a in range(0, n, step):
        b = min(a + step, n)
        try:
            rows[a:b] = dataset[a:b]
            continue
        except OSError:
            pass
        content = _content_despite_checksum(dataset, a)
        if content is not None:
            log.warning(
                "%s rows %d–%d: checksum damaged, content whole (zlib's check)", dataset.name, a, b - 1
            )
            rows[a:b] = content[: b - a]
        elif bad and bad[-1][1] == a:
            bad[-1] = (bad[-1][0], b)
        else:
            bad.append((a, b))
    return rows, bad


def _content_despite_checksum(dataset: h5py.Dataset, first_row: int) -> np.ndarray | None:
    """The rows of the chunk starting at `first_row` decoded from its stored bytes, when it is
    a [shuffle+]deflate+fletcher32 chunk whose deflate stream inflates whole (zlib checks its
    Adler-32): only its stored checksum word can then be damaged. None otherwise."""
    pipeline = pipeline_of(dataset)
    if pipeline is None or not pipeline.checksummed:
        return None
    try:
        mask, stored = dataset.id.read_direct_chunk((first_row,) + (0,) * (dataset.ndim - 1))
        size = (
            pipeline.chunk_rows * int(np.prod(pipeline.row_shape, dtype=np.int64)) * pipeline.dtype.itemsize
        )
        raw = zlib.decompress(stored[: -pipeline.trailer], bufsize=size) if mask == 0 else b""
    except (OSError, RuntimeError, ValueError, zlib.error):
        return None
    if len(raw) != size:
        return None
    data = np.frombuffer(raw, dtype=np.uint8)
    if pipeline.shuffled and pipeline.dtype.itemsize > 1:
        data = unshuffle(data, 1, pipeline.dtype.itemsize).copy()
    return data.view(pipeline.dtype).reshape(pipeline.chunk_rows, *pipeline.row_shape)


def mark_times(
    dataset: str, ranges: Iterable[tuple[int, int]], session_time_s: np.ndarray | None
) -> list[DamagedRows]:
    """`DamagedRows` of `dataset` for each range, timed by `session_time_s` (n,) of the same rows
    (NaN where unreadable): the rows' own first and last time where readable, else the nearest
    readable times around them."""
    out = []
    for a, b in ranges:
        if session_time_s is None or not len(session_time_s):
            out.append(DamagedRows(dataset, a, b))
            continue
        t = session_time_s
        start = t[a] if a < len(t) and np.isfinite(t[a]) else _last_finite(t[:a])
        end = t[b - 1] if b - 1 < len(t) and np.isfinite(t[b - 1]) else _first_finite(t[b:])
        out.append(DamagedRows(dataset, a, b, float(start), float(end)))
    return out


def _last_finite(t: np.ndarray) -> float:
    finite = t[np.isfinite(t)]
    return float(finite[-1]) if len(finite) else math.nan


def _first_finite(t: np.ndarray) -> float:
    finite = t[np.isfinite(t)]
    return float(finite[0]) if len(finite) else math.nan


def damaged_datasets(f: h5py.File) -> list[DamagedRows]:
    """Every chunk of every dataset in the file that cannot be read (each dataset read whole,
    chunk by chunk only where that fails), timed by its group's `session_time_s` or by
    `/processing/time_s` where the dataset has one beside it."""
    found: list[tuple[h5py.Dataset, list[tuple[int, int]]]] = []

    def visit(_: str, item: h5py.HLObject) -> None:
        if isinstance(item, h5py.Dataset) and item.shape and item.chunks is not None:
            bad = read_around_damage(item, item.shape[0])[1]
            if bad:
                found.append((item, bad))

    f.visititems(visit)
    out: list[DamagedRows] = []
    for item, bad in found:
        parent = item.parent
        clock = "session_time_s" if "session_time_s" in parent else "time_s" if "time_s" in parent else None
        times = None
        if clock is not None and isinstance(parent[clock], h5py.Dataset) and parent[clock].ndim == 1:
            times = read_around_damage(parent[clock], parent[clock].shape[0])[0].astype(np.float64)
        out.extend(mark_times(item.name, bad, times))
    return out


def refuse_damaged(path: Path, f: h5py.File, refused: str) -> None:
    """Raise RecordingError naming the first damaged chunk of the open file `f` (at `path`) and
    its time, and how many there are, when there is one: `refused` says what is not done."""
    try:
        damage = damaged_datasets(f)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError):  # damaged beyond its chunks:
        return  # the caller's own read says what
    if damage:
        more = f" and {len(damage) - 1} more" if len(damage) > 1 else ""
        raise RecordingError(
            path,
            f"{damage[0].describe()}{more} (a damaged chunk): {refused}; `stabmon recover` writes a "
            "copy with the damaged samples left out as a gap, keeping the original",
        )
