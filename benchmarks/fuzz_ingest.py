"""Fuzz campaign over the ingest path: what sensors send, through what the link does with it,
into the recording, read back and analysed. Prints the counts the issue asks for.

Stages:
  notifications  per family (stabmon, Movella DOT, Polar PMD, WitMotion), streams of valid
                 notifications with faults mixed in — duplicates, reordering, counter and
                 device-time jumps (±2^31, 2^63 µs, 10 s back), reboots (with and without the
                 restart flag), extreme values, bit flips, truncations, random bytes — through the
                 link's path after the queue (`SensorIngest`: real stream decoder, gate, health).
                 A *clear error* is a notification kept out and counted (decode error, duplicate,
                 out of order, rejected). A *traceback* is any exception escaping; an *invariant
                 failure* a delivered block out of order, non-finite or beyond range.
  files          the stabmon streams' delivered blocks written by `RecordingWriter` and read back
                 with `read_recording`: every file must read, with exactly the samples delivered.
  sessions       whole virtual sessions over bumble's in-process link (stabmon and DOT sensors
                 with random fault plans), each in a child process: recorded, read back and
                 analysed (replay + measures). A *crash* is a child killed by a signal or
                 failing.

Usage: python benchmarks/fuzz_ingest.py [--streams 400] [--files 150] [--sessions 4] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np

from recordings import RecordingWriter, SessionMetadata, read_recording
from sensors.ble.admission import GateSettings
from sensors.ble.codecs import movella_dot as dot
from sensors.ble.codecs import polar_pmd as pmd
from sensors.ble.codecs import stabmon as profile
from sensors.ble.codecs import witmotion as wit
from sensors.ble.ingest import SensorIngest
from sensors.ble.polar_decoder import PolarDecoder
from sensors.ble.stream_decoders import DotDecoder, StabmonDecoder, WitDecoder
from sensors.constants import GRAVITY_M_S2
from sensors.identity import SensorFamily, SensorIdentity
from sensors.placements import Placement

RATE = 100.0
FAULTS = (
    "duplicate",
    "reorder",
    "counter+2^31",
    "counter-2^31",
    "counter back",
    "time 2^63",
    "time -10 s",
    "time +1e6 s",
    "reboot",
    "reboot no flag",
    "extreme",
    "bitflip",
    "truncate",
    "random",
    "pause",
)


class Stream:
    """A sensor of one family producing valid notifications (bytes), with faults on request."""

    def __init__(self, family: str, rng: np.random.Generator) -> None:
        self.family = family
        self.rng = rng
        self.sequence = int(rng.integers(0, 2**32))  # a counter anywhere, wraps included
        self.time_us = int(rng.integers(0, 2**33))
        self.host_s = 0.05
        self.flags = 0
        self.acc_scale = 1.0

    def _samples(self, n: int) -> np.ndarray:
        return self.rng.integers(-20_000, 20_000, size=(n, 6)).astype(np.int16)

    def next(self) -> tuple[str, bytes, list[bytes]]:
        """One notification (characteristic, bytes, and the notifications it needs after it)."""
        n = int(self.rng.integers(1, 10))
        counts = self._samples(n)
        if self.family == "stabmon":
            packet = profile.ImuPacket(
                self.sequence & 0xFFFFFFFF,
                self.time_us,
                10_000,
                2,
                3,
                counts[:, :3],
                counts[:, 3:],
                self.flags,
            )
            self.flags = 0
            out = ("s", packet.to_bytes(), [])
        elif self.family == "dot":
            n = 1
            acc = tuple(float(x) * 1e-3 * self.acc_scale for x in counts[0, :3])
            gyr = tuple(float(x) * 1e-2 for x in counts[0, 3:])
            payload = dot.RateQuantities(self.time_us % dot.TIMESTAMP_WRAP_US, acc, gyr, (0, 0, 0))
            out = ("d", payload.to_bytes(), [])
        elif self.family == "polar":
            stamp = pmd_stamp = (599_000_000_000_000_000 + self.time_us * 1000) % 2**64
            acc = pmd.DataFrame(pmd.MeasurementType.ACC, stamp, 1, True, counts[:, :3].astype(np.int64))
            gyr = pmd.DataFrame(pmd.MeasurementType.GYRO, pmd_stamp, 0, True, counts[:, 3:].astype(np.int64))
            out = ("p", acc.to_bytes(), [gyr.to_bytes()])
        else:
            payload = b"".join(
                wit.ImuPacket(tuple(map(int, c[:3])), tuple(map(int, c[3:]))).to_bytes() for c in counts
            )
            out = ("w", payload, [])
        self.sequence += n
        self.time_us += round(n * 1e6 / RATE)
        self.host_s += n / RATE + float(self.rng.exponential(0.005))
        return out

    def fault(self, kind: str) -> None:
        """Change the sensor so its following notifications carry the fault."""
        if kind == "counter+2^31":
            self.sequence += 2**31
            self.time_us += round(2**31 * 1e6 / RATE) if self.family != "stabmon" else 0
        elif kind == "counter-2^31":
            self.sequence -= 2**31
        elif kind == "counter back":
            self.sequence -= int(self.rng.integers(1, 3000))
            if self.family != "stabmon":
                self.time_us = max(self.time_us - 500_000, 0)
        elif kind == "time 2^63":
            self.time_us = 2**63 + int(self.rng.integers(0, 1000))
        elif kind == "time -10 s":
            self.time_us = max(self.time_us - 10_000_000, 0)
        elif kind == "time +1e6 s":
            self.time_us += 10**12
        elif kind in ("reboot", "reboot no flag"):
            self.sequence, self.time_us = 0, int(self.rng.integers(0, 5000))
            self.flags = profile.FLAG_CLOCK_RESTARTED if kind == "reboot" else 0
        elif kind == "pause":
            self.host_s += float(self.rng.exponential(3.0))
        self.time_us = min(max(self.time_us, 0), 2**64 - 1 - 20 * 10_000)


def _mutate(data: bytes, kind: str, rng: np.random.Generator) -> bytes:
    if kind == "bitflip" and data:
        buffer = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            buffer[int(rng.integers(0, len(buffer)))] ^= 1 << int(rng.integers(0, 8))
        return bytes(buffer)
    if kind == "truncate":
        return data[: int(rng.integers(0, max(len(data), 1)))]
    if kind == "random":
        return rng.bytes(int(rng.integers(0, 260)))
    return data


def _ingest(family: str) -> tuple[SensorIngest, str]:
    decoder = {
        "stabmon": (StabmonDecoder(), profile.IMU_DATA_UUID),
        "dot": (DotDecoder(RATE), dot.MEDIUM_PAYLOAD_UUID),
        "polar": (PolarDecoder(RATE, 1.0, 0.0610), pmd.DATA_UUID),
        "wit": (WitDecoder(RATE), wit.NOTIFY_UUID),
    }[family]
    return SensorIngest(Placement.LUMBAR, decoder[0], GateSettings(rate_hz=RATE)), decoder[1]


def fuzz_stream(family: str, rng: np.random.Generator, length: int, counts: Counter) -> list:
    """One stream of `length` notifications with faults; returns the blocks delivered."""
    stream = Stream(family, rng)
    ingest, characteristic = _ingest(family)
    blocks = []
    held: list[tuple[bytes, float]] = []
    last_sequence = -math.inf
    for _ in range(length):
        kind = FAULTS[int(rng.integers(0, len(FAULTS)))] if rng.random() < 0.15 else "none"
        if kind == "extreme":
            stream.acc_scale = 1e6 if stream.family == "dot" else 1.0
        _, data, following = stream.next()
        stream.acc_scale = 1.0
        wire = [(d, stream.host_s) for d in (data, *following)]
        if kind in ("bitflip", "truncate", "random"):
            wire = [(_mutate(d, kind, rng), h) for d, h in wire]
        elif kind == "duplicate":
            wire = wire + wire
        elif kind == "reorder":
            held, wire = wire, []
        elif kind != "none":
            stream.fault(kind)
        if kind != "reorder" and held:
            wire, held = wire + [(d, stream.host_s) for d, _ in held], []
        counts[f"fault: {kind}"] += 1
        for payload, host_s in wire:
            counts["inputs tried"] += 1
            before = _kept_out(ingest)
            try:
                block = ingest.notification(characteristic, payload, round(host_s * 1e9))
            except Exception:  # the thing that must never happen
                counts["tracebacks"] += 1
                if counts["tracebacks"] <= 3:
                    traceback.print_exc()
                continue
            if _kept_out(ingest) > before:
                counts["clear errors"] += 1
            if block is None:
                continue
            counts["blocks delivered"] += 1
            ok = (
                int(block.sequence[0]) > last_sequence
                and np.all(np.isfinite(block.acc_m_s2))
                and np.all(np.abs(block.acc_m_s2) <= 16.02 * GRAVITY_M_S2)
            )
            if not ok:
                counts["invariant failures"] += 1
            last_sequence = int(block.sequence[-1])
            blocks.append(block)
    return blocks


def _kept_out(ingest: SensorIngest) -> int:
    c = ingest.gate.counts
    return ingest.decode_errors + c.duplicates + c.out_of_order + c.rejected


_IDENTITY = SensorIdentity(SensorFamily.STABMON, "AA:BB:CC:00:00:01", "S1", "1.0.0", "stabmon-imu")


def write_and_read(blocks: list, folder: Path, k: int, counts: Counter) -> None:
    path = folder / f"fuzz{k}.h5"
    writer = RecordingWriter(path, SessionMetadata("FUZZ1", "quiet-stance"), {Placement.LUMBAR: _IDENTITY})
    writer.set_host_origin(0)
    for block in blocks:
        writer.append_samples(block, block.device_time_s - blocks[0].device_time_s[0])
    writer.close()
    counts["files written"] += 1
    try:
        rec = read_recording(path)
    except Exception as error:
        counts["files unreadable"] += 1
        print(f"unreadable: {path}: {error}", file=sys.stderr)
        return
    got = rec.samples[Placement.LUMBAR]
    expected = np.concatenate([b.acc_m_s2 for b in blocks]) if blocks else np.zeros((0, 3))
    if len(got) != len(expected) or not np.array_equal(got.acc_m_s2, expected):
        counts["files with other samples than delivered"] += 1
    counts["files read back"] += 1
    path.unlink()


_SESSION = """
import asyncio, json, sys
import numpy as np
from engine.factory import Impairments, record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from recordings.analysis import analyze_recording, replay
from sensors.ble.virtual.base import FaultPlan
from sensors.identity import SensorFamily
from sensors.placements import Placement
from sensors.processing import SessionSettings

seed, family, path = int(sys.argv[1]), SensorFamily(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(seed)
SECONDS = 12.0
pair = (Placement.LUMBAR, Placement.PELVIS)

def plan():
    jumps = tuple(
        (float(rng.uniform(3, 11)), int(rng.choice([0, 2**31, -1000])), float(rng.choice([0.0, -10.0, 1e6])))
        for _ in range(int(rng.integers(0, 3)))
    )
    reboots = (float(rng.uniform(3, 11)),) if family is SensorFamily.STABMON and rng.random() < 0.5 else ()
    return FaultPlan(
        duplicate_every=int(rng.integers(0, 12)), reorder_every=int(rng.integers(0, 12)),
        garbage_every=int(rng.integers(0, 30)), jumps=jumps, reboots_at_s=reboots,
    )

async def main():
    spec = SessionSpec(
        SourceSpec(SourceKind.VIRTUAL_BLE, family, pair, seed=seed, realtime=False, scan_timeout_s=1.5),
        processing=SessionSettings(rate_hz=100.0, duration_s=SECONDS),
    )
    impairments = Impairments(faults={p: plan() for p in pair})
    done = record(spec, "FUZZ2", path, "quiet-stance", SECONDS, impairments=impairments)
    return (await asyncio.wait_for(done, 300)).report

report = asyncio.run(main())
rec = read_recording(path)
replayed = replay(rec)
try:
    analyze_recording(rec)
    analysed = True
except Exception as error:  # a clear ProcessingError (e.g. never calibrated) is fine
    from sensors.processing.errors import ProcessingError
    if not isinstance(error, ProcessingError):
        raise
    analysed = False
kept = {p.value: {k: getattr(h, k) for k in ("decode_errors", "duplicates", "out_of_order",
        "rejected_blocks", "restarts")} for p, h in report.health.items()}
print(json.dumps({"samples": sum(len(s) for s in rec.samples.values()), "frames": replayed.report.frames,
                  "analysed": analysed, "kept_out": kept}))
"""


def run_sessions(n: int, seed: int, folder: Path, counts: Counter) -> None:
    families = ("stabmon", "movella_dot")
    for k in range(n):
        family = families[k % len(families)]
        path = folder / f"session{k}.h5"
        child = subprocess.run(
            [sys.executable, "-c", _SESSION, str(seed * 1000 + k), family, str(path)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        counts["sessions run"] += 1
        if child.returncode < 0:
            counts["crashes"] += 1
            print(f"session {k} ({family}): killed by signal {-child.returncode}", file=sys.stderr)
        elif child.returncode != 0:
            counts["tracebacks"] += 1
            print(f"session {k} ({family}) failed:\n{child.stderr[-3000:]}", file=sys.stderr)
        else:
            result = json.loads(child.stdout.strip().splitlines()[-1])
            counts["sessions read back and analysed"] += 1
            if result["frames"] > 13.5 * 100:
                counts["invariant failures"] += 1
            print(f"  session {k} ({family}): {result}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=400, help="fault-laden streams per family")
    parser.add_argument("--length", type=int, default=300, help="notifications per stream")
    parser.add_argument("--files", type=int, default=150, help="stabmon streams written and read back")
    parser.add_argument("--sessions", type=int, default=4, help="whole virtual sessions")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the gate's warnings are expected by the thousand
    rng = np.random.default_rng(args.seed)
    counts: Counter = Counter({"tracebacks": 0, "crashes": 0, "invariant failures": 0, "files unreadable": 0})
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for family in ("stabmon", "dot", "polar", "wit"):
            for k in range(args.streams):
                blocks = fuzz_stream(family, rng, args.length, counts)
                if family == "stabmon" and k < args.files:
                    write_and_read(blocks, folder, k, counts)
        run_sessions(args.sessions, args.seed, folder, counts)
    elapsed = time.perf_counter() - started
    order = [
        "inputs tried",
        "clear errors",
        "blocks delivered",
        "tracebacks",
        "crashes",
        "invariant failures",
        "files written",
        "files read back",
        "files unreadable",
        "sessions run",
        "sessions read back and analysed",
    ]
    for key in order + sorted(k for k in counts if k not in order):
        print(f"{key:<40} {counts[key]}")
    print(f"{'wall time':<40} {elapsed:.0f} s")


if __name__ == "__main__":
    main()
