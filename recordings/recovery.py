"""Recover a session file left open by a crash.

A file whose writer died still carries HDF5's "open for SWMR write" consistency flags, so other
tools (and a plain open) refuse it; only an SWMR reader sees the data flushed before the crash.
`recover` copies that consistent view into a fresh, properly closed file (same layout, chunking
and filters; every group trimmed to its complete rows), checks it reads as a recording, and only
then swaps it in. The original is kept beside it as `<name>.crashed` — nothing is ever deleted.
A recording whose writer process died while the engine lived on is recovered with what the
engine kept of it that the writer had not yet confirmed on disk (`recordings.writer_tail`),
appended to the copy before it takes the recording's name.

A write that failed moved the recording to its rescue file, `<stem>.rescue.h5`
(`recordings.rescue`), which holds every row the first file held and everything since; the
engine's tail then continues the rescue file, not the first one. So when a rescue file stands
beside the file being recovered and its rows begin with every row the first file holds (checked
value for value; or the first file cannot be read at all), the copy is made from the rescue
file: one recording, every row once, in order. Both originals are kept, as `<name>.crashed` and
`<stem>.rescue.h5.crashed` (neither is listed as a session), and only after the copy read back.

A chunk of the crashed file that cannot be read (a damaged disk: its checksum or deflate stream
fails) is copied as it is stored, and the closed copy is then mended as a closed file with a
damaged chunk is (`recordings.chunk_recovery`): its samples left out as a flagged gap, each gap's
note naming the rows and the kept original. Rows damaged in the first file but whole in its
rescue file are not lost: the copy is made from the rescue file.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import h5py
import numpy as np

from recordings import schema
from recordings.chunk_damage import read_around_damage
from recordings.chunk_recovery import (
    create_stored_as,
    has_damaged_chunks,
    rewrite_around_damage,
    write_mended,
)
from recordings.consistency import common_length, complete_arrival_entries
from recordings.errors import NotARecordingError, RecordingError
from recordings.file_access import LEFT_OPEN, check_readable, check_schema
from recordings.reader import Recording, read_recording
from recordings.rescue import rescue_path
from recordings.write_lock import being_recorded, remove_stale_lock
from recordings.writer_tail import Tail, append_tail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecoveryResult:
    """The recovered recording, and where the untouched original was kept."""

    recording: Recording
    original_kept_at: Path
    #: Samples appended from the engine's unwritten tail (`recover(path, tail)`).
    appended_samples: int = 0
    #: Where the rescue file the recording was recovered from was kept (None: there was none).
    rescue_kept_at: Path | None = None


def needs_recovery(path: Path | str) -> bool:
    """True when the file is HDF5 that a crashed writer left flagged as open for writing."""
    path = Path(path)
    try:
        if not path.is_file() or not h5py.is_hdf5(path):
            return False
        with h5py.File(path, "r"):
            return False
    except (OSError, RuntimeError, ValueError) as error:
        return LEFT_OPEN in str(error)


def recover(path: Path | str, tail: Tail | None = None) -> RecoveryResult:
    """Rewrite a crashed session file as a clean one, with `tail` (what its writer process had not
    yet written) appended; raises RecordingError when there is nothing to recover or the data
    cannot be read."""
    path = Path(path)
    check_readable(path)
    if being_recorded(path):
        raise RecordingError(
            path, "a session is recording into this file now; only a file a crash left open needs recovering"
        )
    if not needs_recovery(path):
        found = read_recording(path, derived=False)  # says what is wrong with a file it cannot read
        if found.damaged or has_damaged_chunks(path):  # raw data left out as gaps, the frame grid rebuilt
            kept, _ = rewrite_around_damage(path)
            return RecoveryResult(read_recording(path), kept)
        raise RecordingError(
            path, "the file was closed properly and reads whole; there is nothing to recover"
        )
    fresh = path.with_name(path.name + ".recovering")
    kept = path.with_name(path.name + ".crashed")
    rescue = _standing_rescue(path)
    rescue_kept = rescue.with_name(rescue.name + ".crashed") if rescue is not None else None
    for old in (kept, rescue_kept):
        if old is not None and old.exists():
            raise RecordingError(old, "a kept original from an earlier recovery is in the way; move it first")
    try:
        with (
            h5py.File(rescue or path, "r", swmr=True) as source,
            h5py.File(fresh, "w", libver=schema.FILE_FORMAT) as target,
        ):
            attributes = dict(source.attrs)
            check_schema(path, attributes)
            target.attrs.update(attributes)
            target.attrs["recovered_utc"] = datetime.now(UTC).isoformat()
            _copy_group(source, target)
            appended = append_tail(target, tail) if tail is not None else 0
            _trim_arrival_log(source, target)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as error:
        fresh.unlink(missing_ok=True)
        text = " ".join(str(error).split())[:200]
        raise NotARecordingError(path, f"cannot read the crashed file: {text}") from None
    except RecordingError:
        fresh.unlink(missing_ok=True)
        raise
    try:
        _mend_damage(path, fresh, kept.name)
        read_recording(fresh)  # the copy must read as a recording before it replaces anything
    except RecordingError:
        fresh.unlink(missing_ok=True)
        raise
    os.replace(path, kept)
    os.replace(fresh, path)
    if rescue is not None and rescue_kept is not None:
        os.replace(rescue, rescue_kept)
    remove_stale_lock(path)  # its writer's, left by the crash
    log.info(
        "recovered %s%s (%d samples appended); original kept as %s",
        path.name,
        f" from its rescue file (kept as {rescue_kept.name})" if rescue_kept is not None else "",
        appended,
        kept.name,
    )
    return RecoveryResult(read_recording(path), kept, appended, rescue_kept)


def _mend_damage(path: Path, fresh: Path, kept_name: str) -> None:
    """Mend the damaged chunks `fresh` (the closed copy of the crashed `path`) was given as they
    were stored (`_copy_chunks`): written again with their samples left out as flagged gaps, each
    gap's note naming `kept_name`, the original (`recordings.chunk_recovery`)."""
    if not has_damaged_chunks(fresh):
        return
    mended = path.with_name(path.name + ".mending")
    try:
        damage = write_mended(fresh, mended, kept_name)
    except RecordingError as error:
        mended.unlink(missing_ok=True)
        raise RecordingError(path, error.problem) from None
    os.replace(mended, fresh)
    for rows in damage:
        log.info("%s: %s; left out as a gap", path.name, rows.describe())


def _standing_rescue(path: Path) -> Path | None:
    """The rescue file beside `path` when the recording is to be recovered from it: it reads, and
    every growing dataset's rows (each group cut to its complete rows) begin with the rows `path`
    holds, or `path` cannot be read at all."""
    rescue = rescue_path(path)
    if not rescue.is_file():
        return None
    try:
        with h5py.File(rescue, "r", swmr=True) as r:
            try:
                o = h5py.File(path, "r", swmr=True)
            except (OSError, RuntimeError, ValueError) as error:
                log.warning("%s cannot be read (%s): recovering it from %s", path.name, error, rescue.name)
                return rescue
            with o:
                problem = _not_a_prefix(o, r)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as error:
        log.warning("%s beside %s cannot be read (%s): left as it is", rescue.name, path.name, error)
        return None
    if problem:
        log.warning("%s does not hold all of %s (%s): left as it is", rescue.name, path.name, problem)
        return None
    return rescue


def _not_a_prefix(first: h5py.Group, rescue: h5py.Group) -> str:
    """Where the rescue file's rows do not begin with the first file's ('' when they all do)."""
    n, m = common_length(first), common_length(rescue)
    for name, item in first.items():
        other = rescue.get(name)
        if isinstance(item, h5py.Group):
            problem = _not_a_prefix(item, other) if isinstance(other, h5py.Group) else f"{item.name} missing"
            if problem:
                return problem
        elif item.maxshape and item.maxshape[0] is None:
            if not isinstance(other, h5py.Dataset) or m < n:
                return f"{item.name}: {m} rows, not {n}"
            (mine, bad), (theirs, bad_there) = read_around_damage(item, n), read_around_damage(other, n)
            readable = np.ones(n, dtype=bool)
            for a, b in (*bad, *bad_there):  # a damaged chunk (either side) proves nothing
                readable[a:b] = False
            if not _same(mine[readable], theirs[readable]):
                return f"{item.name}: different rows"
    return ""


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal arrays (NaN equal to NaN)."""
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc" and b.dtype.kind in "fc"))


def _copy_group(source: h5py.Group, target: h5py.Group) -> None:
    """Copy datasets and subgroups with their attributes; growing datasets cut to the group's
    common length, fixed-size ones whole."""
    n = common_length(source)
    for name, item in source.items():
        if isinstance(item, h5py.Group):
            child = target.create_group(name)
            child.attrs.update(dict(item.attrs))
            _copy_group(item, child)
            continue
        growing = item.maxshape and item.maxshape[0] is None
        try:
            data = item[:n] if growing else item[()]
        except OSError:  # a damaged chunk (checksum, deflate): carried over as stored, mended later
            if not growing:
                raise
            _copy_chunks(item, target, name, n)
            continue
        create_stored_as(target, name, item, data)


def _copy_chunks(source: h5py.Dataset, group: h5py.Group, name: str, n: int) -> None:
    """A dataset `name` in `group` holding rows [0, n) of the chunked `source`, copied chunk by chunk
    as stored (bytes and filter mask untouched, so a damaged chunk stays damaged, to be found and
    mended in the closed copy)."""
    target = create_stored_as(group, name, source, np.empty((0, *source.shape[1:]), source.dtype))
    target.resize(n, axis=0)
    for k in range(source.id.get_num_chunks()):
        offset = source.id.get_chunk_info(k).chunk_offset
        if offset[0] < n:
            mask, stored = source.id.read_direct_chunk(offset)
            target.id.write_direct_chunk(offset, stored, mask)


def _trim_arrival_log(source: h5py.File, target: h5py.File) -> None:
    """Drop arrival entries whose samples did not reach the file before the crash."""
    log_path = f"{schema.ACQUISITION}/{schema.ARRIVAL}"
    if log_path not in target:
        return  # a 0.1 file: the reader rebuilds the log
    placements = [schema.decode_text(p) for p in source.attrs["placements"]]
    counts = [target[f"{schema.ACQUISITION}/{p}/sequence"].shape[0] for p in placements]
    group = target[log_path]
    try:
        k = complete_arrival_entries(group["placement_index"][:], group["rows"][:], counts)
    except OSError:  # a damaged chunk of the log: the mend rebuilds it from the host stamps
        return
    for name in schema.ARRIVAL_DATASETS:
        group[name].resize(k, axis=0)
