"""Latency figures from a probe's timestamps (`engine.probe.Probe`): from each notification to
the first output holding its newest sample, and (the honest definition) from the last
notification an output needed to that output (used by benchmarks/latency.py and its test)."""

from __future__ import annotations

import numpy as np


def latencies_ms(
    arrivals: dict[str, list[tuple[int, float]]], outputs: list[tuple[int, float]], period_s: float
) -> np.ndarray:
    """For every notification, the delay (ms) from its arrival to the first output whose newest
    time covers its newest sample (outputs are in order)."""
    out_ns = np.array([o[0] for o in outputs], dtype=np.int64)
    out_t = np.maximum.accumulate(np.array([o[1] for o in outputs]))
    delays = []
    for per_sensor in arrivals.values():
        a = np.array(per_sensor, dtype=float)
        k = np.searchsorted(out_t, a[:, 1] - period_s / 2)
        ok = k < len(out_t)
        delays.append((out_ns[k[ok]] - a[ok, 0].astype(np.int64)) / 1e6)
    return np.concatenate(delays)


def measure_latencies_ms(
    arrivals: dict[str, list[tuple[int, float]]], updates: list[tuple[int, float]]
) -> np.ndarray:
    """For every measures update, the delay (ms) from the arrival of the last notification it
    needed (the latest, over sensors, of the first notification covering its window end)."""
    delays = []
    for wall_ns, end_s in updates:
        needed = []
        for per_sensor in arrivals.values():
            a = np.array(per_sensor, dtype=float)
            k = int(np.searchsorted(a[:, 1], end_s - 1e-9))
            if k < len(a):
                needed.append(a[k, 0])
        if needed:
            delays.append((wall_ns - max(needed)) / 1e6)
    return np.array(delays)


def last_needed_latencies_ms(
    arrivals: dict[str, list[tuple[int, float]]], outputs: list[tuple[int, float]], period_s: float
) -> np.ndarray:
    """For every output (monotonic ns, newest sample time s), the delay (ms) from the arrival of
    the last notification it needed: over sensors, the latest arrival of the first notification
    whose newest sample reaches the output's newest time (within half a period)."""
    per_sensor = [np.array(v, dtype=float) for v in arrivals.values() if v]
    delays = []
    for wall_ns, newest_s in outputs:
        needed = []
        for a in per_sensor:
            k = int(np.searchsorted(a[:, 1], newest_s - period_s / 2))
            if k < len(a):
                needed.append(a[k, 0])
        if len(needed) == len(per_sensor) and needed:
            delays.append((wall_ns - max(needed)) / 1e6)
    return np.array(delays)
