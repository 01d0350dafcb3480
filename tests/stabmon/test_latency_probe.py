"""The latency probe's honest definition on made-up timelines with known answers: from the last
notification a frame needed to the frame."""

from __future__ import annotations

import numpy as np

from benchmarks.latency_probe import frame_stages_ms, last_needed_latencies_ms, latency_figures, overlapping
from engine.probe import Probe

MS = 1_000_000  # ns


def _probe(seconds=8.0, out_after_ms=1.0):
    """Two sensors, a notification of 4 samples (200 Hz) every 20 ms each, the pelvis 7 ms after
    the lumbar; a frame up to the lumbar's newest sample goes out out_after_ms after the pelvis
    notification that completes it (the pelvis samples 2 ms after the lumbar)."""
    probe = Probe()
    for k in range(round(seconds / 0.02)):
        newest = 0.015 + 0.02 * k
        probe.arrivals.setdefault("lumbar", []).append((round((newest + 0.003) * 1e9), newest))
        probe.arrivals.setdefault("pelvis", []).append((round((newest + 0.010) * 1e9), newest + 0.002))
        probe.frames.append((round((newest + 0.010) * 1e9 + out_after_ms * MS), newest))
    return probe


def test_every_frame_is_timed_from_the_notification_that_completed_it():
    probe = _probe()
    figures = latency_figures(probe, [], 1 / 200, start_s=5.0)
    delays = figures["frame last needed"]
    # Frames early in the span need notifications from before it: they count too (they were
    # taken for frames sent before their data, 5 % of them, when only the span's counted).
    assert len(delays) == 150
    np.testing.assert_allclose(delays, 1.0, atol=1e-6)


def test_a_notification_ending_before_the_frame_time_is_not_the_one_it_needed():
    # The lumbar's notifications end 1 ms before each 5 ms grid time: the frame at 0.100 s needs
    # the lumbar's next notification (newest 0.119 s, arrived at 120 ms), not the one ending at
    # 0.099 s (arrived at 100 ms). Counted from that one, the delay would read 21 ms.
    arrivals = {"lumbar": [(100 * MS, 0.099), (120 * MS, 0.119)], "pelvis": [(101 * MS, 0.1002)]}
    np.testing.assert_allclose(last_needed_latencies_ms(arrivals, [(121 * MS, 0.100)]), [1.0])


def test_the_stages_add_up_to_the_delay():
    probe = _probe(seconds=2.0, out_after_ms=3.0)
    for placement, arrivals in probe.arrivals.items():  # each stage takes 0.5 ms (release 1 ms)
        probe.notification_stages[placement] = [
            (ns + MS // 2, ns + MS, ns + 3 * MS // 2, 0) for ns, _ in arrivals
        ]
    probe.frame_stages = [(ns - MS // 2, 0) for ns, _ in probe.frames]
    stages = frame_stages_ms(probe, start_s=1.0)
    np.testing.assert_allclose(stages["total"], 3.0)
    for name, expected in (
        ("queue", 0.5),
        ("decode", 0.5),
        ("clock map", 0.5),
        ("release", 1.0),
        ("pipeline", 0.5),
    ):
        np.testing.assert_allclose(stages[name], expected)


def test_frames_are_marked_by_what_overlapped_their_delay():
    """Each frame's delay runs from the pelvis notification (newest + 10 ms) to 1 ms later: a
    span inside one frame's delay, one touching only its start, one ending just before it and
    one long span over three frames give known marks."""
    probe = _probe(seconds=2.0)
    probe.frame_stages = [(0, 0)] * len(probe.frames)
    starts = {k: probe.frames[k][0] - MS for k in range(len(probe.frames))}  # each delay's start
    probe.busy = {
        "flush": [(starts[60] + MS // 4, starts[60] + MS // 2), (starts[70] - MS, starts[70] + 1)],
        "gc0": [(starts[80] - 2 * MS, starts[80] - 1)],  # ends before the delay begins
        "process": [(starts[90], starts[92] + MS // 2)],
    }
    frames = [f for f in probe.frames if f[1] > 1.0]
    first = probe.frames.index(frames[0])
    hits = overlapping(probe, start_s=1.0)
    marked = {kind: sorted(int(k) + first for k in np.flatnonzero(hit)) for kind, hit in hits.items()}
    assert marked == {"flush": [60, 70], "gc0": [], "process": [90, 91, 92]}
