"""Simulated session files for the processing benchmarks, made once and kept in a cache folder.

A file is what a live session writes: simulated sensors without a radio (two sensors, some
packet loss, one block per sensor per 20 ms of arrival time, about one BLE notification's worth)
opened by `engine.factory`, recorded through the factory's `Recording`.

Usage: python benchmarks/bench_recordings.py FOLDER --minutes 10 60 240 [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import replace
from pathlib import Path

import h5py

from engine.factory import Impairments, Recording, open_source, recording_metadata
from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors.processing import SessionSettings
from sensors.simulator import RadioSettings


def bench_recording(
    folder: Path, minutes: float, rate_hz: float = 200.0, drill: str = "forward-bend"
) -> Path:
    """The cached file for this length, rate and drill (made when missing)."""
    path = folder / f"bench_{drill}_{minutes:g}min_{rate_hz:g}hz.h5"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    seconds = minutes * 60
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=1, realtime=False),
        processing=SessionSettings(rate_hz=rate_hz, duration_s=seconds),
    )
    lossy = Impairments(radio=RadioSettings(burst_start_probability=0.002))
    partial = path.with_suffix(".partial.h5")

    async def record() -> None:
        async with open_source(spec, drill, seconds, impairments=lossy, delivery_s=0.02) as opened:
            metadata = replace(recording_metadata(spec, "BENCH01", opened), drill=drill)
            await Recording(spec, opened.source, metadata, partial).run()

    asyncio.run(record())
    partial.rename(path)
    return path


def tiled_recording(source: Path, copies: int) -> Path:
    """A recording `copies` times as long made of the source played again and again, each copy
    shifted in time (device, host and session clocks, sequence counters, events) so it goes on
    where the last ended; the same layout, chunks and compression as the source. Its stored
    session times are the source's shifted: a replay uses them, so it is a long session without
    simulating one (which takes ~20 min per hour of data on this machine)."""
    minutes = float(source.stem.split("_")[-2].removesuffix("min")) * copies
    path = source.with_name(source.name.replace(source.stem.split("_")[-2], f"{minutes:g}min"))
    if path.exists():
        return path
    partial = path.with_suffix(".partial.h5")
    with h5py.File(source, "r") as src, h5py.File(partial, "w") as dst:
        dst.attrs.update(dict(src.attrs))
        acquisition = src["acquisition"]
        first_ns = min(int(acquisition[p]["host_receive_ns"][0]) for p in acquisition if p != "arrival")
        last_ns = max(int(acquisition[p]["host_receive_ns"][-1]) for p in acquisition if p != "arrival")
        shift_ns = last_ns - first_ns + 10_000_000
        shift_s = shift_ns * 1e-9

        def copy(name: str, obj: h5py.HLObject) -> None:
            if isinstance(obj, h5py.Group):
                dst.require_group(name).attrs.update(dict(obj.attrs))
                return
            data = obj[()]
            if name.endswith("host_origin_ns") or name.startswith("calibration"):
                dst.create_dataset(name, data=data).attrs.update(dict(obj.attrs))
                return
            leaf = name.rsplit("/", 1)[-1]
            step = {
                "device_time_s": shift_s,
                "session_time_s": shift_s,
                "time_s": shift_s,
                "host_receive_ns": shift_ns,
            }
            if leaf == "sequence":
                step["sequence"] = int(data[-1] - data[0] + 1)
            out = dst.create_dataset(
                name,
                shape=(len(data) * copies, *data.shape[1:]),
                dtype=data.dtype,
                chunks=obj.chunks,
                maxshape=(None, *data.shape[1:]),
                compression=obj.compression,
                compression_opts=obj.compression_opts,
                shuffle=obj.shuffle,
                fletcher32=obj.fletcher32,
            )
            out.attrs.update(dict(obj.attrs))
            for k in range(copies):
                out[k * len(data) : (k + 1) * len(data)] = data + k * step[leaf] if leaf in step else data

        src.visititems(copy)
        settings = json.loads(dst["processing"].attrs["settings_json"])
        if settings.get("duration_s") is not None:
            settings["duration_s"] = settings["duration_s"] * copies  # the session runs on
        dst["processing"].attrs["settings_json"] = json.dumps(settings, sort_keys=True)
    partial.rename(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--minutes", type=float, nargs="+", default=[10.0, 60.0, 240.0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--tile", type=int, default=0, help="also a file this many times the longest")
    args = parser.parse_args()
    for minutes in args.minutes:
        path = bench_recording(args.folder, minutes, args.rate)
        print(path, flush=True)
    if args.tile > 1:
        print(tiled_recording(path, args.tile), flush=True)


if __name__ == "__main__":
    main()
