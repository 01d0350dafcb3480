"""The filter pipeline of the session files' compressed datasets, both ways, outside HDF5.

A bulk dataset's chunks go through HDF5's shuffle (optional), deflate and fletcher32 (optional)
filters, in that order. Done inside h5py, the whole pipeline runs in one HDF5 call that holds
the interpreter lock: with six sensors a writer flush held it p50 37 ms, p99 117 ms, and the
acquisition loop waited. Here the same bytes are made in Python: shuffle with numpy, deflate with
`zlib.compress` (which releases the lock while it compresses), fletcher32 with numpy, as HDF5
computes it (`H5_checksum_fletcher32`: big-endian 16-bit words, sums reduced modulo 65535 by
end-around carry, stored after the deflate stream as a little-endian 32-bit word). The writer
stores each whole chunk with `write_direct_chunk`; the reader (`recordings.chunk_columns`) reads
them back with `zlib` and `unshuffle`. The file is the one HDF5 would have written, byte for byte
(`tests/recordings/test_chunk_filters.py`).

Only the pipelines above, on plain numbers (little-endian or one byte) with whole rows a chunk, are
handled: `pipeline_of` gives None for anything else, and the caller uses h5py.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import h5py
import numpy as np

__all__ = [
    "DEFLATE",
    "FLETCHER32",
    "SHUFFLE",
    "Pipeline",
    "encode_chunks",
    "fletcher32",
    "fletcher32_each",
    "pipeline_of",
    "unshuffle",
]

#: HDF5's filter identifiers (H5Zpublic.h).
DEFLATE, SHUFFLE, FLETCHER32 = 1, 2, 3
#: Bytes of checksum fletcher32 stores after a chunk's filtered bytes.
FLETCHER32_BYTES = 4


@dataclass(frozen=True)
class Pipeline:
    """A dataset's filters, in HDF5's order: shuffle (if `shuffled`), deflate at `level`, then
    fletcher32 (if `checksummed`). `chunk_rows` rows a chunk, `row_shape` the rest of the
    dataset's shape (the chunk spans it whole), `dtype` the stored element type."""

    shuffled: bool
    level: int
    checksummed: bool
    chunk_rows: int
    row_shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def trailer(self) -> int:
        """Bytes stored after each chunk's deflate stream."""
        return FLETCHER32_BYTES if self.checksummed else 0


def pipeline_of(dataset: h5py.Dataset, kinds: str = "iufb") -> Pipeline | None:
    """The dataset's filter pipeline, or None unless it is one this module makes and undoes:
    [shuffle,] deflate[, fletcher32] on numbers of a dtype kind in `kinds`, little-endian or one
    byte, chunks spanning whole rows."""
    if dataset.chunks is None or tuple(dataset.chunks[1:]) != tuple(dataset.shape[1:]):
        return None
    dtype = dataset.dtype
    if dtype.kind not in kinds or dtype.byteorder not in "=|<" or dtype.shape or dtype.names:
        return None
    plist = dataset.id.get_create_plist()
    filters = [plist.get_filter(i)[:3] for i in range(plist.get_nfilters())]
    codes = [code for code, _, _ in filters]
    checksummed = bool(codes) and codes[-1] == FLETCHER32
    if checksummed:
        codes = codes[:-1]
    if codes not in ([DEFLATE], [SHUFFLE, DEFLATE]):
        return None
    if codes[0] == SHUFFLE and tuple(filters[0][2][:1]) not in ((), (dtype.itemsize,)):
        return None  # shuffling elements of another size than the stored type's
    options = filters[codes.index(DEFLATE)][2]
    level = int(options[0]) if options else -1
    if not 0 <= level <= 9:
        return None
    return Pipeline(
        shuffled=codes[0] == SHUFFLE,
        level=level,
        checksummed=checksummed,
        chunk_rows=int(dataset.chunks[0]),
        row_shape=tuple(dataset.shape[1:]),
        dtype=dtype,
    )


def _shuffle(chunks: np.ndarray, count: int, item: int) -> np.ndarray:
    """HDF5's shuffle of `count` chunks at once: chunks (count, n * item) bytes → each chunk's
    first bytes of every element, then every second byte, …"""
    return chunks.reshape(count, -1, item).transpose(0, 2, 1)


def unshuffle(raw: np.ndarray, count: int, item: int) -> np.ndarray:
    """Undo HDF5's shuffle of `count` chunks of `item`-byte elements: raw (count * chunk bytes,)
    uint8 → the same bytes in element order, (count, elements, item)."""
    return raw.reshape(count, item, -1).transpose(0, 2, 1)


def fletcher32(data: bytes | memoryview) -> int:
    """HDF5's fletcher32 checksum of `data` (`H5_checksum_fletcher32`): over big-endian 16-bit
    words w_1…w_m (an odd last byte is the high byte of a last word), sum1 = Σ w_i and
    sum2 = Σ (m - i + 1) w_i, each a nonzero value reduced by end-around carry to 1…65535 (0
    only when every word is 0). Returns (sum2 << 16) | sum1."""
    size = len(data)
    m = size // 2
    words = np.frombuffer(data, dtype=">u2", count=m)
    sum1, sum2 = (int(v) for v in _weights(m) @ words) if m else (0, 0)
    if size % 2:  # the last word: its byte, then a zero byte
        last = data[-1] << 8
        sum2 += sum1 + last
        sum1 += last
    return (_end_around(sum2) << 16) | _end_around(sum1)


def fletcher32_each(streams: list[bytes]) -> list[int]:
    """`fletcher32` of each of `streams` (none empty), computed together: each stream's words
    (an odd stream padded with a zero byte: the same last word), sum1 per stream, and sum2 as
    end · sum1 − Σ i·w_i over the stream's words at global positions i (exact in uint64)."""
    if len(streams) < 2:
        return [fletcher32(stream) for stream in streams]
    padded = [stream if len(stream) % 2 == 0 else stream + b"\0" for stream in streams]
    counts = np.array([len(stream) // 2 for stream in padded], dtype=np.int64)
    if not counts.all():
        return [fletcher32(stream) for stream in streams]
    words = np.frombuffer(b"".join(padded), dtype=">u2").astype(np.uint64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sum1 = np.add.reduceat(words, starts)
    positioned = np.add.reduceat(words * np.arange(len(words), dtype=np.uint64), starts)
    sum2 = (starts + counts).astype(np.uint64) * sum1 - positioned
    return [(_end_around(int(b)) << 16) | _end_around(int(a)) for a, b in zip(sum1, sum2, strict=True)]


_WEIGHTS = np.zeros((2, 0), dtype=np.uint64)


def _weights(m: int) -> np.ndarray:
    """(2, m) uint64: ones, and m…1 (each word's weight in sum1 and sum2)."""
    global _WEIGHTS
    if _WEIGHTS.shape[1] < m:
        size = max(m, 2 * _WEIGHTS.shape[1], 4096)
        _WEIGHTS = np.stack([np.ones(size, np.uint64), np.arange(size, 0, -1, dtype=np.uint64)])
    return _WEIGHTS[:, _WEIGHTS.shape[1] - m :]


def _end_around(total: int) -> int:
    """A non-negative sum reduced as HDF5's 16-bit end-around carry does: 0 stays 0, anything
    else lands in 1…65535."""
    return 0 if total == 0 else (total - 1) % 0xFFFF + 1


def encode_chunks(pipeline: Pipeline, rows: np.ndarray) -> list[bytes]:
    """The stored bytes of each whole chunk of `rows` (k * chunk_rows, *row_shape), as HDF5's
    filters would make them. `rows` must already have the pipeline's dtype (no conversion here)."""
    if rows.dtype != pipeline.dtype or tuple(rows.shape[1:]) != pipeline.row_shape:
        raise ValueError(
            f"rows of {rows.dtype}{rows.shape[1:]} for a {pipeline.dtype}{pipeline.row_shape} dataset"
        )
    count, extra = divmod(len(rows), pipeline.chunk_rows)
    if extra:
        raise ValueError(f"{len(rows)} rows are not whole chunks of {pipeline.chunk_rows}")
    if count == 0:
        return []
    raw = np.ascontiguousarray(rows).view(np.uint8).reshape(count, -1)
    item = pipeline.dtype.itemsize
    if pipeline.shuffled and item > 1:
        raw = np.ascontiguousarray(_shuffle(raw, count, item)).reshape(count, -1)
    streams = [zlib.compress(chunk.data, pipeline.level) for chunk in raw]  # the lock released
    if not pipeline.checksummed:
        return streams
    sums = fletcher32_each(streams)
    return [
        stream + word.to_bytes(FLETCHER32_BYTES, "little") for stream, word in zip(streams, sums, strict=True)
    ]
