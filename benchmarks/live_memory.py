"""A live session's memory over hours: the recording writer, the one part that keeps growing.

The session runner alone is flat once its 15-minute clock window fills (RESULTS.md, issue 20,
session 4); what grew was the writer, below h5py. This feeds a `RecordingWriter` what a live
session of two sensors at 200 Hz hands it — raw blocks of 4 samples per notification, their
frames and angles — as fast as its thread drains them, and every 10 minutes of data prints the
process's resident memory (after glibc's `malloc_trim`), the C heap in use and free (`mallinfo2`,
all arenas), and HDF5's metadata cache (`get_mdc_size`: max, current bytes, entries).

The writer empties HDF5's free lists every `RELEASE_FREE_LISTS_S` of wall time
(recordings/hdf5_memory.py); fed at ~30× real time here, that is every ~30 minutes of data.
`--hdf5-gc` empties them before each reading as well, and `--no-release` turns the writer's own
release off (the writer as it was): the three runs separate those lists from anything else
that grows.

The figures that answer "is it flat": the growth of RSS and of the heap in use after the first
hour (least-squares slope, MiB per hour of data), beside the first hour's, while HDF5's caches fill.

Usage: python benchmarks/live_memory.py [--hours 3] [--hdf5-gc | --no-release]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from recordings import RecordingWriter, SessionMetadata
from recordings import writer as writer_module
from recordings.hdf5_memory import c_heap, release_free_lists
from sensors.identity import SensorFamily, SensorIdentity
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.processing.pipeline import AngleBlock
from sensors.samples import Frame, SampleBlock

RATE_HZ = 200.0
SAMPLES_PER_NOTIFICATION = 4
PLACEMENTS = (Placement.LUMBAR, Placement.PELVIS)


def _reading(writer: RecordingWriter, release: bool) -> dict[str, float]:
    """RSS, heap in use and free (MiB), and HDF5's metadata cache (bytes, entries), now."""
    if release and not release_free_lists():
        raise SystemExit("--hdf5-gc: h5py's HDF5 library was not found in this process")
    heap = c_heap(trim=True)
    status = Path("/proc/self/status").read_text().splitlines()
    rss_kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
    assert writer._file is not None  # open for the whole run
    cache_max, _, cache_bytes, cache_entries = writer._file.id.get_mdc_size()
    return {
        "rss_mib": rss_kib / 1024,
        "heap_in_use_mib": heap.in_use / 2**20,
        "heap_free_mib": heap.free / 2**20,
        "mdc_max_mib": cache_max / 2**20,
        "mdc_mib": cache_bytes / 2**20,
        "mdc_entries": cache_entries,
    }


def feed(writer: RecordingWriter, hours: float, release: bool) -> list[tuple[float, dict[str, float]]]:
    """Feed `hours` of synthetic 2 × 200 Hz session data; a reading every 10 minutes of data."""
    rng = np.random.default_rng(1)
    n, p = SAMPLES_PER_NOTIFICATION, len(PLACEMENTS)
    per_reading = int(600 * RATE_HZ / n)
    readings = []
    for step in range(int(hours * 3600 * RATE_HZ / n) + 1):
        first = step * n
        t = (first + np.arange(n)) / RATE_HZ
        for placement in PLACEMENTS:
            stamp = np.full(n, int(t[-1] * 1e9) + 5_000_000)
            block = SampleBlock(
                placement,
                t,
                rng.normal(size=(n, 3)),
                rng.normal(size=(n, 3)),
                np.arange(first, first + n),
                stamp,
            )
            writer.append_samples(block, t)
        frame = Frame(
            t,
            PLACEMENTS,
            rng.normal(size=(n, p, 3)),
            rng.normal(size=(n, p, 3)),
            np.ones((n, p), bool),
            RATE_HZ,
        )
        orientation = np.tile([1.0, 0.0, 0.0, 0.0], (n, p, 1))
        angles = AngleBlock(
            t,
            PLACEMENTS,
            orientation,
            rng.normal(size=(n, p, 2)),
            rng.normal(size=(n, p)),
            rng.normal(size=(n, p, 3)),
            rng.normal(size=(n, 3)),
        )
        writer.append_frame(frame, angles)
        while len(writer._incoming) > 2000:  # as fast as the writer drains, never a growing queue
            time.sleep(0.01)
        if step % per_reading == 0:
            time.sleep(2 * writer.flush_interval_s)  # what was handed over is written
            readings.append((first / RATE_HZ / 60, _reading(writer, release)))
            minutes, now = readings[-1]
            print(
                f"{minutes:5.0f} min  RSS {now['rss_mib']:6.1f} MiB"
                f"  heap in use {now['heap_in_use_mib']:5.1f}"
                f"  free {now['heap_free_mib']:4.1f}  HDF5 metadata cache {now['mdc_mib']:4.2f} of"
                f" {now['mdc_max_mib']:4.2f} MiB ({now['mdc_entries']:.0f} entries)",
                flush=True,
            )
    return readings


def growth_per_hour(readings: list[tuple[float, dict[str, float]]], key: str, first: bool) -> float:
    """MiB per hour of data: least-squares slope over the first hour, or over everything after it."""
    minutes = np.array([m for m, _ in readings])
    values = np.array([r[key] for _, r in readings])
    window = minutes <= 60 if first else minutes >= 60
    return float(np.polyfit(minutes[window], values[window], 1)[0] * 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=3.0, help="hours of data to write (≥ 1.5)")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--hdf5-gc", action="store_true", help="empty HDF5's free lists before each reading")
    choice.add_argument("--no-release", action="store_true", help="the writer never empties them")
    args = parser.parse_args()
    if args.hours < 1.5:
        parser.error("--hours must be at least 1.5: the growth is read after the first hour")
    if args.no_release:
        writer_module.RELEASE_FREE_LISTS_S = float("inf")
    sensors = {p: SensorIdentity(SensorFamily.SIMULATED, f"BENCH-{p.value.upper()}") for p in PLACEMENTS}
    with tempfile.TemporaryDirectory() as folder:
        metadata = SessionMetadata("BENCH1", "gait", SessionSettings(rate_hz=RATE_HZ))
        writer = RecordingWriter(Path(folder) / "live.h5", metadata, sensors)
        start = time.perf_counter()
        readings = feed(writer, args.hours, args.hdf5_gc)
        writer.close()
        size_mb = (Path(folder) / "live.h5").stat().st_size / 1e6
    print(
        f"{args.hours:g} h of data in {time.perf_counter() - start:.0f} s, file {size_mb:.0f} MB,"
        f" load {os.getloadavg()[0]:.1f}"
    )
    for key in ("rss_mib", "heap_in_use_mib"):
        print(
            f"{key}: first hour {growth_per_hour(readings, key, True):+.2f} MiB/h,"
            f" after it {growth_per_hour(readings, key, False):+.2f} MiB/h"
        )


if __name__ == "__main__":
    main()
