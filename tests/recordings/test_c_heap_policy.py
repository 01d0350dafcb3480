"""While an analysis runs the C heap keeps what it frees (recordings/c_heap_policy.py): a large
array allocated again costs no page faults; after it, freed large arrays go back to the system.
Checked in a fresh interpreter (the policy is process-wide) on the array's own block: glibc marks
a block mapped on its own in its chunk header (`chunk_is_mmapped`, malloc/malloc.c), and the
kernel counts the calling thread's minor page faults. Neither counts what other threads (numpy's
BLAS pool) do, and neither depends on the heap's history before the probe."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.recordings.corrupt_helpers import record_simulated

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="glibc's malloc")

PROBE = textwrap.dedent(
    """
    import ctypes, resource
    import numpy as np
    from recordings import c_heap_policy

    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    M_MMAP_THRESHOLD = -3
    ROWS = (2 << 20) // 8  # a 2 MiB array, as large as a frame block's arrays
    IS_MMAPPED = 0x2  # glibc's chunk header: size field, bit 1

    def mapped_on_its_own(array):
        # numpy's default allocator returns malloc's pointer; the size field sits just before it
        return bool(ctypes.c_size_t.from_address(array.ctypes.data - 8).value & IS_MMAPPED)

    def one_array():
        # (mapped on its own?, this thread's page faults to fill it)
        faults = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
        a = np.ones(ROWS)
        faults = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - faults
        own = mapped_on_its_own(a)
        del a
        return int(own), faults

    c_heap_policy.give_freed_arrays_back()
    print("give-back", *one_array(), *one_array())
    with c_heap_policy.keeping_freed_memory():
        one_array()
        print("keeping", *one_array(), *one_array())
    print("after", *one_array(), *one_array())
    """
)


def _probe_lines(probe: str, *args: str) -> dict[str, list[int]]:
    """The probe's lines of figures by their first word (a command's own output is skipped)."""
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True)
    lines = (line.split() for line in result.stdout.splitlines())
    return {
        words[0]: [int(x) for x in words[1:]]
        for words in lines
        if len(words) > 1 and all(x.isdigit() for x in words[1:])
    }


PAGES = (2 << 20) // 4096


def test_freed_arrays_are_reused_inside_and_given_back_outside():
    lines = _probe_lines(PROBE)
    for policy in ("give-back", "after"):  # each array mapped on its own, every page faulted in
        own, faults, own2, faults2 = lines[policy]
        assert own == own2 == 1, (policy, lines)
        # (the kernel may map two pages a fault)
        assert faults >= PAGES // 4 and faults2 >= PAGES // 4, (policy, lines)
    own, faults, own2, faults2 = lines["keeping"]  # from the heap, its pages already there
    assert own == own2 == 0, lines
    assert faults < PAGES // 50 and faults2 < PAGES // 50, lines


def test_an_analysis_leaves_the_give_back_policy_behind(tmp_path):
    """`analyze_file` keeps freed memory only while it runs: after it (here on a short simulated
    stance, long enough to be measured) a large array is mapped on its own again and the heap
    holds no spare memory."""
    data = record_simulated(tmp_path / "sub-C01_quiet-stance_20260101T000000000Z.h5")
    probe = PROBE.split("c_heap_policy.give_freed_arrays_back()")[0] + textwrap.dedent(
        f"""
        from recordings.analysis import analyze_file
        c_heap_policy.give_freed_arrays_back()
        recording, result = analyze_file({str(data)!r})
        print("measures", len(result.measures))
        print("after", *one_array(), *one_array())
        """
    )
    lines = _probe_lines(probe)
    assert lines["measures"][0] > 0
    own, faults, own2, faults2 = lines["after"]
    assert own == own2 == 1, lines
    assert min(faults, faults2) >= PAGES // 4, lines


def test_the_stabmon_command_fixes_the_threshold_as_it_starts():
    """Every `stabmon` command starts with the give-back policy (set from c_heap_policy, the one
    place). The probe first raises the threshold to 8 MiB, as glibc's dynamic threshold does after
    a large block is freed (or a MALLOC_MMAP_THRESHOLD_ in the environment): a 2 MiB array then
    comes from the heap. After the command has started it is mapped on its own, and stays so after
    a 4 MiB array is freed (the command's threshold is fixed: glibc no longer raises it)."""
    probe = PROBE.split("c_heap_policy.give_freed_arrays_back()")[0] + textwrap.dedent(
        """
        import sys
        libc.mallopt(M_MMAP_THRESHOLD, 8 << 20)
        if sys.argv[1] == "stabmon":
            from stabmon.cli import main
            main(["drills"])
        print("before", *one_array())
        big = np.ones((4 << 20) // 8)
        del big
        print("after", *one_array())
        """
    )
    mapped = {}
    for how in ("stabmon", "plain"):
        lines = _probe_lines(probe, how)
        mapped[how] = (lines["before"][0], lines["after"][0])
    # mapped on its own under the command's policy; from the heap without it
    assert mapped == {"stabmon": (1, 1), "plain": (0, 0)}
