"""The journal of a cohort table: the rows of files done, kept between runs next to the output.

An entry is used again only when everything its rows depend on is unchanged: the file's content
(SHA-256, whatever its name now), the subject's settings the analysis used (the sensor height
stored beside the recording) and `ANALYSIS_VERSION` (stabmon's version, the measures catalogue's
version and the table's layout). Anything else is analysed again. Only lasting results are kept
(`FileResult.lasting`): a file not found, unreadable, being recorded or whose worker was lost is
tried again next run.

The journal also remembers each file's hash by path and `os.stat` identity (size, times in ns,
inode), so a resumed run reads only files that changed; a hash taken less than `RACY_S` after the
file's last change is not trusted (a change within the file system's clock tick would not show).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path

from recordings.cohort import FileResult, Row

log = logging.getLogger(__name__)

#: Bump when the rows a file gives change for the same stabmon version (the table's layout).
TABLE_LAYOUT = 2
#: A hash taken within this many seconds of the file's last change is taken again next time.
RACY_S = 2.0


@functools.cache
def analysis_version() -> str:
    """What the rows depend on besides the file and the subject: stabmon, catalogue, layout."""
    from importlib.metadata import PackageNotFoundError, version

    from recordings.catalogue import catalogue

    try:
        stabmon = version("stabmon")
    except PackageNotFoundError:  # run from a source tree
        stabmon = "unknown"
    return f"stabmon {stabmon}; catalogue {catalogue().version}; table {TABLE_LAYOUT}"


def content_hash(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 of the file's bytes (hex)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


def _identity(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev]


def current_settings(path: str, subject: str) -> dict[str, float] | None:
    """The subject's settings an analysis of `path` would use now (None: cannot tell)."""
    from recordings.analysis import subject_settings

    if not subject:
        return {}
    try:
        return subject_settings(path, subject)
    except ValueError:  # an id the file holds that is not a valid pseudonym
        return None


class CohortJournal:
    """Entries of finished files, one JSON line each in `path`, appended as each file finishes
    (nothing done is lost when a run stops); a later line for the same content wins."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.version = analysis_version()
        self._entries: dict[str, dict] = {}
        self._hashes: dict[str, dict] = {}
        self._lock = threading.Lock()  # hashes are taken on threads
        if self.path.exists():
            for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
                try:
                    entry = json.loads(line)
                    if "hash_of" in entry:
                        self._hashes[str(entry["hash_of"])] = entry
                    else:
                        self._entries[str(entry["sha256"])] = entry
                        list(entry["rows"])
                except (ValueError, KeyError, TypeError):
                    log.warning("%s line %d: unreadable, that file will be analysed again", self.path, number)

    def content_hash(self, path: Path) -> str:
        """The file's SHA-256, from the journal when its identity is unchanged since it was taken
        (OSError when it cannot be read)."""
        key = str(path)
        identity = _identity(os.stat(path))
        known = self._hashes.get(key)
        if known is not None and known.get("identity") == identity:
            return str(known["sha256"])
        taken_ns = time.time_ns()
        sha = content_hash(path)
        if _identity(os.stat(path)) == identity and taken_ns - identity[2] > RACY_S * 1e9:
            entry = {"hash_of": key, "identity": identity, "sha256": sha}
            self._hashes[key] = entry
            self._append(entry)
        return sha

    def rows(self, sha256: str, path: str) -> list[Row] | None:
        """The rows of a file done before (under whatever name it had) for `path`, or None when
        there are none, or they were made by another version or under other subject settings."""
        entry = self._entries.get(sha256)
        if entry is None or entry.get("version") != self.version:
            return None
        if entry.get("settings", {}) != current_settings(path, str(entry.get("subject", ""))):
            return None
        return [{**row, "file": path} for row in entry["rows"]]

    def add(self, sha256: str, result: FileResult) -> None:
        """Keep a file's result (only a lasting one: see `FileResult.lasting`)."""
        if not result.lasting:
            return
        entry = {
            "sha256": sha256,
            "version": self.version,
            "subject": result.subject,
            "settings": result.settings,
            "rows": result.rows,
        }
        self._entries[sha256] = entry
        self._append(entry)

    def _append(self, entry: dict) -> None:
        line = json.dumps(entry) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line)
