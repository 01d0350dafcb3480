"""How glibc's heap treats freed memory: given back at once (a long-running command), or kept for
reuse while an analysis runs.

glibc gives a block of at least the mmap threshold memory of its own, zero-filled by the kernel
page by page on first touch and unmapped when freed, and trims the top of its heap whenever more
than the trim threshold lies free there. The `stabmon` command sets `give_freed_arrays_back` as
it starts (stabmon/cli.py), fixing the threshold at 1 MiB so that freed large arrays go back to
the system at once (without it glibc raises the threshold to each large block freed, up to
32 MiB, and peak memory grows with every stage instead of with the largest one: a 4-h `analyze`
peaked at 583 MB with glibc's default, 477 MB with the fixed threshold). Importing this module
loads nothing of the packages (`recordings/__init__` is lazy), so every command can.

An analysis frees and allocates the same few arrays of a frame block again and again (the 1-h
`analyze`: ~1.6 GB of blocks of 128 KiB and more in the command's process, ~0.7 GB in its frames
process); with every one a fresh map, a fault per page on first touch and an unmap, that was
~250 000 minor page faults and about 1 s of system time. `keeping_freed_memory` lets the heap
keep what it frees while an analysis runs, so the same pages serve block after block; on leaving
it the policy is back to `give_freed_arrays_back`'s and the free memory is given back
(`malloc_trim`). Elsewhere than glibc on Linux both do nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import sys
from collections.abc import Iterator

log = logging.getLogger(__name__)

# mallopt parameters (glibc malloc.h).
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

#: Blocks from this size up get memory of their own, given back when freed (the usual policy).
GIVE_BACK_MMAP_THRESHOLD = 1 << 20
#: glibc's default trim threshold and top pad (128 KiB each).
_DEFAULT_TRIM_THRESHOLD = 128 << 10
_DEFAULT_TOP_PAD = 128 << 10

#: While an analysis runs: blocks under 4 MiB (a minute's frame block and its temporaries are
#: under 1.2 MiB at 200 Hz) come from the heap, which is not trimmed. Larger ones (whole-session
#: columns) keep memory of their own. The 4-h `analyze` (benchmarks/RESULTS.md, "Offline
#: analysis, session 6"): peak 491-496 MiB against 468-474 MiB without this; a larger top pad
#: (16 MiB) or a 32 MiB trim threshold change it by less than the noise, a 32 MiB mmap threshold
#: with a 64 MiB top pad 482 MiB on session 5's 4-h file (4 MiB with a 16 MiB top pad 439,
#: none 434).
KEEP_MMAP_THRESHOLD = 4 << 20
KEEP_TOP_PAD = _DEFAULT_TOP_PAD
KEEP_TRIM_THRESHOLD = 1 << 30


@functools.cache
def glibc() -> ctypes.CDLL | None:
    """glibc, or None (not Linux, or another C library)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim  # noqa: B018  (glibc has it; musl's libc.so.6 does not exist)
    except (OSError, AttributeError):
        return None
    return libc


def _set(libc: ctypes.CDLL, **values: int) -> None:
    codes = {"trim": _M_TRIM_THRESHOLD, "top_pad": _M_TOP_PAD, "mmap": _M_MMAP_THRESHOLD}
    for name, value in values.items():
        if libc.mallopt(codes[name], value) != 1:
            log.debug("mallopt(%s, %d) refused", name, value)


def give_freed_arrays_back() -> None:
    """Freed blocks of 1 MiB and more go back to the system at once; the heap is trimmed when
    128 KiB lie free at its top (a fixed threshold stays fixed: glibc no longer raises it)."""
    libc = glibc()
    if libc is not None:
        _set(libc, mmap=GIVE_BACK_MMAP_THRESHOLD, trim=_DEFAULT_TRIM_THRESHOLD, top_pad=_DEFAULT_TOP_PAD)


def trim() -> None:
    """Give the free memory at the top and inside the heap back to the system."""
    libc = glibc()
    if libc is not None:
        libc.malloc_trim(0)


@contextlib.contextmanager
def keeping_freed_memory() -> Iterator[None]:
    """Inside: freed blocks under 4 MiB stay in the heap for the next ones (a process forked
    inside inherits it). After: `give_freed_arrays_back`, and the free memory given back."""
    libc = glibc()
    if libc is None:
        yield
        return
    _set(libc, mmap=KEEP_MMAP_THRESHOLD, trim=KEEP_TRIM_THRESHOLD, top_pad=KEEP_TOP_PAD)
    try:
        yield
    finally:
        give_freed_arrays_back()
        libc.malloc_trim(0)
