"""The journal of a cohort table: the rows of files done, kept between runs next to the output.

An entry is used again only when everything its rows depend on is unchanged: the file's content
(SHA-256, whatever its name now), the subject's settings the analysis used (the sensor height
stored beside the recording) and the analysis version (`recordings.cohort.analysis_version`:
stabmon's version and a fingerprint of the code and catalogue that computed the rows, on
whichever worker ran them). Anything else is analysed again. Only lasting results are kept
(`FileResult.lasting`): a file not found, unreadable, being recorded or whose worker was lost is
tried again next run.

The journal also remembers each file's hash by path and `os.stat` identity (size, times in ns,
inode), so a resumed run reads only files that changed; a hash taken less than `RACY_S` after the
file's last change is not trusted (a change within the file system's clock tick would not show).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path

from recordings.cohort import FileResult, Row, analysis_version, misfiled_error

log = logging.getLogger(__name__)

#: A hash taken within this many seconds of the file's last change is taken again next time.
RACY_S = 2.0


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


def _settings_key(settings: dict[str, float]) -> str:
    return json.dumps(settings, sort_keys=True)


class CohortJournal:
    """Entries of finished files, one JSON line each in `path`, appended as each file finishes
    (nothing done is lost when a run stops); a later line for the same content, version and
    settings wins. Lines of a journal written before entries had a version are left unused."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.version = analysis_version()
        self._entries: dict[tuple[str, str, str], list[Row]] = {}  # (sha256, version, settings)
        self._subjects: dict[str, str] = {}  # sha256 → the subject the file names
        self._hashes: dict[str, dict] = {}
        self._lock = threading.Lock()  # hashes are taken on threads
        if self.path.exists():
            for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
                try:
                    self._read(json.loads(line))
                except (ValueError, KeyError, TypeError, AttributeError):
                    log.warning("%s line %d: unreadable, that file will be analysed again", self.path, number)

    def _read(self, entry: dict) -> None:
        if "hash_of" in entry:
            self._hashes[str(entry["hash_of"])] = entry
            return
        if "version" not in entry:  # an older stabmon's: its files are analysed again
            return
        sha = str(entry["sha256"])
        rows = [dict(row) for row in entry["rows"]]
        self._entries[sha, str(entry["version"]), _settings_key(entry["settings"])] = rows
        self._subjects[sha] = str(entry["subject"])

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
        there are none made by this version under the subject settings `path` has now, or when
        `path` lies in another subject's folder (`cohort.misfiled_error`)."""
        if sha256 not in self._subjects:
            return None
        settings = current_settings(path, self._subjects[sha256])
        rows = (
            None if settings is None else self._entries.get((sha256, self.version, _settings_key(settings)))
        )
        if rows is None or (rows and misfiled_error(path, rows[0]["subject"], rows[0]["drill"])):
            return None
        return [{**row, "file": path} for row in rows]

    def add(self, sha256: str, result: FileResult) -> None:
        """Keep a file's result (only a lasting one: see `FileResult.lasting`)."""
        if not result.lasting:
            return
        self._entries[sha256, result.version, _settings_key(result.settings)] = result.rows
        self._subjects[sha256] = result.subject
        self._append(
            {
                "sha256": sha256,
                "version": result.version,
                "subject": result.subject,
                "settings": result.settings,
                "rows": result.rows,
            }
        )

    def _append(self, entry: dict) -> None:
        line = json.dumps(entry) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(line)
            except OSError as error:  # a full disk says no file: the journal's is named
                if error.filename:
                    raise
                raise OSError(error.errno, error.strerror or str(error), str(self.path)) from error
