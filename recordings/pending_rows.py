"""The chunk policy: rows wait in memory per dataset, and a compressed dataset is appended whole
chunks only until the final write, so no compressed chunk is ever rewritten (rewriting one
reallocates it and bloated live files 10x)."""

from __future__ import annotations

from collections.abc import Callable

import h5py
import numpy as np

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



class PendingRows:
    """Rows waiting to be appended, per dataset path. Compressed datasets take whole chunks only
    until the final write, so each compressed chunk is written exactly once. `snapshot()` before a
    write and `restore()` after a failed one put back everything that write took."""

    def __init__(self) -> None:
        self._rows: dict[str, list[np.ndarray]] = {}
        self._direct: list[Write] = []

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
            if dataset.compression is not None and not final:
                n -= n % dataset.chunks[0]
            append_rows(dataset, rows[:n])
            self._rows[path] = [rows[n:]] if n < len(rows) else []
            written[path] = n
        return written
