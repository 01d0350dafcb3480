"""The rescue file: after a write to a recording failed, the recording is written whole again
into `<stem>.rescue.h5` (the rows the failed file wrote safely, read back through its open
handle, then everything since), and the failed file is closed without touching its disk file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py

from recordings import schema
from recordings.file_layout import Datasets, SessionMetadata, datasets_of, layout, open_new
from recordings.pending_rows import Write, append_rows
from sensors.identity import SensorIdentity
from sensors.placements import Placement

#: Rows copied at a time into a rescue file (bounds the memory the copy takes).
RESCUE_COPY_ROWS = 2**15


def detach_and_close(f: h5py.File, datasets: Datasets) -> None:
    """Close a file a write failed on without writing to its disk file again. HDF5 retries the
    failed writes whenever one of the file's objects is closed, and an object whose close failed
    stays registered, crashing the process when HDF5 shuts down at exit. So the descriptor is
    pointed at a scratch file in memory first, where every write succeeds, then the datasets and
    the file are closed: on disk it stays as it was at the failure."""
    scratch = os.memfd_create("stabmon-detached") if hasattr(os, "memfd_create") else _scratch_file()
    try:
        os.dup2(scratch, f.id.get_vfd_handle())
    finally:
        os.close(scratch)
    for dataset in datasets.values():
        dataset.id.close()
    datasets.clear()
    f.close()


def _scratch_file() -> int:
    """A descriptor on an unnamed temporary file (where memfd_create is missing)."""
    with tempfile.TemporaryFile() as handle:
        return os.dup(handle.fileno())


def rescue_path(path: Path) -> Path:
    """Where a recording is written again after a write to it failed: `<stem>.rescue.h5`."""
    return path.with_name(f"{path.stem}{schema.RESCUE_SUFFIX}")


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
        f = open_new(path, "w")
        layout(f, metadata, sensors)
        datasets = datasets_of(f)
        for name, rows in written.items():
            for start in range(0, rows, RESCUE_COPY_ROWS):  # in slices: an hour is hundreds of MB
                append_rows(datasets[name], failed[name][start : min(start + RESCUE_COPY_ROWS, rows)])
        for write in settings_writes:
            write(datasets)
        f.flush()
        f.swmr_mode = True
    except (OSError, RuntimeError):
        if f is not None:
            detach_and_close(f, datasets)
        path.unlink(missing_ok=True)
        raise
    return f, datasets
