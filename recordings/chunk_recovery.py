"""A closed recording with damaged chunks of raw sensor data written again as a new file, each
damaged chunk's samples turned into a flagged gap, as a dropped packet's are.

The reader already leaves such samples out (`recordings.chunk_damage`); this makes the gap part
of the file, so every tool (h5py, HDF5's own, an older stabmon) reads the rest: the new file is
the original copied as it is stored (HDF5's object copy, chunk bytes untouched), except that
the damaged sensor's raw datasets hold only its readable rows, `lost_before` of the first sample
after each gap counts the samples left out (and any lost before them), the arrival log lists
the rows kept, and `/events` gains one `annotation` (source `recovery`) per gap saying what was
left out and why. The copy must read back whole with every kept sample equal before it takes
the file's name; the original is kept beside it as `<name>.bad-chunks` (never changed or
deleted). Damage anywhere but the raw sensor data is refused: nothing there can be left out.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import h5py
import numpy as np

from recordings import schema
from recordings.chunk_damage import GAP_NOTE_SOURCE, DamagedRows, damaged_datasets, read_around_damage
from recordings.errors import NotARecordingError, RecordingError
from recordings.file_access import open_recording_file
from recordings.load_processing import frame_times_around_damage
from recordings.reader import Recording, read_recording
from sensors.placements import Placement

log = logging.getLogger(__name__)

#: The original of a recording rewritten around its damaged chunks is kept as `<name>` + this.
KEPT_SUFFIX = ".bad-chunks"


def has_damaged_chunks(path: Path) -> bool:
    """Whether any chunk of the closed recording `path` cannot be read (every dataset read)."""
    try:
        with open_recording_file(path) as f:
            return bool(damaged_datasets(f))
    except (OSError, RuntimeError, ValueError, KeyError, TypeError):  # damaged beyond its chunks
        return False  # (the reader says how)


def rewrite_around_damage(path: Path) -> tuple[Path, tuple[DamagedRows, ...]]:
    """Write the closed recording `path` again with its damaged chunks of raw data left out as
    flagged gaps and of the frame grid rebuilt (module docstring); returns where the original is
    kept and the damage mended. Raises RecordingError, with every file as it was, when it cannot."""
    kept = path.with_name(path.name + KEPT_SUFFIX)
    if kept.exists():
        raise RecordingError(kept, "a kept original from an earlier recovery is in the way; move it first")
    fresh = path.with_name(path.name + ".recovering")
    damage = write_mended(path, fresh, kept.name)
    os.replace(path, kept)
    os.replace(fresh, path)
    log.info("%s: %d damaged chunk(s) mended; original kept as %s", path, len(damage), kept)
    return kept, damage


def write_mended(path: Path, fresh: Path, kept_name: str) -> tuple[DamagedRows, ...]:
    """Write the closed recording `path` again at `fresh` with its damaged chunks mended (module
    docstring), each gap's note naming `kept_name` as where the original is kept, and check that
    the copy reads back with every readable sample; returns the damage mended. `path` is left as
    it is; raises RecordingError (and removes `fresh`) when it cannot."""
    before = read_recording(path, derived=False)
    try:
        with open_recording_file(path) as f:
            damage = tuple(damaged_datasets(f))
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as error:  # damaged beyond its chunks
        text = " ".join(str(error).split())[:200]
        raise NotARecordingError(path, f"cannot look for damaged chunks: {text}") from None
    groups = {f"/{schema.ACQUISITION}/{p.value}" for p in before.placements} | {ARRIVAL_LOG, EVENTS}
    elsewhere = [
        d for d in damage if d.dataset.rsplit("/", 1)[0] not in groups and d.dataset not in FRAME_GRID
    ]
    if elsewhere:
        raise RecordingError(
            path,
            f"{elsewhere[0].describe()} (a damaged chunk): only damaged raw data, events, arrival log and "
            "frame grid can be mended, so the file is left as it is",
        )
    if not damage:
        raise RecordingError(path, "no damaged chunk found: there is nothing to mend")
    try:
        _write_copy(path, fresh, before, damage, kept_name)
        _check_copy(before, read_recording(fresh, derived=False))
    except RecordingError:
        fresh.unlink(missing_ok=True)
        raise
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as error:
        fresh.unlink(missing_ok=True)
        text = " ".join(str(error).split())[:200]
        raise NotARecordingError(path, f"cannot write a copy around the damaged chunks: {text}") from None
    return damage


#: The frame grid's datasets, rebuilt where damaged: times from the uniform grid, flags False.
FRAME_GRID = (f"/{schema.PROCESSING}/time_s", f"/{schema.PROCESSING}/valid")
#: The arrival log (rebuilt from the host stamps where damaged) and the events (left out).
ARRIVAL_LOG = f"/{schema.ACQUISITION}/{schema.ARRIVAL}"
EVENTS = f"/{schema.EVENTS}"


def _write_copy(
    path: Path, fresh: Path, before: Recording, damage: tuple[DamagedRows, ...], kept_name: str
) -> None:
    with h5py.File(path, "r") as source, h5py.File(fresh, "w", libver=schema.FILE_FORMAT) as target:
        target.attrs.update(dict(source.attrs))
        target.attrs["recovered_utc"] = datetime.now(UTC).isoformat()
        for name in source:
            source.copy(source[name], target, name=name)
        acquisition = target[schema.ACQUISITION]
        drops: dict[Placement, np.ndarray] = {}
        for placement in before.placements:
            mine = [d for d in damage if d.dataset.startswith(f"/{schema.ACQUISITION}/{placement.value}/")]
            if mine:
                drops[placement] = _leave_out(
                    source[schema.ACQUISITION][placement.value], acquisition[placement.value], mine
                )
        if any(d.dataset.startswith(ARRIVAL_LOG + "/") for d in damage):  # the reader's, rebuilt
            arrival = source[ARRIVAL_LOG]
            for name in schema.ARRIVAL_DATASETS:
                _replace(arrival[name], target[ARRIVAL_LOG], getattr(before.arrival, name))
        else:
            _trim_arrival_log(acquisition[schema.ARRIVAL], before.placements, drops)
        lost_events = [d for d in damage if d.dataset.startswith(EVENTS + "/")]
        if lost_events:
            _drop_events(source[EVENTS], target[EVENTS], lost_events)
        for name in FRAME_GRID:
            mine = [d for d in damage if d.dataset == name]
            if mine:
                _rebuild_frames(source[name], target, mine)
        _note_gaps(target[schema.EVENTS], damage, kept_name)


def _drop_events(source: h5py.Group, target: h5py.Group, damaged: list[DamagedRows]) -> None:
    """Rewrite the events without the rows of any damaged chunk of theirs."""
    n = min(source[name].shape[0] for name in schema.EVENT_DATASETS)
    keep = np.ones(n, dtype=bool)
    for part in damaged:
        keep[part.start : part.stop] = False
    for name in schema.EVENT_DATASETS:
        _replace(source[name], target, read_around_damage(source[name], n)[0][keep])


def _rebuild_frames(item: h5py.Dataset, target: h5py.File, damaged: list[DamagedRows]) -> None:
    """The frame grid's times (from the uniform grid through the readable ones) or valid flags
    (False) in its damaged rows, the rest as stored."""
    if item.name.endswith("/time_s"):
        rows = frame_times_around_damage(item, item.shape[0], [], [])
    else:
        rows = read_around_damage(item, item.shape[0])[0].astype(item.dtype)
        for part in damaged:
            rows[part.start : part.stop] = False
    _replace(item, target[item.parent.name], rows)


def _replace(item: h5py.Dataset, group: h5py.Group, rows: np.ndarray) -> None:
    """Put `rows` in place of the dataset `item`'s copy in `group`, stored as `item` is."""
    name = item.name.rsplit("/", 1)[1]
    del group[name]
    create_stored_as(group, name, item, rows)


def create_stored_as(group: h5py.Group, name: str, like: h5py.Dataset, data: np.ndarray) -> h5py.Dataset:
    """A new dataset `name` in `group` holding `data`, stored as `like` is (dtype, chunks,
    resizability, compression, shuffle, checksum) and with its attributes."""
    dataset = group.create_dataset(
        name,
        data=data,
        dtype=like.dtype,
        chunks=like.chunks,
        maxshape=like.maxshape,
        compression=like.compression,
        compression_opts=like.compression_opts,
        shuffle=like.shuffle,
        fletcher32=like.fletcher32,
    )
    dataset.attrs.update(dict(like.attrs))
    return dataset


def _leave_out(source: h5py.Group, target: h5py.Group, damaged: list[DamagedRows]) -> np.ndarray:
    """Rewrite one sensor's raw datasets in `target` without the damaged rows; returns the
    (n,) bool mask of the rows left out."""
    n = min(source[name].shape[0] for name in schema.RAW_DATASETS)
    drop = np.zeros(n, dtype=bool)
    for part in damaged:
        drop[part.start : part.stop] = True
    keep = ~drop
    columns = {name: read_around_damage(source[name], n)[0][keep] for name in schema.RAW_DATASETS}
    columns["lost_before"] = _lost_before(keep, columns["sequence"], columns["lost_before"])
    for name, rows in columns.items():
        _replace(source[name], target, rows)
    return drop


def _lost_before(keep: np.ndarray, sequence: np.ndarray, stored: np.ndarray) -> np.ndarray:
    """The kept rows' loss counts: as stored, except for the first row after each gap, which
    also counts the rows left out (from the counters around the gap: every sample between)."""
    lost = stored.astype(np.int64)
    kept = np.flatnonzero(keep)
    after_gap = np.flatnonzero(np.diff(np.concatenate([[-1], kept])) > 1)  # positions in the kept rows
    for j in after_gap.tolist():
        if j == 0:  # the first rows were left out: their own losses are unknown, count them
            lost[0] += int(kept[0])
        else:
            lost[j] = int(sequence[j] - sequence[j - 1] - 1)
    return np.clip(lost, 0, schema.LOST_BEFORE_MAX).astype(stored.dtype)


def _trim_arrival_log(
    group: h5py.Group, placements: tuple[Placement, ...], drops: dict[Placement, np.ndarray]
) -> None:
    """Count in each arrival entry only its rows kept; drop the entries left with none."""
    if not drops:
        return
    index = group["placement_index"][:]
    rows = group["rows"][:].astype(np.int64)
    for i, placement in enumerate(placements):
        if placement not in drops:
            continue
        mine = np.flatnonzero(index == i)
        kept = np.concatenate([[0], np.cumsum(~drops[placement])])
        bounds = np.minimum(np.concatenate([[0], np.cumsum(rows[mine])]), len(kept) - 1)
        rows[mine] = kept[bounds[1:]] - kept[bounds[:-1]]
    nonempty = rows > 0
    for name, values in (("placement_index", index[nonempty]), ("rows", rows[nonempty])):
        group[name].resize(len(values), axis=0)
        group[name][...] = values.astype(group[name].dtype)


def _note_gaps(group: h5py.Group, damaged: tuple[DamagedRows, ...], kept_name: str) -> None:
    """One `annotation` event (source GAP_NOTE_SOURCE) per damaged chunk mended, at its start (or
    the nearest known time; 0 when none), its value the rows concerned."""
    for rows in damaged:
        if rows.dataset.startswith(ARRIVAL_LOG + "/"):
            what = f"arrival log ({rows.rows} entries unreadable) rebuilt from the host time stamps"
        elif rows.dataset.startswith(EVENTS + "/"):
            what = f"events: {rows.rows} events{rows.time_text()} left out"
        elif rows.dataset.startswith(f"/{schema.ACQUISITION}/"):
            what = f"{rows.dataset.split('/')[2]}: {rows.rows} samples{rows.time_text()} left out as a gap"
        elif rows.dataset.endswith("/time_s"):
            what = f"frame grid: {rows.rows} frame times{rows.time_text()} taken from the uniform grid"
        else:
            what = f"frame grid: {rows.rows} frames{rows.time_text()} marked not valid"
        label = (
            f"{what} by stabmon recover: rows "
            f"{rows.start}–{rows.stop - 1} of {rows.dataset} could not be read in the original "
            f"(a damaged chunk; kept as {kept_name})"
        )
        time = rows.start_s if np.isfinite(rows.start_s) else rows.end_s
        time = time if np.isfinite(time) else 0.0  # (no time: at the session's start)
        values = {
            "time_s": time,
            "kind": "annotation",
            "label": label,
            "value": float(rows.rows),
            "source": GAP_NOTE_SOURCE,
        }
        for name, value in values.items():
            dataset = group[name]
            k = dataset.shape[0]
            dataset.resize(k + 1, axis=0)
            if isinstance(value, str):
                value = value.encode("utf-8")[: schema.EVENT_TEXT_BYTES]
            dataset[k] = value


def _check_copy(before: Recording, after: Recording) -> None:
    """Raise RecordingError unless the copy reads whole, without damage, with every sample the
    original's reader kept, equal."""
    where = after.path
    if after.damaged:
        raise RecordingError(where, f"the copy still has damage: {after.damaged[0].describe()}")
    if not (
        np.array_equal(before.arrival.placement_index, after.arrival.placement_index)
        and np.array_equal(before.arrival.rows, after.arrival.rows)
    ):
        raise RecordingError(where, "the copy's arrival log differs from the one read around the damage")
    if not np.array_equal(before.frame_time_s, after.frame_time_s):
        raise RecordingError(where, "the copy's frame grid differs from the one read around the damage")
    for placement in before.placements:
        a, b = before.samples[placement], after.samples[placement]
        same = (
            len(a) == len(b)
            and all(
                np.array_equal(getattr(a, name), getattr(b, name))
                for name in ("device_time_s", "acc_m_s2", "gyr_rad_s", "sequence", "host_receive_ns")
            )
            and np.array_equal(before.session_time_s[placement], after.session_time_s[placement])
            and np.array_equal(before.lost_before[placement], after.lost_before[placement])
        )
        if not same:
            raise RecordingError(
                where, f"{placement.value}: the copy's samples differ from the readable ones"
            )
