"""The rescue file: after a write to a recording failed, the recording is written whole again
into `<stem>.rescue.h5` (the rows the failed file wrote safely, read back through its open
handle, then everything since), and the failed file is closed without touching its disk file.

The rescue file is made while the disk may still refuse writes. HDF5 must never see one of them
fail: an HDF5 object whose close failed stays registered and crashed the writer (a segmentation
fault) moments later. So the copy is written through `_WriteGuard`, a file object that moves to
memory at the first write the disk refuses, where every write succeeds; a copy that did not reach
the disk whole is then closed cleanly and removed, to be tried again later. A copy that did is
opened again as an ordinary file in SWMR mode, and the session goes on in it."""

from __future__ import annotations

import io
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py

from recordings import schema
from recordings.file_layout import Datasets, SessionMetadata, datasets_of, layout, open_new
from recordings.pending_rows import Write, append_rows
from sensors.identity import SensorIdentity
from sensors.placements import Placement

#: Rows copied at a time into a rescue file (bounds the memory the copy takes).
RESCUE_COPY_ROWS = 2**15

log = logging.getLogger(__name__)

#: Failed files HDF5 could not close, kept referenced so that they are never closed again.
_ABANDONED: list[h5py.File] = []


def detach_and_close(f: h5py.File, datasets: Datasets) -> None:
    """Close a file a write failed on without writing to its disk file again. HDF5 retries the
    failed writes whenever one of the file's objects is closed, and an object whose close failed
    stays registered, crashing the process when HDF5 shuts down at exit. So the descriptor is
    pointed at a scratch file in memory first, where every write succeeds, then the datasets and
    the file are closed: on disk it stays as it was at the failure."""
    name = Path(f.filename).name
    scratch = os.memfd_create("stabmon-detached") if hasattr(os, "memfd_create") else _scratch_file()
    try:
        os.dup2(scratch, f.id.get_vfd_handle())
    finally:
        os.close(scratch)
    for dataset in datasets.values():
        dataset.id.close()
    datasets.clear()
    try:
        f.close()
    except (OSError, RuntimeError) as error:
        # A failed flush of the file's metadata leaves HDF5 unable to close it ("slist already
        # enabled"), and a second attempt crashes the process: it is left open, in memory only.
        log.warning(
            "%s is left open in memory (HDF5 cannot close it after its failed write: %s)", name, error
        )
        _ABANDONED.append(f)


def _scratch_file() -> int:
    """A descriptor on an unnamed temporary file (where memfd_create is missing)."""
    with tempfile.TemporaryFile() as handle:
        return os.dup(handle.fileno())


def rescue_path(path: Path) -> Path:
    """Where a recording is written again after a write to it failed: `<stem>.rescue.h5`."""
    return path.with_name(f"{path.stem}{schema.RESCUE_SUFFIX}")


class _WriteGuard(io.RawIOBase):
    """A new file on disk as HDF5 writes it, that never reports a failed write: from the first
    write the disk refuses on, the file's content is held in memory and written there
    (`failure` says what the disk refused)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._disk = open(path, "w+b", buffering=0)  # noqa: SIM115 (closed in close())
        self._memory: io.BytesIO | None = None
        self.failure: OSError | None = None

    @property
    def _io(self) -> io.BytesIO | io.FileIO:
        return self._memory if self._memory is not None else self._disk

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._io.seek(offset, whence)

    def tell(self) -> int:
        return self._io.tell()

    def readinto(self, buffer: Any) -> int:
        return self._io.readinto(buffer) or 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        if self._memory is None:
            at = self._disk.tell()
            try:
                done = 0
                while done < len(view):
                    done += self._disk.write(view[done:]) or 0
                return len(view)
            except OSError as error:
                self._to_memory(error, at)
        assert self._memory is not None
        return self._memory.write(view)

    def truncate(self, size: int | None = None) -> int:
        if self._memory is None:
            try:
                return self._disk.truncate(size)
            except OSError as error:
                self._to_memory(error, self._disk.tell())
        assert self._memory is not None
        return self._memory.truncate(size)

    def flush(self) -> None:
        pass  # unbuffered

    def close(self) -> None:
        self._disk.close()
        super().close()

    def _to_memory(self, error: OSError, at: int) -> None:
        """Go on in memory from what the disk holds (the failed write is then made there)."""
        self.failure = error
        self._disk.seek(0)
        self._memory = io.BytesIO(self._disk.read())
        self._memory.seek(at)


def open_rescue_file(
    path: Path,
    metadata: SessionMetadata,
    sensors: Mapping[Placement, SensorIdentity],
    failed: Datasets,
    written: Mapping[str, int],
    settings_writes: Sequence[Write],
) -> tuple[h5py.File, Datasets]:
    """A new file at `path` with the session's layout, the first `written[path]` rows of each of
    the failed file's datasets (read through its still-open handle, which knows where they are
    even if the metadata on disk is half-written) and the settings writes (origin, calibration),
    in SWMR mode. On OSError/RuntimeError the partial copy is removed and the error raised."""
    f, datasets = None, {}
    try:
        guard = _WriteGuard(path)
        try:
            with h5py.File(guard, "w", libver=schema.FILE_FORMAT, rdcc_nbytes=0) as copy:
                layout(copy, metadata, sensors)
                copied = datasets_of(copy)
                for name, rows in written.items():
                    for start in range(0, rows, RESCUE_COPY_ROWS):  # in slices: an hour is hundreds of MB
                        append_rows(copied[name], failed[name][start : min(start + RESCUE_COPY_ROWS, rows)])
                for write in settings_writes:
                    write(copied)
                copied.clear()
        finally:
            guard.close()
        if guard.failure is not None:
            raise guard.failure
        f = open_new(path, "r+")
        f.swmr_mode = True
        datasets = datasets_of(f)
    except (OSError, RuntimeError):
        if f is not None:
            detach_and_close(f, datasets)
        path.unlink(missing_ok=True)
        raise
    return f, datasets
