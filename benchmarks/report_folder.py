"""`stabmon report` of one session in a patient's folder: each of the subject's files read and
analysed once per report (`recordings.report_cache.FileAnalyses`) against reading and analysing
them again each time the baseline, the trend and the visit ask (what reports did before), in the
same process, alternating. Also checks that both write the same report byte for byte.

The folder: one visit of `--sessions` recordings of `--seconds` each, alternating quiet stance
and forward bends, from the simulator without a radio (made once, kept in FOLDER).

Usage: python benchmarks/report_folder.py FOLDER [--sessions 12] [--seconds 30] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import resource
import time
from pathlib import Path
from typing import Any

from engine.factory import record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings.reader import Recording, read_recording
from recordings.report_cache import FileAnalyses
from sensors.processing import SessionSettings
from sensors.processing.analysis import AnalysisResult

#: The per-file results each report made, for their counts.
MADE: list[FileAnalyses] = []


class Once(FileAnalyses):
    """`FileAnalyses` as it is, kept in MADE."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        MADE.append(self)


class Forgetful(Once):
    """Reports before: a file read again for each part that asks for it (the baseline's own read
    analysed as it is), and analysed again each time."""

    _last: Recording | None = None

    def read(self, path: Path | str) -> Recording:
        self.reads += 1
        self._last = read_recording(path)
        return self._last

    def result(self, path: Path | str, label: str = "") -> AnalysisResult:
        last, self._last = self._last, None
        recording = last if last is not None and last.path == Path(path) else self.read(path)
        self.analyses += 1
        return self._analyze(recording, label)


def make_folder(root: Path, sessions: int, seconds: float) -> list[Path]:
    """The visit's files, oldest first (made when missing)."""
    folder = root / f"{sessions}x{seconds:g}s" / "sub-B01"  # a library: the report finds the others
    paths = []
    for k in range(sessions):
        drill = ("quiet-stance", "forward-bend")[k % 2]
        path = folder / f"sub-B01_{drill}_{k:02d}.h5"
        if not path.exists():
            spec = SessionSpec(
                SourceSpec(SourceKind.SIMULATED, seed=k + 1, realtime=False),
                processing=SessionSettings(rate_hz=100.0, duration_s=seconds),
            )
            asyncio.run(record(spec, "B01", path, drill, seconds))
        paths.append(path)
    return paths


def _cpu() -> float:
    """CPU time of this process and its reaped children (the replay's frames are built in a
    forked child), user + system, s."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def report_once(current: Path, out: Path, analyses: type[FileAnalyses]) -> tuple[float, float, str]:
    """(CPU s, wall s, counts) of one `stabmon report` in this process with `analyses`."""
    import stabmon.outputs
    from stabmon.cli import main

    stabmon.outputs.FileAnalyses = analyses  # type: ignore[misc]
    MADE.clear()
    cpu, wall = _cpu(), time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        assert main(["report", str(current), "-o", str(out)]) == 0
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    counts = f"{MADE[0].reads} reads, {MADE[0].analyses} analyses"
    return cpu, wall, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--sessions", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    paths = make_folder(args.folder, args.sessions, args.seconds)
    current = paths[-2] if paths[-1].name.count("forward-bend") else paths[-1]
    print(f"report of {current.name} among {len(paths)} files of {args.seconds:g} s")
    report_once(current, args.folder / "warm.html", Once)  # imports, caches of the process
    totals = {"once": [0.0, 0.0], "again": [0.0, 0.0]}
    for k in range(args.rounds):
        for name, kind in (
            (("once", Once), ("again", Forgetful))
            if k % 2 == 0
            else (
                ("again", Forgetful),
                ("once", Once),
            )
        ):
            cpu, wall, counts = report_once(current, args.folder / f"{name}.html", kind)
            totals[name][0] += cpu
            totals[name][1] += wall
            print(f"  round {k + 1} {name:<5}  CPU {cpu:6.2f} s  wall {wall:6.2f} s  ({counts})")
    same = (args.folder / "once.html").read_bytes() == (args.folder / "again.html").read_bytes()
    once, again = totals["once"], totals["again"]
    print(f"same report byte for byte: {same}")
    print(
        f"once/again: CPU {once[0] / again[0]:.2f} ({once[0] / args.rounds:.2f} s against "
        f"{again[0] / args.rounds:.2f} s), wall {once[1] / again[1]:.2f}"
    )


if __name__ == "__main__":
    main()
