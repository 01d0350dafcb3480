"""What keeping the writer process's unconfirmed tail costs the engine (`recordings.writer_tail`):
per raw block handed to a `WriterProcess`, the engine's loop now also keeps it until a flush of the
writer process confirms it (`UnconfirmedTail.keep`), and the reply reader forgets what each flush
wrote (`UnconfirmedTail.confirmed`, about 5 a second). Reference: queueing the message alone
(what `WriterProcess._put` did before). A session of `--sensors` at `--rate` Hz, 4 samples a
notification, `--seconds` of it; each run alternates reference and tail to share the machine's
state, best of `--repeats`.

Usage: python benchmarks/writer_tail.py [--sensors 6] [--rate 200] [--seconds 60] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time
from collections import deque

import numpy as np

from recordings import schema
from recordings.writer_messages import RawSamples, WriterMessage
from recordings.writer_rows import ARRIVAL, RAW_COLUMNS
from recordings.writer_tail import UnconfirmedTail
from sensors.placements import Placement
from sensors.samples import SampleBlock

PER_BLOCK = 4
FLUSH_S = 0.2


def blocks(placements: list[Placement], rate_hz: float, seconds: float) -> list[RawSamples]:
    """The session's raw blocks in arrival order (one per sensor in turn)."""
    rng = np.random.default_rng(1)
    out = []
    for k in range(int(seconds * rate_hz / PER_BLOCK)):
        seq = np.arange(k * PER_BLOCK, (k + 1) * PER_BLOCK)
        for p in placements:
            block = SampleBlock(
                p, seq / rate_hz, rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), seq, np.full(4, 10**9 + k)
            )
            out.append(RawSamples(block, seq / rate_hz))
    return out


def queue_only(messages: list[RawSamples]) -> float:
    """Seconds to queue every message (the reference)."""
    queued: deque[WriterMessage] = deque()
    began = time.perf_counter()
    for message in messages:
        queued.append(message)
    return time.perf_counter() - began


def queue_and_keep(messages: list[RawSamples], placements: list[Placement], rate_hz: float) -> float:
    """Seconds to queue and keep every message, with a confirmation every FLUSH_S of data (all but
    the last 0.5 s confirmed, as the writer process's flushes do)."""
    tail = UnconfirmedTail(placements, rate_hz)
    queued: deque[WriterMessage] = deque()
    per_flush = int(FLUSH_S * rate_hz / PER_BLOCK) * len(placements)
    began = time.perf_counter()
    for n, message in enumerate(messages, 1):
        tail.keep(message)
        queued.append(message)
        if n % per_flush == 0:
            rows = max(0, n // len(placements) * PER_BLOCK - int(0.5 * rate_hz))
            written = {f"{schema.ACQUISITION}/{p.value}/{c}": rows for p in placements for c in RAW_COLUMNS}
            written[f"{ARRIVAL}/rows"] = n
            tail.confirmed(written)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sensors", type=int, default=6)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    placements = list(Placement)[: args.sensors]
    messages = blocks(placements, args.rate, args.seconds)
    reference, kept = [], []
    for _ in range(args.repeats):
        reference.append(queue_only(messages))
        kept.append(queue_and_keep(messages, placements, args.rate))
    n = len(messages)
    ref_us, kept_us = min(reference) / n * 1e6, min(kept) / n * 1e6
    print(f"{args.sensors} sensors at {args.rate:.0f} Hz, {args.seconds:.0f} s: {n} blocks")
    print(f"queue only (reference):      {ref_us:6.2f} µs a block")
    print(f"queue and keep the tail:     {kept_us:6.2f} µs a block  ({kept_us / ref_us:.1f}x the reference)")
    print(f"added CPU of the engine:     {(kept_us - ref_us) * n / args.seconds / 1e4:.3f} % of one core")


if __name__ == "__main__":
    main()
