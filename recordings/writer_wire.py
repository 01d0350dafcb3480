"""What the engine and a recording's writer process (`recordings.writer_process`,
`recordings.writer_server`) tell each other over their socket pair, and the batch that carries the
writer's messages: one pickle (protocol 5) per send, the raw blocks' columns concatenated (a
pickled `SampleBlock` costs ~35 µs of the engine's interpreter; six arrays for all the blocks of a
send, a few µs each)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from recordings.file_layout import SessionMetadata
from recordings.writer_messages import RawSamples, WriterMessage
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.samples import SampleBlock

#: The columns of a `SampleBlock` a batch carries, in order (then the session times).
_COLUMNS = ("device_time_s", "acc_m_s2", "gyr_rad_s", "sequence", "host_receive_ns")


# Engine → writer process (each pickled with protocol 5) ---------------------------------------


@dataclass(frozen=True)
class Open:
    """Create the recording (`RecordingWriter`'s arguments)."""

    path: Path
    metadata: SessionMetadata
    sensors: dict[Placement, SensorIdentity]
    flush_interval_s: float
    min_free_bytes: int


@dataclass(frozen=True)
class Close:
    """Write everything, close the file, answer `Closed` and end."""


# Writer process → engine -----------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """The file is created (error: why it could not be, and the process ends)."""

    error: str = ""


@dataclass(frozen=True)
class State:
    """What the engine watches while recording, sent when it changes (error: the writer failed)."""

    disk_space_low: bool = False
    held_back_episodes: int = 0
    rescue_file: Path | None = None
    error: str = ""


@dataclass(frozen=True)
class Flushed:
    """A flush wrote everything before it up to `written` rows per dataset path (since the file
    was created): what the engine keeps for a writer process that dies can go
    (`recordings.writer_tail.UnconfirmedTail.confirmed`)."""

    written: dict[str, int]


@dataclass(frozen=True)
class Closed:
    """The file is closed (error: why writing failed). Counters as `RecordingWriter`'s;
    flushes: (monotonic ns started, ended, ns of it filtering outside HDF5) per flush; cpu_ns:
    the process's (ns on a CPU, ns waiting for one) from the file's opening, None where not
    known."""

    state: State
    error: str = ""
    chunks_stored_directly: int = 0
    h5py_writes: int = 0
    filter_ns: int = 0
    out_of_order_samples: int = 0
    flushes: list[tuple[int, int, int]] = field(default_factory=list)
    cpu_ns: tuple[int, int] | None = None


Reply = Opened | State | Flushed | Closed


@dataclass(frozen=True)
class Batch:
    """The writer's messages of one send. Raw blocks, in the order they came: index of each
    block's placement (k,) in the recording's placements, its rows (k,), and their columns
    concatenated (`SampleBlock`'s, then the session times s); every other message as it is."""

    placement_index: np.ndarray
    rows: np.ndarray
    columns: tuple[np.ndarray, ...]
    others: list[WriterMessage] = field(default_factory=list)


def pack(messages: Sequence[WriterMessage], placements: Sequence[Placement]) -> Batch:
    """One batch of `messages` (the raw blocks of `placements`)."""
    blocks: list[SampleBlock] = []
    times: list[np.ndarray] = []
    others: list[WriterMessage] = []
    for message in messages:
        if type(message) is RawSamples:
            blocks.append(message.block)
            times.append(message.session_time_s)
        else:
            others.append(message)
    if not blocks:
        return Batch(np.zeros(0, "u1"), np.zeros(0, "i4"), (), others)
    index = {placement: k for k, placement in enumerate(placements)}
    columns = [np.concatenate([getattr(block, name) for block in blocks]) for name in _COLUMNS]
    columns.append(np.concatenate(times).astype(np.float64, copy=False))
    return Batch(
        np.array([index[block.placement] for block in blocks], "u1"),
        np.array([len(block.sequence) for block in blocks], "i4"),
        tuple(columns),
        others,
    )


def unpack(batch: Batch, placements: Sequence[Placement]) -> list[WriterMessage]:
    """The messages of a batch: its raw blocks in their order, then the others. The blocks are
    not checked again (`SampleBlock.__post_init__`: ~30 µs each): they were when the engine made
    them, and the writer checks their order itself."""
    out: list[WriterMessage] = []
    if len(batch.rows):
        *columns, session = batch.columns
        ends = np.cumsum(batch.rows).tolist()
        start = 0
        for k, end in zip(batch.placement_index.tolist(), ends, strict=True):
            block = object.__new__(SampleBlock)
            object.__setattr__(block, "placement", placements[k])
            for name, column in zip(_COLUMNS, columns, strict=True):
                object.__setattr__(block, name, column[start:end])
            out.append(RawSamples(block, session[start:end]))
            start = end
    out.extend(batch.others)
    return out
