"""Rewrite a session file in the HDF5 1.10 file format, so tools on older HDF5 libraries read it.

stabmon wrote its files with libver "latest" until the file format was pinned
(`schema.FILE_FORMAT`); with h5py bundling HDF5 2.0, those files carry layout messages that HDF5
1.10-1.14 (h5dump, MATLAB, HDFView, older h5py) refuse: "bad version number for layout message".
`repack` copies every group, dataset (same dtype, shape, chunks, filters, checksums, growable
axis) and attribute into a fresh file in the 1.10 format, checks that every dataset and attribute
is byte for byte what the original holds and that the copy reads as a recording, and only then
puts it in place, atomically (`os.replace`). The contents, `schema_version` included, are not
changed; the original is kept beside it as `<name>.before-repack` unless an output path is given.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import h5py
import numpy as np

from recordings import schema
from recordings.chunk_damage import refuse_damaged
from recordings.errors import NotARecordingError, RecordingError, RecordingNotFoundError
from recordings.reader import check_schema, open_recording_file, read_recording
from recordings.recovery import needs_recovery

log = logging.getLogger(__name__)

#: Rows copied (and compared) at a time: bounds the memory a repack takes.
COPY_ROWS = 2**16
#: Suffix of the original kept beside a file repacked in place.
KEPT_SUFFIX = ".before-repack"


def repack(path: Path | str, out: Path | str | None = None) -> Path:
    """Write `path` again in the 1.10 file format: to `out` when given (which must not exist),
    else in place, keeping the original as `<name>.before-repack`. Returns the repacked file's
    path; raises RecordingError (and leaves every existing file as it was) when it cannot."""
    path = Path(path)
    if not path.exists():
        raise RecordingNotFoundError(path, "no such file")
    if needs_recovery(path):
        raise RecordingError(path, "the file was left open by a crash: run `stabmon recover` on it instead")
    target = Path(out) if out is not None else path
    kept = path.with_name(path.name + KEPT_SUFFIX)
    if out is not None and target.exists():
        raise RecordingError(target, "the output file exists already; choose another name")
    if out is None and kept.exists():
        raise RecordingError(kept, "a kept original from an earlier repack is in the way; move it first")
    fresh = target.with_name(target.name + ".repacking")
    try:
        with open_recording_file(path) as source:
            check_schema(path, dict(source.attrs))
            with h5py.File(fresh, "w", libver=schema.FILE_FORMAT) as copy:
                _copy_attributes(source, copy)
                _copy_group(source, copy)
            with h5py.File(fresh, "r") as copy:
                _check_equal(source, copy)
        read_recording(fresh)
    except OSError as error:
        fresh.unlink(missing_ok=True)
        with open_recording_file(path) as source:  # a damaged chunk? say which, and when
            refuse_damaged(path, source, "cannot repack a damaged file, it is left as it is")
        raise NotARecordingError(path, f"cannot repack: {error}") from None
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise
    if out is None:
        _keep(path, kept)
    os.replace(fresh, target)
    log.info("repacked %s in the HDF5 1.10 format as %s", path.name, target.name)
    return target


def _keep(path: Path, kept: Path) -> None:
    """The original under a second name before the swap: a hard link (no copy) where the file
    system has them, else a copy."""
    try:
        os.link(path, kept)
    except OSError:
        shutil.copy2(path, kept)


def _copy_attributes(source: h5py.HLObject, target: h5py.HLObject) -> None:
    """Every attribute with its stored HDF5 type (fixed or variable-length strings stay so)."""
    for name in source.attrs:
        target.attrs.create(name, source.attrs[name], dtype=source.attrs.get_id(name).dtype)


def _copy_group(source: h5py.Group, target: h5py.Group) -> None:
    for name, item in source.items():
        if isinstance(item, h5py.Group):
            child = target.create_group(name)
            _copy_attributes(item, child)
            _copy_group(item, child)
            continue
        dataset = target.create_dataset(name, shape=item.shape, dtype=item.dtype, **storage_options(item))
        _copy_attributes(item, dataset)
        for rows in _slices(item):
            dataset[rows] = item[rows]


def storage_options(item: h5py.Dataset, chunks: tuple[int, ...] | None = None) -> dict[str, object]:
    """`create_dataset` keywords that store a copy of `item` as it is stored (chunks — or
    `chunks` —, growable axis, compression, shuffle, checksums); none for a contiguous one."""
    if item.chunks is None:
        return {}
    return {
        "chunks": chunks or item.chunks,
        "maxshape": item.maxshape,
        "compression": item.compression,
        "compression_opts": item.compression_opts,
        "shuffle": item.shuffle,
        "fletcher32": item.fletcher32,
    }


def _slices(dataset: h5py.Dataset) -> list[slice | tuple[()]]:
    """The dataset in pieces of at most COPY_ROWS rows (a scalar as a whole)."""
    if dataset.shape == ():
        return [()]
    n = dataset.shape[0]
    return [slice(start, min(start + COPY_ROWS, n)) for start in range(0, n, COPY_ROWS)]


def _check_equal(source: h5py.Group, copy: h5py.Group) -> None:
    """Raise RecordingError unless the copy holds the same objects, bytes and attributes."""
    where = Path(copy.file.filename)
    if set(source) != set(copy) or set(source.attrs) != set(copy.attrs):
        raise RecordingError(where, f"the copy of {source.name} differs in its members or attributes")
    for name in source.attrs:
        if not _same(source.attrs[name], copy.attrs[name]):
            raise RecordingError(where, f"attribute {name!r} of {source.name} differs in the copy")
    for name, item in source.items():
        twin = copy[name]
        if isinstance(item, h5py.Group):
            _check_equal(item, twin)
        elif item.shape != twin.shape or item.dtype != twin.dtype:
            raise RecordingError(where, f"{item.name} differs in shape or type in the copy")
        else:
            if set(item.attrs) != set(twin.attrs) or not all(
                _same(item.attrs[a], twin.attrs[a]) for a in item.attrs
            ):
                raise RecordingError(where, f"the attributes of {item.name} differ in the copy")
            for rows in _slices(item):
                if not _same(item[rows], twin[rows]):
                    raise RecordingError(where, f"{item.name} differs in the copy")


def _same(a: object, b: object) -> bool:
    """Equal to the last bit (NaN equals the same NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "O" or b.dtype.kind == "O":
        return a.shape == b.shape and a.tolist() == b.tolist()
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
