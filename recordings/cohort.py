"""A study's recordings as one tidy measures table: one row per measure, repetition and file.

`file_rows(path, sha256)` is the one pure function per file (any process or cluster worker can
run it); a file that cannot be read or analysed gives one row with its `error`, never an
exception. Measures carry the catalogue's name and unit (recordings/measures.toml) and the
analysis key as a stable machine name; the condition is the recording's own (`Condition`
attribute text). `cohort_table` puts the rows of all files in one order (by file path, then as
analysis gave them), so the table is the same whichever process or cluster made it. The journal
of files done between runs is `recordings.cohort_journal`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sensors.processing.analysis import Measure

log = logging.getLogger(__name__)

#: The table's columns, in order: `measure` and `unit` as the catalogue names them, `value` in
#: that unit; `measure_key` the analysis' own name (stable, for scripts); `notes` what the file
#: is missing (`recordings.data_notes`, as the CSV export's `# ` lines; "" for a whole one),
#: joined by NOTES_SEPARATOR, on each of the file's rows.
COLUMNS = (
    "subject",
    "date",
    "protocol",
    "drill",
    "condition",
    "repetition",
    "measure_key",
    "measure",
    "value",
    "unit",
    "file",
    "sha256",
    "error",
    "notes",
)

#: Between two data notes in the `notes` column (a note may itself hold "; ").
NOTES_SEPARATOR = " | "

Row = dict[str, Any]

#: The error of a file whose writer still holds its `.writing` lock (not journalled).
BEING_RECORDED = "being recorded: analysed once its recording has ended"


#: Bump when the rows a file gives change while the code that computes them does not.
TABLE_LAYOUT = 3


@functools.cache
def analysis_version() -> str:
    """What a file's rows depend on besides the file and its subject's settings: stabmon's
    version and a fingerprint of the code and catalogue that compute them (the `sensors` and
    `recordings` sources: an edited checkout counts as another version), and the table layout."""
    from importlib.metadata import PackageNotFoundError, version

    import recordings
    import sensors

    try:
        stabmon = version("stabmon")
    except PackageNotFoundError:  # run from a source tree
        stabmon = "unknown"
    digest = hashlib.sha256()
    for package in (sensors, recordings):
        root = Path(str(package.__file__)).parent
        for path in sorted(root.rglob("*")):
            name = path.relative_to(root.parent)
            if path.suffix in (".py", ".toml") and not {"__pycache__", "ble", "simulator"} & set(name.parts):
                digest.update(str(name).encode() + b"\0" + path.read_bytes())
    return f"stabmon {stabmon}, code {digest.hexdigest()[:16]}, table {TABLE_LAYOUT}"


@dataclass(frozen=True)
class FileResult:
    """One file's rows. `settings`: the subject's settings its analysis used
    (`recordings.analysis.subject_settings`); `lasting`: the rows follow from the file's content
    (its measures, or an error in the file itself) and may be kept in the journal; an error from
    outside it (not found, unreadable now, being recorded, a lost worker) is tried again next run."""

    rows: list[Row]
    subject: str = ""
    settings: dict[str, float] = field(default_factory=dict)
    lasting: bool = True
    version: str = field(default_factory=analysis_version)


def measure_label(drill: str, measure: Measure) -> tuple[str, str, float]:
    """The (name, unit, value in that unit) a measure has in the table: the catalogue's, or the
    analysis' own name and unit for a measure the catalogue lacks."""
    from recordings.catalogue import CatalogueError, catalogue

    try:
        info = catalogue().info(drill, measure.name)
    except CatalogueError as error:
        log.warning("%s; the table gives its analysis name and unit", error)
        return measure.name, measure.unit, float(measure.value)
    return info.name, info.unit, float(info.display_value(measure.value))


def find_recordings(folders: Iterable[Path]) -> list[Path]:
    """Every session file (*.h5) under the folders, each once, as absolute paths in path order
    (the same whichever way a folder is spelled). Regular files only, and links to nowhere (each
    becomes a row with its error); folders named *.h5 and other special files are left out."""
    found: dict[Path, Path] = {}
    for folder in folders:
        folder = Path(os.path.abspath(folder))
        if folder.is_file():
            candidates = [folder]
        elif folder.is_dir():
            candidates = [p for p in folder.rglob("*.h5") if p.is_file() or not p.exists()]
        else:
            raise ValueError(f"{folder}: no such folder")
        for path in candidates:
            found.setdefault(path.resolve(), path)
    return sorted(found.values(), key=str)


def empty_row(path: str, sha256: str) -> Row:
    """A row with only the file filled in (the start of every row)."""
    row: Row = dict.fromkeys(COLUMNS, "")
    row.update(repetition=None, value=math.nan, file=path, sha256=sha256)
    return row


def error_result(path: str, sha256: str, error: str, lasting: bool = False) -> FileResult:
    """One error row for a file (not journalled unless `lasting`)."""
    return FileResult([{**empty_row(path, sha256), "error": error}], lasting=lasting)


def _lasting(error: BaseException) -> bool:
    """Whether an analysis error comes from the file's content (kept) rather than from the file
    system or the machine (tried again)."""
    return not isinstance(error, OSError | MemoryError)


def misfiled_error(path: str, subject: str, drill: str) -> str:
    """The error of a recording of `subject` in another subject's sub-<id>/ folder, flagged by
    the rule `stabmon sessions` uses (`recordings.library.misfiled`); "" for one that belongs
    there or lies outside any subject's folder."""
    from recordings.library import misfiled

    folder = Path(path).parent.name
    if not folder.startswith("sub-"):
        return ""
    flag = misfiled(Path(path), folder.removeprefix("sub-"), subject, drill)
    return f"misfiled: {flag}, nor this table" if flag else ""


def file_rows(path: str, sha256: str) -> FileResult:
    """The measures of one recording as table rows (one row with `error` when it has none, or
    when it lies in another subject's folder: tried again next run, where it may have moved)."""
    from recordings.analysis import analyze_file, subject_settings
    from recordings.data_notes import data_notes
    from recordings.reader import read_recording
    from recordings.write_lock import being_recorded

    if being_recorded(Path(path)):
        return error_result(path, sha256, BEING_RECORDED)
    base = empty_row(path, sha256)
    settings: dict[str, float] = {}
    try:
        recording = read_recording(Path(path), derived=False, raw=False)  # its metadata
        base["subject"] = recording.subject_id
        # Before the analysis: a setting stored meanwhile makes the journal entry stale, never wrong.
        settings = subject_settings(path, recording.subject_id)
        base.update(
            date=str(recording.attributes.get("created_utc", ""))[:10],
            protocol=str(recording.protocol.get("protocol", "")),
            drill=recording.drill,
            condition=recording.condition.to_attribute(),
        )
        if misplaced := misfiled_error(path, recording.subject_id, recording.drill):
            return FileResult([{**base, "error": misplaced}], recording.subject_id, settings, lasting=False)
        analysed, result = analyze_file(Path(path))
        base["notes"] = NOTES_SEPARATOR.join(data_notes(analysed, result.notes))
    except Exception as error:  # a bad file is a row, never the end of the run
        log.info("%s: %s", path, error)
        row = {**base, "error": f"{type(error).__name__}: {error}"}
        return FileResult([row], base["subject"], settings, _lasting(error))
    rows = []
    for m in result.measures:
        name, unit, value = measure_label(recording.drill, m)
        rows.append(
            {
                **base,
                "repetition": m.repetition,
                "measure_key": m.name,
                "measure": name,
                "value": value,
                "unit": unit,
            }
        )
    if not rows:
        rows = [{**base, "error": "analysis gave no measures"}]
    return FileResult(rows, recording.subject_id, settings)


def cohort_table(rows_by_file: Mapping[str, Sequence[Row]]) -> dict[str, list[Any]]:
    """All rows as columns (COLUMNS → values), files in path order."""
    table: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for path in sorted(rows_by_file):
        for row in rows_by_file[path]:
            for name in COLUMNS:
                table[name].append(row.get(name))
    return table


def check_output(out: Path) -> None:
    """Refuse, before any file is analysed, a table that could not be written: another format
    than .csv/.parquet, Parquet without pyarrow, a folder at `out`, a folder nobody may write."""
    from recordings.atomic import check_writable

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ValueError(f"the table must be .csv or .parquet, got {out.name!r}")
    if suffix == ".parquet":
        try:
            import pyarrow
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise ValueError(
                "Parquet output needs pyarrow: pip install 'stabmon[cohort]' (or write .csv)"
            ) from None
    if out.is_dir():
        raise ValueError(f"{out}: is a folder; give the table's file name (e.g. {out / 'measures.csv'})")
    check_writable(out, "the table")


def write_table(table: Mapping[str, list[Any]], out: Path) -> Path:
    """Write the table as CSV, or Parquet (needs pyarrow: `pip install stabmon[cohort]`), in one
    rename: a run stopped while writing leaves the table before it whole."""
    from recordings.atomic import replacing

    out = Path(out)
    check_output(out)
    with replacing(out) as partial:
        if out.suffix.lower() == ".csv":
            import csv

            with partial.open("w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(COLUMNS)
                for values in zip(*(table[name] for name in COLUMNS), strict=True):
                    writer.writerow(
                        ["" if v is None else repr(v) if isinstance(v, float) else v for v in values]
                    )
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            types = {"repetition": pa.int64(), "value": pa.float64()}
            schema = pa.schema([(name, types.get(name, pa.string())) for name in COLUMNS])
            pq.write_table(pa.table({name: table[name] for name in COLUMNS}, schema=schema), partial)
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
