"""HDF5's free lists are emptied on request (recordings/hdf5_memory.py), checked on the C heap."""

from __future__ import annotations

import sys

import h5py
import numpy as np
import pytest

from recordings.hdf5_memory import c_heap, release_free_lists

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="finds h5py's HDF5 in /proc/self/maps (Linux)"
)


def test_emptying_the_free_lists_gives_heap_back_after_a_writer_like_load(tmp_path):
    """Appending compressed chunks as the writer does leaves blocks in HDF5's free lists;
    H5garbage_collect, reached on the very library h5py loaded, hands them back to the C heap."""
    rows = np.random.default_rng(0).normal(size=(200, 3))
    with h5py.File(tmp_path / "load.h5", "w", libver="v110", rdcc_nbytes=0) as f:
        columns = [
            f.create_dataset(
                f"c{i}", (0, 3), "f8", maxshape=(None, 3), chunks=(200, 3), compression="gzip", shuffle=True
            )
            for i in range(10)
        ]
        for _ in range(100):
            for column in columns:
                column.resize(column.shape[0] + 200, axis=0)
                column[-200:] = rows
        before = c_heap().in_use
        assert release_free_lists()
        after = c_heap().in_use
        assert after < before
        assert columns[0][-1].tolist() == rows[-1].tolist()  # the open file is untouched
