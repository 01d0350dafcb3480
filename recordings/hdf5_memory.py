"""Give back the memory HDF5 keeps in its own free lists.

HDF5 does not return most blocks it frees to the C heap: it keeps them in free lists of its own
for reuse, up to limits of several MB per kind, and empties them only when asked
(`H5garbage_collect`, public HDF5 API) or at exit. A writer open for hours therefore grows
slowly until those limits are reached (about 2 MiB an hour at 2 × 200 Hz after the first hour,
`benchmarks/live_memory.py`); emptying the lists now and then keeps its memory flat.

h5py does not wrap `H5garbage_collect`, so it is called through ctypes on the very library h5py
loaded (found in this process's memory map, Linux), under h5py's own lock, because HDF5 as h5py
builds it is not thread-safe. Where that library cannot be found this does nothing.
`c_heap` says what the C heap holds (glibc), to see the effect.
"""

from __future__ import annotations

import ctypes
import functools
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: This process's memory map (Linux): every shared library loaded, by path.
_MAPS = Path("/proc/self/maps")


@functools.cache
def _loaded_hdf5() -> ctypes.CDLL | None:
    """The HDF5 library h5py has loaded, or None (not Linux, or not found)."""
    import h5py  # noqa: F401  (loads the library the map must show)

    try:
        lines = _MAPS.read_text().splitlines()
    except OSError:
        return None
    paths = {line.split()[-1] for line in lines if "/libhdf5" in line and "libhdf5_hl" not in line}
    if len(paths) != 1:
        log.debug("HDF5 free lists left alone: h5py's HDF5 library not found in %s (%s)", _MAPS, paths)
        return None
    library = ctypes.CDLL(paths.pop())  # already loaded: the same instance h5py uses
    library.H5garbage_collect.restype = ctypes.c_int
    return library


def release_free_lists() -> bool:
    """Empty HDF5's free lists (memory goes back to the C heap). True when it was done."""
    library = _loaded_hdf5()
    if library is None:
        return False
    from h5py._objects import phil  # the lock h5py holds around every HDF5 call

    with phil:
        return library.H5garbage_collect() >= 0


_MALLINFO2_FIELDS = (
    "arena",
    "ordblks",
    "smblks",
    "hblks",
    "hblkhd",
    "usmblks",
    "fsmblks",
    "uordblks",
    "fordblks",
    "keepcost",
)


class _MallInfo2(ctypes.Structure):
    """glibc's `struct mallinfo2` (malloc.h), every field a size_t."""

    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2_FIELDS]


@dataclass(frozen=True)
class CHeap:
    """What glibc's heap holds over all arenas, bytes: in use (allocated blocks, mapped ones
    included) and free (held, not given back)."""

    in_use: int
    free: int


def c_heap(trim: bool = False) -> CHeap:
    """The C heap now (glibc ≥ 2.33), after giving free memory back to the OS if `trim`."""
    from recordings.c_heap_policy import glibc

    libc = glibc()
    if libc is None:
        raise OSError("the C heap can be read only with glibc on Linux")
    libc.mallinfo2.restype = _MallInfo2
    if trim:
        libc.malloc_trim(0)
    info = libc.mallinfo2()
    return CHeap(in_use=info.uordblks + info.hblkhd, free=info.fordblks)
