"""CPU of `stabmon analyze`'s coverage check (which sensor sent nothing when) on one recording:
from the session times the replay has already inflated (`coverage_of(recording, times)`, what
`analyze` does since session 10) against the reference in the same process, the same check read
from the file again (`silence_lines` of a recording read without its samples, what `analyze`
did before). Medians of `--runs` interleaved runs, CPU (user + system) of this process.

    env -u PYTHONDONTWRITEBYTECODE .venv/bin/python benchmarks/coverage_check.py FILE.h5 [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from recordings.coverage import coverage_of, silence_lines
from recordings.reader import read_recording
from recordings.replay import open_recorded_stream


def _cpu_ms(check: Callable[[], list[str]]) -> tuple[float, list[str]]:
    start = time.process_time()
    lines = check()
    return 1000 * (time.process_time() - start), lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    recording = read_recording(args.file, derived=False, raw=False)
    with open_recorded_stream(args.file) as (opened, stream):
        assert stream.session_time_s is not None
        times = {p: np.asarray(stream.session_time_s[p][:]) for p in opened.placements}
    reread, replayed = [], []
    for _ in range(args.runs):
        ms, from_file = _cpu_ms(lambda: silence_lines(recording))
        reread.append(ms)
        ms, from_replay = _cpu_ms(lambda: coverage_of(recording, times).lines())
        replayed.append(ms)
        if from_file != from_replay:
            raise SystemExit(f"the two checks disagree: {from_file} against {from_replay}")
    print(
        json.dumps(
            {
                "file": args.file.name,
                "from_the_file_cpu_ms": round(statistics.median(reread), 1),
                "from_the_replay_cpu_ms": round(statistics.median(replayed), 1),
                "ratio": round(statistics.median(replayed) / statistics.median(reread), 2),
                "lines": from_replay,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
