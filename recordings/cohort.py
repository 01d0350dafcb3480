"""A study's recordings as one tidy measures table: one row per measure, repetition and file.

`file_rows(path, sha256)` is the one pure function per file (any process or cluster worker can
run it); a file that cannot be read or analysed gives one row with its `error`, never an
exception. `CohortJournal` keeps each finished file's rows by content hash next to the output, so
a run that stops (or a later run over more files) skips what is done. `cohort_table` puts the
rows of all files in one order (by file path, then as analysis gave them), so the table is the
same whichever process or cluster made it. Measure names and units come from `measure_label`
alone (the place to swap in a catalogue of clinical names).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sensors.processing.analysis import Measure

log = logging.getLogger(__name__)

#: The table's columns, in order.
COLUMNS = (
    "subject",
    "date",
    "protocol",
    "drill",
    "condition",
    "repetition",
    "measure",
    "value",
    "unit",
    "file",
    "sha256",
    "error",
)

Row = dict[str, Any]


def measure_label(drill: str, measure: Measure) -> tuple[str, str]:
    """The (name, unit) a measure has in the table."""
    return measure.name, measure.unit


def find_recordings(folders: Iterable[Path]) -> list[Path]:
    """Every session file (*.h5) under the folders, each once, in path order."""
    found: dict[Path, Path] = {}
    for folder in folders:
        folder = Path(folder)
        if folder.is_file():
            candidates = [folder]
        elif folder.is_dir():
            candidates = sorted(folder.rglob("*.h5"))
        else:
            raise ValueError(f"{folder}: no such folder")
        for path in candidates:
            found.setdefault(path.resolve(), path)
    return sorted(found.values(), key=str)


def content_hash(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 of the file's bytes (hex)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


def _condition(protocol: Mapping[str, Any]) -> str:
    """The dual-task condition the file stores: the protocol's `condition`, or from a simulated
    dual-task factor; empty when it says nothing."""
    if protocol.get("condition"):
        return str(protocol["condition"])
    factor = protocol.get("dual_task_factor")
    if isinstance(factor, int | float):
        return "single" if factor == 1 else "dual"
    return ""


def file_rows(path: str, sha256: str) -> list[Row]:
    """The measures of one recording as table rows (one row with `error` when it has none)."""
    from recordings.analysis import analyze_file
    from recordings.reader import read_recording

    base: Row = dict.fromkeys(COLUMNS, "")
    base.update(repetition=None, value=math.nan, file=path, sha256=sha256)
    try:
        recording = read_recording(Path(path), derived=False, raw=False)  # its metadata
        protocol = recording.protocol
        base.update(
            subject=recording.subject_id,
            date=str(recording.attributes.get("created_utc", ""))[:10],
            protocol=str(protocol.get("protocol", "")),
            drill=recording.drill,
            condition=_condition(protocol),
        )
        result = analyze_file(Path(path))[1]
    except Exception as error:  # a bad file is a row, never the end of the run
        log.info("%s: %s", path, error)
        return [{**base, "error": f"{type(error).__name__}: {error}"}]
    rows = []
    for m in result.measures:
        name, unit = measure_label(recording.drill, m)
        rows.append(
            {**base, "repetition": m.repetition, "measure": name, "value": float(m.value), "unit": unit}
        )
    return rows or [{**base, "error": "analysis gave no measures"}]


class CohortJournal:
    """Rows of finished files by content hash, one JSON line per file in `path` (appended as
    each file finishes, so nothing done is lost when a run stops)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._rows: dict[str, list[Row]] = {}
        if self.path.exists():
            for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
                try:
                    entry = json.loads(line)
                    self._rows[str(entry["sha256"])] = list(entry["rows"])
                except (ValueError, KeyError, TypeError):
                    log.warning("%s line %d: unreadable, that file will be analysed again", self.path, number)

    def __contains__(self, sha256: str) -> bool:
        return sha256 in self._rows

    def rows(self, sha256: str, path: str) -> list[Row]:
        """The rows of a file done before (under whatever name it had), for `path`."""
        return [{**row, "file": path} for row in self._rows[sha256]]

    def add(self, sha256: str, rows: list[Row]) -> None:
        self._rows[sha256] = rows
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"sha256": sha256, "rows": rows}) + "\n")


def cohort_table(rows_by_file: Mapping[str, Sequence[Row]]) -> dict[str, list[Any]]:
    """All rows as columns (COLUMNS → values), files in path order."""
    table: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for path in sorted(rows_by_file):
        for row in rows_by_file[path]:
            for name in COLUMNS:
                table[name].append(row.get(name))
    return table


def write_table(table: Mapping[str, list[Any]], out: Path) -> Path:
    """Write the table as CSV, or Parquet (needs pyarrow: `pip install stabmon[cohort]`)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        import csv

        with out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS)
            for values in zip(*(table[name] for name in COLUMNS), strict=True):
                writer.writerow(["" if v is None else repr(v) if isinstance(v, float) else v for v in values])
    elif suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ValueError(
                "Parquet output needs pyarrow: pip install 'stabmon[cohort]' (or write .csv)"
            ) from None
        types = {"repetition": pa.int64(), "value": pa.float64()}
        schema = pa.schema([(name, types.get(name, pa.string())) for name in COLUMNS])
        pq.write_table(pa.table({name: table[name] for name in COLUMNS}, schema=schema), out)
    else:
        raise ValueError(f"the table must be .csv or .parquet, got {out.name!r}")
    return out


def read_table(path: Path) -> dict[str, list[Any]]:
    """A table written by `write_table`, as columns (for tests and tools)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pydict()
    import csv

    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {name: [r[name] for r in rows] for name in COLUMNS}
