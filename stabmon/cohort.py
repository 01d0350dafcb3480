"""`stabmon cohort`: every recording under folders into one tidy measures table.

Files are analysed in parallel on local processes (default), or on a Dask distributed cluster
with `--cluster ADDRESS` (needs `pip install 'stabmon[cohort]'`; the workers must see the files
at the same paths). Files done before (same content) are taken from the journal next to the
output; a file that fails is a row with its error; a progress bar goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import TextIO

from recordings.cohort import (
    CohortJournal,
    Row,
    cohort_table,
    content_hash,
    file_rows,
    find_recordings,
    write_table,
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
    per tenth of the way when stderr is not a terminal)."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        stream = sys.stderr if stream is None else stream  # looked up now: tests and shells swap it
        self.total, self.stream, self.width = total, stream, width
        self.done = self.failed = 0
        self._start = time.monotonic()
        self._tty = stream.isatty()
        self._shown_tenth = -1

    def update(self, failed: bool = False) -> None:
        self.done += 1
        self.failed += int(failed)
        tenth = 10 * self.done // max(self.total, 1)
        if self._tty or tenth != self._shown_tenth or self.done == self.total:
            self._shown_tenth = tenth
            self._show()

    def _show(self) -> None:
        filled = self.width * self.done // max(self.total, 1)
        elapsed = int(time.monotonic() - self._start)
        text = (
            f"  cohort [{'#' * filled}{'-' * (self.width - filled)}] {self.done}/{self.total} files, "
            f"{self.failed} failed, {elapsed // 60}:{elapsed % 60:02d}"
        )
        end = "\n" if not self._tty or self.done == self.total else ""
        print(("\r" if self._tty else "") + text, end=end, file=self.stream, flush=True)


def _local(
    todo: list[tuple[str, str]], workers: int | None
) -> Iterator[tuple[str, str, list[Row] | BaseException]]:
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        futures = {pool.submit(file_rows, path, sha): (path, sha) for path, sha in todo}
        for future in as_completed(futures):
            path, sha = futures[future]
            try:
                yield path, sha, future.result()
            except Exception as error:  # the worker itself died
                yield path, sha, error


def _dask(todo: list[tuple[str, str]], address: str) -> Iterator[tuple[str, str, list[Row] | BaseException]]:
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
            path, sha = futures[future]
            try:
                yield path, sha, future.result()
            except Exception as error:  # the worker died or the task was lost
                yield path, sha, error


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
    stream = sys.stderr if stream is None else stream
    files = find_recordings(folders)
    journal_file = journal_path(out)
    if restart and journal_file.exists():
        journal_file.unlink()
    journal = CohortJournal(journal_file)
    rows: dict[str, list[Row]] = {}
    todo = []
    for path in files:
        sha = content_hash(path)
        if sha in journal:
            rows[str(path)] = journal.rows(sha, str(path))
        else:
            todo.append((str(path), sha))
    if len(files) > len(todo):
        print(f"  cohort: {len(files) - len(todo)} of {len(files)} files done before", file=stream)
    progress = ProgressBar(len(todo), stream)
    run: Callable[[], Iterator[tuple[str, str, list[Row] | BaseException]]] = (
        (lambda: _dask(todo, cluster)) if cluster else (lambda: _local(todo, workers))
    )
    for name, sha, result in run() if todo else iter(()):
        if isinstance(result, BaseException):
            rows[name] = [_failure(name, sha, result)]  # not journalled: tried again next run
        else:
            rows[name] = result
            journal.add(sha, result)
        progress.update(failed=any(r["error"] for r in rows[name]))
    failed = sum(any(r["error"] for r in file_rows_) for file_rows_ in rows.values())
    return write_table(cohort_table(rows), out), len(files), failed


def _failure(path: str, sha: str, error: BaseException) -> Row:
    from recordings.cohort import COLUMNS

    row: Row = dict.fromkeys(COLUMNS, "")
    row.update(repetition=None, value=float("nan"), file=path, sha256=sha)
    row["error"] = f"worker failed: {type(error).__name__}: {error}"
    return row


def run(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() not in (".csv", ".parquet"):
        raise ValueError(f"the table must be .csv or .parquet, got {args.out.name!r}")
    written, files, failed = build(args.folders, args.out, args.cluster, args.workers, args.restart)
    print(f"{files} recordings → {written}" + (f" ({failed} with an error row)" if failed else ""))
    return 0
