"""Simulated session files for the processing benchmarks, made once and kept in a cache folder.

A file is what a live session writes: a `SimulatedSource` (two sensors, some packet loss, one
block per sensor per 20 ms of arrival time, about one BLE notification's worth) through the
`SessionRunner` into a `RecordingWriter`.

Usage: python benchmarks/bench_recordings.py FOLDER --minutes 10 60 240 [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from recordings import RecordingSink, RecordingWriter, SessionMetadata
from sensors.placements import REQUIRED_PLACEMENTS
from sensors.processing import SessionRunner, SessionSettings
from sensors.simulator import (
    DrillOptions,
    RadioSettings,
    SimulatedSensorSettings,
    SimulatedSource,
    make_drill,
)


def bench_recording(
    folder: Path, minutes: float, rate_hz: float = 200.0, drill: str = "forward-bend"
) -> Path:
    """The cached file for this length, rate and drill (made when missing)."""
    path = folder / f"bench_{drill}_{minutes:g}min_{rate_hz:g}hz.h5"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    seconds = minutes * 60
    sensor = SimulatedSensorSettings(rate_hz=rate_hz, radio=RadioSettings(burst_start_probability=0.002))
    source = SimulatedSource(
        make_drill(drill, DrillOptions(duration_s=seconds, seed=1)),
        REQUIRED_PLACEMENTS,
        sensor,
        seed=1,
        delivery_s=0.02,
    )
    settings = SessionSettings(rate_hz=rate_hz, duration_s=seconds)
    partial = path.with_suffix(".partial.h5")
    writer = RecordingWriter(partial, SessionMetadata("BENCH01", drill, settings), source.sensors)
    try:
        asyncio.run(SessionRunner(source, [RecordingSink(writer)], settings).run())
    finally:
        writer.close()
    partial.rename(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path)
    parser.add_argument("--minutes", type=float, nargs="+", default=[10.0, 60.0, 240.0])
    parser.add_argument("--rate", type=float, default=200.0)
    args = parser.parse_args()
    for minutes in args.minutes:
        print(bench_recording(args.folder, minutes, args.rate), flush=True)


if __name__ == "__main__":
    main()
