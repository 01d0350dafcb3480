"""Latency probe: when each notification reached the host and when each frame and measures
update was handed to the sinks, in the engine process (host monotonic clock, shared by every
process on the machine), and where the time between went. Used by benchmarks/latency.py and its
short regression test.

Stages (`attach` installs the timers on a runner; only probe runs are timed): for every
notification, its BLE callback stamp, when the link took it off its queue and when it was
decoded (a BLE source), and when the runner handed it, clock-mapped, to the sinks; for every
frame, when the synchroniser released it and when the pipeline had its angles (handed on).
Besides, what else held the engine's loop or the interpreter: frame processing, the recording
writer's flushes, garbage collections, and per thread CPU time and time spent waiting for a CPU
(Linux's schedstat; empty elsewhere)."""

from __future__ import annotations

import gc
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sensors.processing.live_measures import RunningMeasures
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import NullSink, SessionRunner
from sensors.samples import Frame, SampleBlock


def _schedstat(native_id: int) -> tuple[int, int]:
    """(ns on a CPU, ns runnable but waiting for one) of a thread of this process; (0, 0) where
    the OS does not say."""
    try:
        on_cpu, waiting, _ = Path(f"/proc/self/task/{native_id}/schedstat").read_text().split()
    except (OSError, ValueError):
        return 0, 0
    return int(on_cpu), int(waiting)


class _CpuWait:
    """The calling thread's time waiting for a CPU so far (ns), read cheaply and often."""

    def __init__(self) -> None:
        try:
            path = f"/proc/self/task/{threading.get_native_id()}/schedstat"
            self._fd: int | None = os.open(path, os.O_RDONLY)
        except OSError:
            self._fd = None

    def __call__(self) -> int:
        if self._fd is None:
            return 0
        return int(os.pread(self._fd, 128, 0).split()[1])

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass
class Probe(NullSink):
    """arrivals: placement → [(host ns, newest sample's session time s)] per notification block;
    frames / measures: [(monotonic ns when handed on, newest frame time / window end s)].

    Stages (filled once `attach`ed): notification_stages: placement → [(dequeued ns, decoded ns,
    handed to the sinks ns, loop thread's CPU-wait ns so far)], parallel to arrivals (dequeued
    and decoded are 0 for a source without a BLE link); frame_stages: [(released by the
    synchroniser ns, loop thread's CPU-wait ns so far)], parallel to frames; busy: what else
    held the loop or the interpreter, kind → [(start ns, end ns)] ("process": a frame's
    processing from release to the last sink, "flush": the writer appending and flushing,
    "hdf5": the same less the time it filtered chunks outside HDF5 (zlib, the lock released),
    i.e. what held the interpreter lock, "measures": a frame's processing that updated the
    running measures, "gc": a garbage collection); threads: thread name →
    (CPU s, s waiting for a CPU) over the recording."""

    arrivals: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    frames: list[tuple[int, float]] = field(default_factory=list)
    measures: list[tuple[int, float]] = field(default_factory=list)
    notification_stages: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)
    frame_stages: list[tuple[int, int]] = field(default_factory=list)
    busy: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    threads: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: placement → newest sample's device counter per notification block, parallel to arrivals.
    counters: dict[str, list[int]] = field(default_factory=dict)
    #: placement → [(monotonic ns the radio process sent a block, its newest counter)] (virtual
    #: sensors in a radio process only; filled by the engine after the recording).
    sends: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # (placement, notification's host ns) → (dequeued ns, decoded ns): a shared link decodes
        # ahead of the runner, so several of a placement's notifications can wait decoded.
        self._decoded: dict[tuple[str, int], tuple[int, int]] = {}
        self._released = (0, 0)
        self._undo: list[Any] = []
        self._threads_at: dict[int, tuple[str, tuple[int, int]]] = {}
        self._gc_started = 0
        self._cpu_wait: _CpuWait | None = None

    def _waited(self) -> int:
        return self._cpu_wait() if self._cpu_wait is not None else 0

    def __getstate__(self) -> dict[str, Any]:
        """What goes to the window: the records, not the timers."""
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    # Sink ----------------------------------------------------------------------------------

    def on_samples(self, block: SampleBlock, session_time_s: np.ndarray) -> None:
        now = time.monotonic_ns()
        stamp = int(block.host_receive_ns[-1])
        placement = block.placement.value
        self.arrivals.setdefault(placement, []).append((stamp, float(session_time_s[-1])))
        self.counters.setdefault(placement, []).append(int(block.sequence[-1]))
        dequeued, done = self._decoded.pop((placement, stamp), (0, 0))
        self.notification_stages.setdefault(placement, []).append((dequeued, done, now, self._waited()))

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        self.frames.append((time.monotonic_ns(), float(frame.time_s[-1])))
        self.frame_stages.append(self._released)

    def on_measures(self, measures: RunningMeasures) -> None:
        self.measures.append((time.monotonic_ns(), measures.time_s))

    # Timers --------------------------------------------------------------------------------

    def transport_ms(self) -> np.ndarray:
        """Per notification block that reached the sinks, from the radio process sending it to
        its arrival stamp in this process (ms), matched by the newest sample's counter (mod
        2^16, as a 16-bit counter wraps); empty without a send log."""
        delays = []
        for placement, sends in self.sends.items():
            sent = {counter % 65536: ns for ns, counter in sends}
            arrivals, counters = self.arrivals.get(placement, []), self.counters.get(placement, [])
            for (stamp, _), counter in zip(arrivals, counters, strict=True):
                ns = sent.get(counter % 65536)
                if ns is not None:
                    delays.append((stamp - ns) / 1e6)
        return np.array(delays)

    def attach(self, runner: SessionRunner) -> None:
        """Time the runner's stages (call before it runs; `detach` when it has ended): its frame
        processing, its BLE link's decoding, its recording writer's flushes, garbage
        collections, and the CPU time of this process's threads."""
        self._cpu_wait = _CpuWait()  # the loop's thread: attach is called on it
        process = runner._process

        def timed_process(frame: Frame) -> None:
            released = time.monotonic_ns()
            self._released = (released, self._waited())
            updates = len(self.measures)
            process(frame)
            span = (released, time.monotonic_ns())
            self.busy.setdefault("process", []).append(span)
            if len(self.measures) > updates:  # this frame's processing updated the running measures
                self.busy.setdefault("measures", []).append(span)

        self._patch(runner, "_process", timed_process)
        link = _inner(runner.source, "_decode")
        if link is not None:
            decode = link._decode

            def timed_decode(placement: Any, characteristic: str, host_ns: int, data: bytes) -> Any:
                dequeued = time.monotonic_ns()
                block = decode(placement, characteristic, host_ns, data)
                self._decoded[(placement.value, host_ns)] = (dequeued, time.monotonic_ns())
                while len(self._decoded) > _DECODED_KEPT:  # never matched (a block dropped)
                    del self._decoded[next(iter(self._decoded))]
                return block

            self._patch(link, "_decode", timed_decode)
        for sink in runner.sinks:
            writer = getattr(sink, "writer", None)
            if writer is not None and hasattr(writer, "_write"):
                write = writer._write

                def timed_write(*args: Any, _write: Any = write, _writer: Any = writer, **kwargs: Any) -> Any:
                    started, filtered = time.monotonic_ns(), getattr(_writer, "filter_ns", 0)
                    try:
                        return _write(*args, **kwargs)
                    finally:
                        ended = time.monotonic_ns()
                        self.busy.setdefault("flush", []).append((started, ended))
                        filtered = getattr(_writer, "filter_ns", 0) - filtered
                        self.busy.setdefault("hdf5", []).append((started, ended - filtered))

                self._patch(writer, "_write", timed_write)
        gc.callbacks.append(self._on_gc)
        self._undo.append(lambda: gc.callbacks.remove(self._on_gc))
        self._threads_at = {
            t.native_id: (t.name, _schedstat(t.native_id))
            for t in threading.enumerate()
            if t.native_id is not None
        }

    def detach(self) -> None:
        """Remove the timers and take each thread's CPU time and CPU wait since `attach`."""
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        if self._cpu_wait is not None:
            self._cpu_wait.close()
            self._cpu_wait = None
        names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
        for tid, name in names.items():
            _, (cpu0, wait0) = self._threads_at.get(tid, (name, (0, 0)))
            cpu, wait = _schedstat(tid)
            if cpu or wait:
                self.threads[name] = ((cpu - cpu0) * 1e-9, (wait - wait0) * 1e-9)

    def _patch(self, owner: object, name: str, replacement: Any) -> None:
        setattr(owner, name, replacement)
        self._undo.append(lambda: delattr(owner, name))

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.monotonic_ns()
        elif self._gc_started:
            self.busy.setdefault(f"gc{info.get('generation', '')}", []).append(
                (self._gc_started, time.monotonic_ns())
            )


#: Decoded notifications kept waiting for their block to reach the sinks.
_DECODED_KEPT = 4096


def _inner(source: object, attribute: str) -> Any:
    """The source (or one it wraps: a segment's shared source, a source with scripted events)
    that has `attribute`, or None."""
    seen = 0
    while source is not None and seen < 8:
        if hasattr(source, attribute):
            return source
        source = getattr(source, "source", None) or getattr(source, "shared", None)
        seen += 1
    return None
