"""While an analysis runs the C heap keeps what it frees (recordings/c_heap_policy.py): a large
array allocated again costs no page faults; after it, freed large arrays go back to the system.
Checked with glibc's own counters (mallinfo2: blocks mapped on their own) and the kernel's
(minor page faults), in a fresh interpreter (the policy is process-wide)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="glibc's malloc")

PROBE = textwrap.dedent(
    """
    import ctypes, resource
    import numpy as np
    from recordings import c_heap_policy
    from recordings.hdf5_memory import _MallInfo2

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    ROWS = (2 << 20) // 8  # a 2 MiB array, as large as a frame block's arrays

    def one_array():
        # (blocks mapped on their own while it lives, page faults to fill it)
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        a = np.ones(ROWS)
        held = libc.mallinfo2().hblks
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
        del a
        return held, faults

    c_heap_policy.give_freed_arrays_back()
    base = libc.mallinfo2().hblks
    print("give-back", *one_array(), *one_array(), base)
    with c_heap_policy.keeping_freed_memory():
        base = libc.mallinfo2().hblks
        one_array()
        print("keeping", *one_array(), *one_array(), base)
    base = libc.mallinfo2().hblks
    print("after", *one_array(), *one_array(), base)
    """
)


def test_freed_arrays_are_reused_inside_and_given_back_outside():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    lines = {line.split()[0]: [int(x) for x in line.split()[1:]] for line in result.stdout.splitlines()}
    pages = (2 << 20) // 4096
    for policy in ("give-back", "after"):  # each array mapped on its own, every page faulted in
        held, faults, held2, faults2, base = lines[policy]
        assert held == held2 == base + 1, (policy, lines)
        # (the kernel may map two pages a fault)
        assert faults >= pages // 4 and faults2 >= pages // 4, (policy, lines)
    held, faults, held2, faults2, base = lines["keeping"]  # from the heap, its pages already there
    assert held == held2 == base, lines
    assert faults < pages // 50 and faults2 < pages // 50, lines


def test_an_analysis_leaves_the_give_back_policy_behind():
    """`analyze_file` keeps freed memory only while it runs: after it (here on a small real
    recording) a large array is mapped on its own again and the heap holds no spare memory."""
    data = Path(__file__).parent / "data" / "schema-0.2.0-libver-latest.h5"
    probe = PROBE.split("c_heap_policy.give_freed_arrays_back()")[0] + textwrap.dedent(
        f"""
        from recordings.analysis import analyze_file
        c_heap_policy.give_freed_arrays_back()
        recording, result = analyze_file({str(data)!r})
        print("measures", len(result.measures))
        base = libc.mallinfo2().hblks
        print("after", *one_array(), *one_array(), base)
        """
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    lines = {line.split()[0]: [int(x) for x in line.split()[1:]] for line in result.stdout.splitlines()}
    assert lines["measures"][0] > 0
    held, faults, held2, faults2, base = lines["after"]
    assert held == held2 == base + 1, lines
    assert min(faults, faults2) >= (2 << 20) // 4096 // 4, lines


def test_the_stabmon_command_fixes_the_threshold_as_it_starts():
    """Every `stabmon` command starts with the give-back policy (set from c_heap_policy, the one
    place): after a 4 MiB array is freed glibc's own dynamic threshold would rise to 4 MiB and
    the next 2 MiB array come from the heap; under the command's policy it is mapped on its own."""
    probe = PROBE.split("c_heap_policy.give_freed_arrays_back()")[0] + textwrap.dedent(
        """
        import sys
        if sys.argv[1] == "stabmon":
            from stabmon.cli import main
            main(["drills"])
        big = np.ones((4 << 20) // 8)
        del big  # freed: glibc's dynamic threshold follows it
        base = libc.mallinfo2().hblks
        print("after", *one_array(), base)
        """
    )
    counts = {}
    for how in ("stabmon", "plain"):
        result = subprocess.run(
            [sys.executable, "-c", probe, how], capture_output=True, text=True, check=True
        )
        (line,) = [x for x in result.stdout.splitlines() if x.startswith("after")]
        held, _, base = (int(x) for x in line.split()[1:])
        counts[how] = held - base
    assert counts == {"stabmon": 1, "plain": 0}  # mapped on its own; from the heap without it
