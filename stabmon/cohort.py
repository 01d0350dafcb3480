"""`stabmon cohort`: every recording under folders into one tidy measures table.

Files are analysed in parallel on local processes (default), or on a Dask distributed cluster
with `--cluster ADDRESS` (needs `pip install 'stabmon[cohort]'`; the workers must see the files
at the same absolute paths). Files done before (same content, same subject settings, same
stabmon) are taken from the journal next to the output; a file that fails is a row with its
error; a local worker that dies costs at most the file it was analysing; a progress bar goes to
stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TextIO

from recordings.cohort import (
    BEING_RECORDED,
    FileResult,
    Row,
    check_output,
    cohort_table,
    error_result,
    file_rows,
    find_recordings,
    write_table,
)
from recordings.cohort_journal import CohortJournal

log = logging.getLogger(__name__)

#: (path, sha256) of a file to analyse, and what came of it.
Task = tuple[str, str]
Outcome = tuple[str, str, FileResult]

#: What a file whose analysing process died gets (tried again next run).
WORKER_DIED = (
    "the process analysing this file died, also when it ran alone (killed, e.g. out of memory, or "
    "crashed): tried again next run"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folders", nargs="+", type=Path, metavar="DIR", help="folders to search for *.h5")
    parser.add_argument("-o", "--out", type=Path, required=True, help="the table: .parquet or .csv")
    parser.add_argument("--cluster", metavar="ADDRESS", help="Dask scheduler address (tcp://host:8786)")
    parser.add_argument("--workers", type=int, default=None, help="local processes (default: one per core)")
    parser.add_argument(
        "--restart", action="store_true", help="forget the journal of files done and analyse all again"
    )


def journal_path(out: Path) -> Path:
    """Where the rows of finished files are kept between runs."""
    return out.with_name(out.name + ".journal.jsonl")


class ProgressBar:
    """`  cohort [#####-----] 12/40 files, 1 failed, 0:07` on one updating stderr line (a line
    per tenth of the way when stderr is not a terminal). With `delay_s`, nothing is shown until
    that long has passed (for a phase that is usually quick)."""

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        width: int = 30,
        label: str = "cohort",
        unit: str = "files, {failed} failed",
        delay_s: float = 0.0,
    ) -> None:
        stream = sys.stderr if stream is None else stream  # looked up now: tests and shells swap it
        self.total, self.stream, self.width = total, stream, width
        self.label, self.unit, self.delay_s = label, unit, delay_s
        self.done = self.failed = 0
        self._start = time.monotonic()
        self._tty = stream.isatty()
        self._shown_tenth = -1
        self._shown = False

    def update(self, failed: bool = False) -> None:
        self.done += 1
        self.failed += int(failed)
        tenth = 10 * self.done // max(self.total, 1)
        waited = time.monotonic() - self._start >= self.delay_s
        if (waited or self._shown) and (self._tty or tenth != self._shown_tenth or self.done == self.total):
            self._shown_tenth = tenth
            self._show()

    def _show(self) -> None:
        self._shown = True
        filled = self.width * self.done // max(self.total, 1)
        elapsed = int(time.monotonic() - self._start)
        text = (
            f"  {self.label} [{'#' * filled}{'-' * (self.width - filled)}] {self.done}/{self.total} "
            f"{self.unit.format(failed=self.failed)}, {elapsed // 60}:{elapsed % 60:02d}"
        )
        end = "\n" if not self._tty or self.done == self.total else ""
        print(("\r" if self._tty else "") + text, end=end, file=self.stream, flush=True)


def _local(
    todo: list[Task], workers: int | None, analyse: Callable[[str, str], FileResult] = file_rows
) -> Iterator[Outcome]:
    """Analyse on local processes, `workers` at a time (2 per worker handed out). When a worker
    dies the pool is rebuilt: the files it had in hand are each tried once more alone, in a pool
    of their own (naming the one that kills its worker), and the others go on as before."""
    workers = workers or os.cpu_count() or 1
    queue: deque[Task] = deque(todo)
    while queue:
        suspects: list[Task] = []
        pool = ProcessPoolExecutor(max_workers=workers)
        try:
            in_flight: dict[Future[FileResult], Task] = {}
            while (queue or in_flight) and not suspects:
                while queue and len(in_flight) < 2 * workers:
                    task = queue.popleft()
                    in_flight[pool.submit(analyse, *task)] = task
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                    done, _ = wait(in_flight)  # a broken pool ends every future at once
                for future in done:
                    task = in_flight.pop(future)
                    if isinstance(future.exception(), BrokenProcessPool):
                        suspects.append(task)
                    else:
                        yield _outcome(task, future)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        yield from _alone(suspects, analyse)


def _alone(tasks: Iterable[Task], analyse: Callable[[str, str], FileResult]) -> Iterator[Outcome]:
    """Each file in a one-process pool of its own (after its worker died with others')."""
    pool: ProcessPoolExecutor | None = None
    try:
        for task in tasks:
            pool = pool or ProcessPoolExecutor(max_workers=1)
            future = pool.submit(analyse, *task)
            wait([future])
            if isinstance(future.exception(), BrokenProcessPool):
                pool.shutdown(wait=True)
                pool = None
                yield (*task, error_result(*task, WORKER_DIED))
            else:
                yield _outcome(task, future)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _outcome(task: Task, future: Future[FileResult]) -> Outcome:
    error = future.exception()
    if error is None:
        return (*task, future.result())
    return (*task, error_result(*task, f"worker failed: {type(error).__name__}: {error}"))


def _dask(todo: list[Task], address: str) -> Iterator[Outcome]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise ValueError("--cluster needs Dask: pip install 'stabmon[cohort]'") from None
    with Client(address) as client:
        futures = {}
        for path, sha in todo:
            futures[client.submit(file_rows, path, sha, pure=False, key=f"stabmon-cohort-{sha}-{path}")] = (
                path,
                sha,
            )
        for future in dask_completed(futures):
            task = futures[future]
            try:
                yield (*task, future.result())
            except Exception as error:  # the worker died or the task was lost: tried again next run
                yield (*task, error_result(*task, f"worker failed: {type(error).__name__}: {error}"))


def _hashes(files: list[Path], journal: CohortJournal, stream: TextIO) -> list[str | OSError]:
    """Each file's content hash (or why it cannot be read), on threads (hashing frees the GIL),
    with a progress bar when it takes more than a second."""
    progress = ProgressBar(len(files), stream, label="hashing", unit="files read", delay_s=1.0)

    def one(path: Path) -> str | OSError:
        try:
            return journal.content_hash(path)
        except OSError as error:
            return error

    hashes = []
    threads = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1))
    try:
        for sha in threads.map(one, files):
            hashes.append(sha)
            progress.update()
    finally:  # Ctrl-C: the files not started are not read
        threads.shutdown(wait=True, cancel_futures=True)
    return hashes


def build(
    folders: list[Path],
    out: Path,
    cluster: str | None = None,
    workers: int | None = None,
    restart: bool = False,
    stream: TextIO | None = None,
) -> tuple[Path, int, int]:
    """Analyse every recording under `folders` into the table `out`: (path, files, failed);
    progress to `stream` (default: the stderr of the moment)."""
    from recordings.write_lock import being_recorded

    stream = sys.stderr if stream is None else stream
    check_output(out)
    files = find_recordings(folders)
    if not files:
        raise ValueError(f"no recordings (*.h5) under {', '.join(map(str, folders))}: no table written")
    journal_file = journal_path(out)
    if restart and journal_file.exists():
        journal_file.unlink()
    journal = CohortJournal(journal_file)
    rows: dict[str, list[Row]] = {}
    live = {path for path in files if being_recorded(path)}
    for path in live:  # analysed once its recording has ended
        rows[str(path)] = error_result(str(path), "", BEING_RECORDED).rows
    readable = [path for path in files if path not in live]
    todo: list[Task] = []
    done_before = 0
    for path, sha in zip(readable, _hashes(readable, journal, stream), strict=True):
        if isinstance(sha, OSError):  # e.g. a link to a moved file: tried again next run
            reason = getattr(sha, "strerror", None) or sha
            rows[str(path)] = error_result(str(path), "", f"cannot read: {reason}").rows
        elif (done := journal.rows(sha, str(path))) is not None:
            rows[str(path)] = done
            done_before += 1
        else:
            todo.append((str(path), sha))
    if done_before:
        print(f"  cohort: {done_before} of {len(files)} files done before", file=stream)
    progress = ProgressBar(len(todo), stream)
    versions = {journal.version}
    run: Callable[[], Iterator[Outcome]] = (
        (lambda: _dask(todo, cluster)) if cluster else (lambda: _local(todo, workers))
    )
    for name, sha, result in run() if todo else iter(()):
        rows[name] = result.rows
        journal.add(sha, result)
        progress.update(failed=any(r["error"] for r in result.rows))
        if result.lasting and result.version not in versions:  # the cluster's workers run another
            versions.add(result.version)
            log.warning(
                "the workers run %s, this stabmon is %s: rows kept under theirs",
                result.version,
                journal.version,
            )
    failed = sum(any(r["error"] for r in file_rows_) for file_rows_ in rows.values())
    return write_table(cohort_table(rows), out), len(files), failed


def run(args: argparse.Namespace) -> int:
    written, files, failed = build(args.folders, args.out, args.cluster, args.workers, args.restart)
    print(f"{files} recordings → {written}" + (f" ({failed} with an error row)" if failed else ""))
    return 0
