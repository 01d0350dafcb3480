"""Checked access to the parts of an open session file: a group or dataset that is missing, of
the wrong kind or shape, or holds no numbers is a `NotARecordingError` naming the file and the
part; long columns are read in slices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np

from recordings.chunk_columns import chunk_columns
from recordings.errors import NotARecordingError


def group(path: Path, parent: h5py.Group, name: str, where: str | None = None) -> h5py.Group:
    item = parent.get(name)
    if not isinstance(item, h5py.Group):
        what = "missing" if item is None else "not a group"
        raise NotARecordingError(path, f"group {where or '/' + name} is {what}")
    return item


def dataset(path: Path, group: h5py.Group, name: str, tail: tuple[int, ...], kind: str) -> h5py.Dataset:
    """The dataset `name` of `group`, checked to have rows of shape `tail` and numbers of `kind`
    ('f' float, 'i' integer, 'b' bool; integers are accepted for floats)."""
    where = f"{group.name}/{name}"
    item = group.get(name)
    if not isinstance(item, h5py.Dataset):
        raise NotARecordingError(path, f"dataset {where} is {'missing' if item is None else 'not a dataset'}")
    if item.ndim != 1 + len(tail) or item.shape[1:] != tail:
        expected = "(n" + "".join(f", {d}" for d in tail) + ")"
        raise NotARecordingError(path, f"dataset {where} has shape {item.shape}, expected {expected}")
    accepted = {"f": "fiu", "i": "iu", "b": "biu"}[kind]
    if item.dtype.kind not in accepted:
        raise NotARecordingError(path, f"dataset {where} holds {item.dtype}, not numbers")
    return item


#: Rows per request when reading long columns: HDF5 keeps ~8 KB for every chunk one request
#: touches, so a long column read at once costs hundreds of MB that are never given back.
SLICE_ROWS = 100_000


def read_rows(dataset: h5py.Dataset, n: int) -> np.ndarray:
    """The first n rows of a dataset, read `SLICE_ROWS` at a time (straight from its chunks where
    `chunk_columns` reads them: the same rows)."""
    fast = chunk_columns(Path(dataset.file.filename), {"rows": dataset}) if n > SLICE_ROWS else None
    rows: Any = fast["rows"] if fast is not None else dataset
    parts = [rows[a : min(a + SLICE_ROWS, n)] for a in range(0, n, SLICE_ROWS)]
    return np.concatenate(parts) if parts else dataset[:0]
