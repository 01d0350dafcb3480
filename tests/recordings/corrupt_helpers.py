"""Helpers for the corrupted-recordings tests: a real recording made by the writer, and edits to
a copy of it with h5py, the way a damaged disk or an older writer would have left it."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import h5py
import numpy as np

from engine.factory import record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import schema
from sensors.processing import SessionSettings


def record_simulated(
    path: Path, drill_name: str = "quiet-stance", seconds: float = 15.5, seed: int = 5
) -> Path:
    """A recording written by the real writer from the simulator (no radio), `seconds` long (the
    default: a quiet stance whose task, 3 s to 1 s before the end, holds the 11 s its measures need)."""
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=seed, realtime=False),
        processing=SessionSettings(rate_hz=100.0, duration_s=seconds - 1.0),
    )
    return asyncio.run(record(spec, "C01", path, drill_name, seconds)).path


def copy_of(original: Path, folder: Path, name: str = "copy.h5") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    shutil.copyfile(original, target)
    return target


def placement_blocks(path: Path, placement: str = "lumbar") -> list[tuple[int, int, int]]:
    """(arrival entry index, first row, rows) of each block of `placement`, in arrival order."""
    with h5py.File(path, "r") as f:
        names = [schema.decode_text(p) for p in f.attrs["placements"]]
        index = f["acquisition/arrival/placement_index"][:]
        rows = f["acquisition/arrival/rows"][:]
    me = names.index(placement)
    blocks, start = [], 0
    for k, (i, r) in enumerate(zip(index, rows, strict=True)):
        if i == me:
            blocks.append((k, start, int(r)))
            start += int(r)
    return blocks


def rewrite_placement(
    path: Path, placement: str, order: list[int], edits: dict[int, dict[str, object]] | None = None
) -> None:
    """Rewrite `placement`'s rows as its blocks in `order` (indices into `placement_blocks`; a
    repeated index repeats a block), each block's datasets changed by `edits[position]`
    ({dataset: function of the block's array}), and the arrival log to match, as an older writer
    that stored whatever the link passed on would have."""
    edits = edits or {}
    blocks = placement_blocks(path, placement)
    with h5py.File(path, "r+") as f:
        names = [schema.decode_text(p) for p in f.attrs["placements"]]
        me = names.index(placement)
        group = f[f"acquisition/{placement}"]
        data = {name: group[name][:] for name in schema.RAW_DATASETS}
        new = {name: [] for name in data}
        for position, b in enumerate(order):
            _, start, rows = blocks[b]
            for name in data:
                piece = data[name][start : start + rows].copy()
                change = edits.get(position, {}).get(name)
                new[name].append(change(piece) if callable(change) else piece)
        for name, pieces in new.items():
            values = np.concatenate(pieces)
            if name == "lost_before":
                values = schema.lost_before(np.concatenate(new["sequence"]))  # as the old writer did
            group[name].resize(len(values), axis=0)
            group[name][...] = values
        arrival = f["acquisition/arrival"]
        index, rows = arrival["placement_index"][:], arrival["rows"][:]
        mine = [k for k, i in enumerate(index) if i == me]
        others = [(k, int(index[k]), int(rows[k])) for k in range(len(index)) if index[k] != me]
        entries = others + [
            (mine[min(b, len(mine) - 1)] + 0.5 * (position + 1) / (len(order) + 1), me, blocks[b][2])
            for position, b in enumerate(order)
        ]
        entries.sort(key=lambda e: e[0])
        for name, column in (("placement_index", 1), ("rows", 2)):
            values = np.array([e[column] for e in entries], dtype=arrival[name].dtype)
            arrival[name].resize(len(values), axis=0)
            arrival[name][...] = values


def flip_in_chunk(original: Path, target: Path, name: str, row: int, at: str = "middle") -> Path:
    """A copy of `original` with one byte flipped in the chunk of /acquisition/lumbar/`name`
    (or of `name` itself when it is a path) that starts at `row`: in the middle of its stored
    bytes, or ("checksum") in the Fletcher-32 word stored after them."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(original, target)
    with h5py.File(target, "r", swmr=True) as f:  # (opens a file a crash left open too)
        ds = f[name if name.startswith("/") else f"acquisition/lumbar/{name}"]
        infos = [ds.id.get_chunk_info(k) for k in range(ds.id.get_num_chunks())]
    info = next(i for i in infos if i.chunk_offset[0] == row)
    where = info.byte_offset + (info.size // 2 if at == "middle" else info.size - 2)
    data = bytearray(target.read_bytes())
    data[where] ^= 0xFF
    target.write_bytes(bytes(data))
    return target
