"""Latency figures from a probe's timestamps (`engine.probe.Probe`): from each notification to
the first output holding its newest sample, and (the honest definition) from the last
notification an output needed to that output, with that delay split by stage in the engine
(used by benchmarks/latency.py and its test).

The notification an output with newest grid time T needs from a sensor is that sensor's first
notification whose newest sample is at or after T: the synchroniser interpolates T between the
samples around it, so it needs the first sample at or after T, and the notifications before
that one end before T. Every notification counts, also those before the span measured: an
output early in the span may need one from before it."""

from __future__ import annotations

from typing import Any

import numpy as np

#: The stages of the honest delay, in order: the loop taking the notification off the link's
#: queue, decoding it, mapping its clock and handing it to the sinks, the synchroniser releasing
#: the frame it completes, the pipeline computing its angles.
STAGES = ("queue", "decode", "clock map", "release", "pipeline")


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
    if not updates:
        return np.zeros(0)
    return last_needed_latencies_ms(arrivals, updates)


def last_needed(
    arrivals: dict[str, list[tuple[int, float]]], newest_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For outputs with newest times newest_s (m,) s: (arrival ns (m,) of the last notification
    each needed, the sensor (m,) it came from as an index into arrivals, and its index (m,) in
    that sensor's list); -1 where a sensor has no notification reaching the output's time."""
    m = len(newest_s)
    latest = np.full(m, -1, dtype=np.int64)
    sensor = np.full(m, -1, dtype=np.int64)
    index = np.full(m, -1, dtype=np.int64)
    complete = np.ones(m, dtype=bool)
    for s, per_sensor in enumerate(arrivals.values()):
        if not per_sensor:
            complete[:] = False
            continue
        stamp = np.array([a[0] for a in per_sensor], dtype=np.int64)
        newest = np.maximum.accumulate(np.array([a[1] for a in per_sensor], dtype=float))
        k = np.searchsorted(newest, newest_s, side="left")
        found = k < len(stamp)
        complete &= found
        at = np.where(found, stamp[np.minimum(k, len(stamp) - 1)], -1)
        later = found & (at > latest)
        latest[later], sensor[later], index[later] = at[later], s, k[later]
    latest[~complete] = sensor[~complete] = index[~complete] = -1
    return latest, sensor, index


def last_needed_latencies_ms(
    arrivals: dict[str, list[tuple[int, float]]], outputs: list[tuple[int, float]]
) -> np.ndarray:
    """For every output (monotonic ns, newest time s) every sensor has data for, the delay (ms)
    from the arrival of the last notification it needed (negative: it went out before)."""
    if not outputs:
        return np.zeros(0)
    wall = np.array([o[0] for o in outputs], dtype=np.int64)
    latest, _, _ = last_needed(arrivals, np.array([o[1] for o in outputs], dtype=float))
    ok = latest >= 0
    return (wall[ok] - latest[ok]) / 1e6


def frame_stages_ms(probe: Any, start_s: float) -> dict[str, np.ndarray]:
    """For every frame after start_s (s) that every sensor has data for, its honest delay
    ("total", ms) split into STAGES (ms; they add up to it), and "cpu wait": how long (ms) the
    engine's loop thread was runnable but waiting for a CPU during it (other programs; from the
    readings nearest before and after, so it may overlap the neighbouring frames a little), and
    "own": the delay less that wait (what it would be with a CPU free whenever the engine wants
    one; a lower bound, as the wait may be overcounted). Empty arrays for a probe without
    stages."""
    names = list(probe.arrivals)
    stages = [np.array(probe.notification_stages.get(n, []), dtype=np.int64).reshape(-1, 4) for n in names]
    found = _needed(probe, start_s)
    if found is None or any(len(s) == 0 for s in stages):
        return {k: np.zeros(0) for k in ("total", *STAGES, "cpu wait", "own")}
    out_ns, latest, sensor, index, released = found
    needed = np.array([stages[s][i] for s, i in zip(sensor, index, strict=True)]).reshape(-1, 4)
    dequeued, decoded, mapped = needed[:, 0], needed[:, 1], needed[:, 2]
    if not dequeued.all():  # a source without a BLE link: no queue or decoding seen
        dequeued = decoded = latest
    # The loop thread's CPU wait, read at every notification and frame: a cumulative series.
    readings = np.concatenate([s[:, 2:4] for s in stages] + [released.reshape(-1, 2)])
    readings = readings[np.argsort(readings[:, 0], kind="stable")]
    before = np.clip(np.searchsorted(readings[:, 0], latest, side="right") - 1, 0, None)
    after = np.minimum(np.searchsorted(readings[:, 0], out_ns, side="left"), len(readings) - 1)
    cpu_wait = readings[after, 1] - readings[before, 1]
    points = [latest, dequeued, decoded, mapped, released[:, 0], out_ns]
    result = {"total": (out_ns - latest) / 1e6}
    for name, start, end in zip(STAGES, points[:-1], points[1:], strict=True):
        result[name] = (end - start) / 1e6
    result["cpu wait"] = np.maximum(cpu_wait, 0) / 1e6
    result["own"] = np.maximum(result["total"] - result["cpu wait"], 0.0)
    return result


def _needed(
    probe: Any, start_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """For every frame after start_s (s) that every sensor has data for: (handed on ns, arrival
    ns of the last notification it needed, that notification's sensor and index, (released ns,
    CPU wait ns) (n, 2)); None without frames."""
    kept = [(f, s) for f, s in zip(probe.frames, probe.frame_stages, strict=False) if f[1] > start_s]
    if not kept:
        return None
    out_ns = np.array([f[0] for f, _ in kept], dtype=np.int64)
    released = np.array([s for _, s in kept], dtype=np.int64).reshape(-1, 2)
    latest, sensor, index = last_needed(probe.arrivals, np.array([f[1] for f, _ in kept]))
    ok = latest >= 0
    return out_ns[ok], latest[ok], sensor[ok], index[ok], released[ok]


def overlapping(
    probe: Any, start_s: float = 5.0, busy: dict[str, list[tuple[int, int]]] | None = None
) -> dict[str, np.ndarray]:
    """For every frame of `frame_stages_ms` (same order): per kind of `busy` (by default
    `probe.busy`: "flush", "hdf5", "process", "gc0", …), whether any of its spans overlaps the
    frame's honest delay (from the last notification it needed to the frame) (n,) bool.
    Comparing the delays of frames that overlap a kind with those that overlap none says what
    the tail waits on."""
    found = _needed(probe, start_s)
    if found is None:
        return {}
    out_ns, latest = found[0], found[1]
    result = {}
    for kind, spans in (probe.busy if busy is None else busy).items():
        if not spans:
            continue
        table = np.array(sorted(spans), dtype=np.int64).reshape(-1, 2)
        reach = np.maximum.accumulate(table[:, 1])  # furthest end of the spans begun so far
        k = np.searchsorted(table[:, 0], out_ns, side="left") - 1  # last span begun before the frame
        result[kind] = (k >= 0) & (reach[np.maximum(k, 0)] > latest)
    return result


def latency_figures(
    probe: Any, drained: list[tuple[int, float]], period_s: float, start_s: float = 5.0
) -> dict[str, np.ndarray]:
    """The benchmark's rows (ms) for the outputs after start_s (s): frames, measures updates and
    the dashboard's drained buffers (monotonic ns, newest time s). Per notification: from the
    notifications after start_s, to outputs from a second before (which may hold them). Per
    output (last needed): from every notification, since the last one an output needed may
    come before start_s."""
    arrivals = {p: [a for a in v if a[1] > start_s] for p, v in probe.arrivals.items()}
    frames = [f for f in probe.frames if f[1] > start_s]
    buffers = [d for d in drained if d[1] > start_s]
    return {
        "frame per notif.": latencies_ms(arrivals, [f for f in probe.frames if f[1] > start_s - 1], period_s),
        "frame last needed": last_needed_latencies_ms(probe.arrivals, frames),
        "measure last needed": measure_latencies_ms(
            probe.arrivals, [m for m in probe.measures if m[1] > start_s]
        ),
        "dashboard per notif.": latencies_ms(arrivals, [d for d in drained if d[1] > start_s - 1], period_s),
        "dashboard last needed": last_needed_latencies_ms(probe.arrivals, buffers),
    }
