"""Recording write rate and file size.

1. Write rate: a simulated session (6 sensors at 200 Hz by default) is run once into memory, then
   everything the recorder receives — raw blocks, frames and angles, events — is fed to a
   `RecordingWriter` and closed, timed. Reference in the same process: the same arrays written
   to a raw binary file with numpy (what sequential disk writing costs). Reported: samples/s,
   multiple of real time, and the ratio to the reference; and the writer's wall and CPU time
   (all threads) against the same writer with every chunk filtered inside HDF5 (the path before
   chunks were compressed outside h5py), with both files' sizes.
2. File size per hour of a two-sensor recording (100 and 200 Hz), through the live session path,
   against the uncompressed size of the same data, per group (/acquisition raw data, /processing,
   the rest), in the default layout (angles left to replay) and with the angles stored.

Usage: python benchmarks/recording_write.py [--seconds 120] [--sensors 6] [--rate 200]
       [--size-seconds 300] [--size-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

from engine.factory import Recording
from engine.spec import SessionSpec
from recordings import RecordingWriter, SessionMetadata
from recordings.pending_rows import PendingRows
from sensors.placements import Placement
from sensors.processing import SessionRunner, SessionSettings
from sensors.processing.session import NullSink
from sensors.simulator import DrillOptions, SimulatedSensorSettings, SimulatedSource, make_drill


class _Keep(NullSink):
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple]] = []

    def on_samples(self, block, session_time_s) -> None:
        self.calls.append(("samples", (block, session_time_s)))

    def on_frame(self, frame, angles) -> None:
        self.calls.append(("frame", (frame, angles)))

    def on_event(self, event) -> None:
        self.calls.append(("event", (event,)))


def _source(seconds: float, placements: tuple[Placement, ...], rate_hz: float) -> SimulatedSource:
    drill = make_drill("gait", DrillOptions(duration_s=seconds, seed=1))
    return SimulatedSource(drill, placements, SimulatedSensorSettings(rate_hz=rate_hz), seed=1)


def _write_all(
    keep: _Keep, path: Path, settings: SessionSettings, sensors: dict, direct: bool = True
) -> tuple[float, float]:
    """Feed everything kept to a `RecordingWriter` and close it: (wall s, CPU s of the process).
    direct=False: every chunk filtered inside HDF5 (h5py), as before session 5."""
    PendingRows.store_directly = direct
    try:
        start, cpu = time.perf_counter(), time.process_time()
        writer = RecordingWriter(path, SessionMetadata("BENCH1", "gait", settings), sensors)
        for kind, args in keep.calls:
            if kind == "samples":
                writer.append_samples(*args)
            elif kind == "frame":
                writer.append_frame(*args)
            else:
                writer.add_event(*args)
        writer.close()
        return time.perf_counter() - start, time.process_time() - cpu
    finally:
        PendingRows.store_directly = True


def write_rate(seconds: float, sensors: int, rate_hz: float, folder: Path) -> dict[str, float]:
    placements = tuple(Placement)[:sensors]
    settings = SessionSettings(rate_hz=rate_hz)
    keep = _Keep()
    source = _source(seconds, placements, rate_hz)
    asyncio.run(SessionRunner(source, [keep], settings).run())
    samples = sum(len(args[0]) for kind, args in keep.calls if kind == "samples")

    writer_s, writer_cpu_s = _write_all(keep, folder / "rate.h5", settings, source.sensors)
    h5py_s, h5py_cpu_s = _write_all(keep, folder / "rate-h5py.h5", settings, source.sensors, direct=False)

    start = time.perf_counter()
    with (folder / "reference.bin").open("wb") as f:
        for kind, args in keep.calls:
            if kind == "samples":
                block, session_time = args
                for array in (
                    block.device_time_s,
                    block.acc_m_s2,
                    block.gyr_rad_s,
                    block.sequence,
                    block.host_receive_ns,
                    session_time,
                ):
                    np.ascontiguousarray(array).tofile(f)
            elif kind == "frame":
                frame, angles = args
                for array in (
                    frame.time_s,
                    frame.valid,
                    angles.orientation,
                    angles.inclination_rad,
                    angles.axial_rad,
                    angles.angular_velocity_rad_s,
                    angles.lumbar_rad,
                ):
                    np.ascontiguousarray(array).tofile(f)
    reference_s = time.perf_counter() - start
    return {
        "sensors": sensors,
        "rate_hz": rate_hz,
        "data_seconds": seconds,
        "samples": samples,
        "writer_samples_per_s": round(samples / writer_s),
        "writer_x_realtime": round(seconds / writer_s, 1),
        "writer_cost_vs_raw_numpy_write": round(writer_s / reference_s, 1),
        "writer_cpu_s": round(writer_cpu_s, 2),
        "h5py_filters_wall_s": round(h5py_s, 2),
        "h5py_filters_cpu_s": round(h5py_cpu_s, 2),
        "cpu_vs_h5py_filters": round(writer_cpu_s / h5py_cpu_s, 2),
        "file_mb": round((folder / "rate.h5").stat().st_size / 1e6, 2),
        "file_mb_h5py_filters": round((folder / "rate-h5py.h5").stat().st_size / 1e6, 2),
        "raw_bytes_mb": round((folder / "reference.bin").stat().st_size / 1e6, 2),
    }


def _stored_mb(path: Path, per_hour: float) -> dict[str, float]:
    """Bytes each top-level group's datasets take on disk, MB per hour of data."""
    sizes: dict[str, int] = {}

    def add(name: str, item: h5py.HLObject) -> None:
        if isinstance(item, h5py.Dataset):
            group = name.split("/")[0]
            sizes[group] = sizes.get(group, 0) + item.id.get_storage_size()

    with h5py.File(path, "r") as f:
        f.visititems(add)
    return {group: round(size * per_hour / 1e6, 1) for group, size in sorted(sizes.items())}


def size_per_hour(seconds: float, rate_hz: float, folder: Path, store_angles: bool = False) -> dict:
    placements = (Placement.LUMBAR, Placement.PELVIS)
    settings = SessionSettings(rate_hz=rate_hz)
    source = _source(seconds, placements, rate_hz)
    path = folder / f"size{rate_hz:.0f}{'-angles' if store_angles else ''}.h5"
    metadata = SessionMetadata("BENCH1", "gait", settings, store_angles=store_angles)
    asyncio.run(Recording(SessionSpec(processing=settings), source, metadata, path).run())
    per_sample = 8 * (1 + 3 + 3 + 1 + 1 + 1) + 4  # raw datasets, bytes per sample
    per_frame = 8 * 1 + 2  # frame grid and gap flags, bytes per frame
    if store_angles:
        per_frame += 8 * (2 * (4 + 2 + 1 + 3) + 3)  # the angle datasets
    raw_mb_h = (2 * per_sample + per_frame) * rate_hz * 3600 / 1e6
    per_hour = 3600 / seconds
    return {
        "rate_hz": rate_hz,
        "angles_stored": store_angles,
        "file_mb_per_hour": round(path.stat().st_size * per_hour / 1e6, 1),
        "datasets_mb_per_hour": _stored_mb(path, per_hour),
        "uncompressed_mb_per_hour": round(raw_mb_h, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--sensors", type=int, default=6, choices=range(1, len(Placement) + 1))
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--size-seconds", type=float, default=300.0)
    parser.add_argument("--size-only", action="store_true", help="skip the write-rate part")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results: dict[str, object] = {}
        if not args.size_only:
            results["write_rate"] = write_rate(args.seconds, args.sensors, args.rate, Path(folder))
        results["size_two_sensors"] = [
            size_per_hour(args.size_seconds, rate, Path(folder), store_angles)
            for rate in (100.0, 200.0)
            for store_angles in (False, True)
        ]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
