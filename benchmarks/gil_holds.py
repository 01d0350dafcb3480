"""How long a thread that wakes (the engine's loop, woken by a notification) waits for the
interpreter while another thread of the process works: nothing (the reference), pure Python
(the report sender pickling, the writer gathering rows), or the recording writer's flushes of a
6-sensor session every 0.25 s: with the chunks filtered inside HDF5 by h5py (as before session
5), or filtered outside it and stored directly (`recordings.chunk_filters`, the writer's path
now); and how long those flushes took, in all and inside HDF5 calls (holding the lock).
The waking thread sleeps 0.5 ms in a loop; its lateness past that is the figure. Python's
switch interval (5 ms by default; the engine process sets 0.5 ms) bounds the wait behind
Python code, not behind a C call that holds the GIL (h5py).

Usage: python benchmarks/gil_holds.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from recordings import schema
from recordings.file_layout import SessionMetadata, datasets_of, layout, open_new
from recordings.pending_rows import PendingRows
from sensors.identity import SensorFamily, SensorIdentity
from sensors.placements import Placement
from sensors.processing.session import SessionSettings


def lateness_ms(seconds: float) -> np.ndarray:
    """How late (ms) each 0.5 ms sleep of this thread woke, over `seconds`."""
    late = []
    end = time.perf_counter() + seconds
    while (before := time.perf_counter()) < end:
        time.sleep(0.0005)
        late.append(time.perf_counter() - before - 0.0005)
    return np.array(late) * 1e3


def python_work(stop: threading.Event) -> None:
    while not stop.is_set():
        sum(range(1000))


#: Each writer flush of `session_flushes`: (whole ms, ms in HDF5 calls, holding the lock, CPU ms).
FLUSHES: dict[str, list[tuple[float, float, float]]] = {}


def session_flushes(stop: threading.Event, direct: bool, sensors: int = 6, rate_hz: float = 200.0) -> None:
    """The recording writer's flushes of a session of `sensors` at `rate_hz`, in the session
    file layout, every 0.25 s as the writer does, each with 0.25 s of smooth signals plus noise
    (as sensors give): through `PendingRows`, with the chunks filtered inside HDF5 (h5py, as
    before session 5; direct=False) or outside it and stored directly (direct=True)."""
    folder = tempfile.TemporaryDirectory()
    PendingRows.store_directly = direct
    flushes = FLUSHES.setdefault("direct chunks" if direct else "h5py gzip", [])
    identities = {
        p: SensorIdentity(SensorFamily.STABMON, f"C0:FF:EE:00:00:{k:02X}")
        for k, p in enumerate(tuple(Placement)[:sensors])
    }
    metadata = SessionMetadata("BENCH1", "quiet-stance", SessionSettings(rate_hz=rate_hz))
    with folder, open_new(Path(folder.name) / "w.h5", "w") as f:
        layout(f, metadata, identities)
        f.swmr_mode = True
        datasets = datasets_of(f)
        pending = PendingRows()
        rng = np.random.default_rng(0)
        n, start = int(rate_hz * 0.25), 0
        while not stop.is_set():
            t = (start + np.arange(n)) / rate_hz
            for k, placement in enumerate(identities):
                group = f"{schema.ACQUISITION}/{placement.value}"
                wave = np.sin(2 * np.pi * 0.3 * t + k)[:, None] * [0.5, 0.2, 9.8]
                for name, rows in (
                    ("device_time_s", t + k),
                    ("acc_m_s2", np.round(wave + rng.normal(0, 0.02, (n, 3)), 4)),
                    ("gyr_rad_s", np.round(wave / 10 + rng.normal(0, 0.005, (n, 3)), 5)),
                    ("sequence", start + np.arange(n)),
                    ("host_receive_ns", (t * 1e9).astype(np.int64) + 10**12),
                    ("session_time_s", t),
                    ("lost_before", np.zeros(n, np.int32)),
                ):
                    pending.add(f"{group}/{name}", rows)
                pending.add(
                    f"{schema.ACQUISITION}/{schema.ARRIVAL}/placement_index", np.full(n // 4, k, "u1")
                )
                pending.add(f"{schema.ACQUISITION}/{schema.ARRIVAL}/rows", np.full(n // 4, 4, "i4"))
            pending.add(f"{schema.PROCESSING}/time_s", t)
            pending.add(f"{schema.PROCESSING}/valid", np.ones((n, sensors), bool))
            began, filtered, cpu = time.perf_counter_ns(), pending.filter_ns, time.thread_time_ns()
            pending.write_to(datasets)
            f.flush()
            took = time.perf_counter_ns() - began
            cpu = time.thread_time_ns() - cpu
            flushes.append((took * 1e-6, (took - pending.filter_ns + filtered) * 1e-6, cpu * 1e-6))
            start += n
            stop.wait(max(0.25 - took * 1e-9, 0.0))
    PendingRows.store_directly = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    print(f"{'switch ms':>9} {'other thread':<14} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'p99 × ref':>9}")
    reference = lateness_ms(args.seconds)
    ref_p99 = float(np.percentile(reference, 99))
    ref_row = f"{np.median(reference):7.2f} {ref_p99:7.2f} {reference.max():7.2f} {1:9.1f}"
    print(f"{'-':>9} {'none (ref)':<14} {ref_row}")
    others: dict[str, Callable[[threading.Event], None]] = {
        "python": python_work,
        "h5py gzip": functools.partial(session_flushes, direct=False),
        "direct chunks": functools.partial(session_flushes, direct=True),
    }
    for interval in (0.005, 0.0005):
        sys.setswitchinterval(interval)
        for name, work in others.items():
            stop = threading.Event()
            thread = threading.Thread(target=work, args=(stop,))
            thread.start()
            late = lateness_ms(args.seconds)
            stop.set()
            thread.join()
            p99 = float(np.percentile(late, 99))
            print(
                f"{interval * 1e3:9.1f} {name:<14} {np.median(late):7.2f} {p99:7.2f} {late.max():7.2f} "
                f"{p99 / ref_p99:9.1f}",
                flush=True,
            )
    print("\nthe writer's flushes (6 sensors at 200 Hz, every 0.25 s), both switch intervals together:")
    head = f"{'path':<14} {'n':>4} {'flush p50':>9} {'p99':>7} {'max':>7}"
    print(f"{head} {'in HDF5 p50':>11} {'p99':>7} {'max':>7} {'CPU mean':>8} ms")
    for name, spans in FLUSHES.items():
        whole, hdf5, cpu = np.array(spans).T
        row = f"{name:<14} {len(whole):4d} {np.median(whole):9.2f} {np.percentile(whole, 99):7.2f}"
        row += f" {whole.max():7.2f} {np.median(hdf5):11.2f} {np.percentile(hdf5, 99):7.2f}"
        print(f"{row} {hdf5.max():7.2f} {cpu.mean():8.2f}")


if __name__ == "__main__":
    main()
