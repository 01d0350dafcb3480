"""How long a thread that wakes (the engine's loop, woken by a notification) waits for the
interpreter while another thread of the process works: nothing (the reference), pure Python
(the report sender pickling, the writer gathering rows), or h5py appending gzip chunks and
flushing (the recording writer). The waking thread sleeps 0.5 ms in a loop; its lateness past
that is the figure. Python's switch interval (5 ms by default; the engine process sets 0.5 ms)
bounds the wait behind Python code, not behind a C call that holds the GIL (h5py).

Usage: python benchmarks/gil_holds.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np


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


def h5py_writes(stop: threading.Event) -> None:
    """Append gzip chunks (with shuffle and checksums, as the recordings do) and flush."""
    folder = tempfile.TemporaryDirectory()
    with folder, h5py.File(Path(folder.name) / "w.h5", "w", libver="latest") as f:
        datasets = [
            f.create_dataset(
                f"x{k}",
                shape=(0, 3),
                maxshape=(None, 3),
                dtype="f8",
                chunks=(500, 3),
                compression="gzip",
                compression_opts=4,
                shuffle=True,
                fletcher32=True,
            )
            for k in range(12)
        ]
        rng = np.random.default_rng(0)
        while not stop.is_set():
            for d in datasets:
                n = d.shape[0]
                d.resize(n + 500, axis=0)
                d[n:] = rng.standard_normal((500, 3))
            f.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    print(f"{'switch ms':>9} {'other thread':<14} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'p99 × ref':>9}")
    reference = lateness_ms(args.seconds)
    ref_p99 = float(np.percentile(reference, 99))
    ref_row = f"{np.median(reference):7.2f} {ref_p99:7.2f} {reference.max():7.2f} {1:9.1f}"
    print(f"{'-':>9} {'none (ref)':<14} {ref_row}")
    others: dict[str, Callable[[threading.Event], None]] = {"python": python_work, "h5py gzip": h5py_writes}
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


if __name__ == "__main__":
    main()
