"""`benchmarks/analysis_timeline.py`: every phase it wraps still exists (a renamed function would
silently drop out of the timeline), and its figures from a record are worked out as documented."""

import importlib

import pytest

from benchmarks.analysis_timeline import PHASES, _owner, rows, summary


@pytest.mark.parametrize("phase", PHASES, ids=[p[1] for p in PHASES])
def test_every_wrapped_function_exists(phase):
    _, _, module, dotted, _ = phase
    owner, name = _owner(importlib.import_module(module), dotted)
    assert callable(getattr(owner, name))


def test_the_critical_path_and_the_phase_rows_of_a_record():
    record = {
        "started": 100.0,
        "interpreter": [100.0, 100.05],
        "imports": [100.05, 100.3],
        "end": 102.0,
        "wall_s": 2.0,
        "spans": [
            ["command", "wait for frames (pipe)", 1, 100.7, 100.72, 0.001],
            ["command", "pipeline steps", 1, 100.72, 101.0, 0.25],
            ["command", "pipeline steps", 1, 101.0, 101.7, 0.3],
            ["command", "wait for frames (pipe)", 1, 101.7, 101.75, 0.001],
        ],
        "frames": {"start": 100.7, "end": 101.7, "user_s": 0.5, "sys_s": 0.1, "spans": []},
        "user_s": 1.2,
        "sys_s": 0.2,
        "load": 0.5,
        "main_thread_cpu": [0.6, 1.3, 1.5],  # at the fork, after the frames, at the end
        "inflate_waits_s": 0.05,
    }
    figures = summary(record)
    # 0.05 start + 0.05 waits + 0.6 to the fork + max(0.7 beside, 0.6 frames) + 0.2 after
    assert figures["critical_path_cpu_s"] == pytest.approx(1.6)
    assert figures["fork_at_s"] == pytest.approx(0.7)
    assert figures["last_frames_received_at_s"] == pytest.approx(1.75)
    assert figures["after_the_frames_s"] == pytest.approx(0.25)
    assert figures["waited_for_frames_s"] == pytest.approx(0.07)
    steps = next(r for r in rows(record) if r[1] == "pipeline steps")
    assert steps[3:] == pytest.approx((0.72, 1.7, 0.98, 0.55, 2))  # start, end, wall, CPU, calls
