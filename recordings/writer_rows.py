"""The rows a recording's writer turns each message into (`recordings.writer_messages`), per
dataset path: used by the writer thread (`recordings.writer`) and by the tail a killed writer
process left unwritten, appended on recovery (`recordings.writer_tail`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recordings import schema
from recordings.file_layout import Datasets
from recordings.pending_rows import Write
from sensors.events import Event
from sensors.placements import Placement
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.pipeline import AngleBlock
from sensors.samples import SampleBlock

#: A sensor's raw datasets, under /acquisition/<placement>/, in the order they are written.
RAW_COLUMNS = tuple(schema.RAW_DATASETS)
ARRIVAL = f"{schema.ACQUISITION}/{schema.ARRIVAL}"


def first_new_row(sequence: np.ndarray, previous: int | None) -> int:
    """The first row of a block from which its sequence numbers (n,) all come after
    `previous` (the last one written for its sensor; None: nothing yet); n when none does."""
    if previous is None or int(sequence[0]) > previous:
        return 0
    keep = np.flatnonzero(sequence > previous)
    return int(keep[0]) if len(keep) else len(sequence)


def sample_rows(
    placement_index: int, block: SampleBlock, session_time_s: np.ndarray, previous: int | None
) -> list[tuple[str, np.ndarray]]:
    """(dataset path, rows) of a block already in order: its arrival-log entry, then its raw
    columns with the samples lost before each (from `previous`, the sensor's last sequence)."""
    group = f"{schema.ACQUISITION}/{block.placement.value}"
    values = (
        block.device_time_s,
        block.acc_m_s2,
        block.gyr_rad_s,
        block.sequence,
        block.host_receive_ns,
        session_time_s,
        schema.lost_before(block.sequence, previous),
    )
    return [
        (f"{ARRIVAL}/placement_index", np.array([placement_index], "u1")),
        (f"{ARRIVAL}/rows", np.array([len(block)], "i4")),
        *((f"{group}/{name}", column) for name, column in zip(RAW_COLUMNS, values, strict=True)),
    ]


def frame_rows(
    processing: Sequence[str], time_s: np.ndarray, valid: np.ndarray, angles: AngleBlock | None
) -> list[tuple[str, np.ndarray]]:
    """(dataset path, rows) of a frame's stored /processing datasets (`processing`: their names)."""
    frame_values = {"time_s": time_s, "valid": valid}
    return [
        (
            f"{schema.PROCESSING}/{name}",
            frame_values[name] if name in frame_values else getattr(angles, name),
        )
        for name in processing
    ]


def event_rows(event: Event) -> list[tuple[str, np.ndarray]]:
    """(dataset path, one row) of an event's columns."""
    return [
        (f"{schema.EVENTS}/{name}", values)
        for name, values in (
            ("time_s", np.array([event.time_s])),
            ("kind", np.array([event.kind.value], dtype=object)),
            ("label", np.array([_clip_text(event.label)], dtype=object)),
            ("value", np.array([event.value])),
            ("source", np.array([_clip_text(event.source)], dtype=object)),
        )
    ]


def origin_write(origin_ns: int) -> Write:
    """The in-place write of the host monotonic time (ns) of session time 0."""

    def write(datasets: Datasets) -> None:
        datasets[f"{ARRIVAL}/host_origin_ns"][0] = origin_ns

    return write


def calibration_write(placements: Sequence[Placement], calibration: SegmentCalibration) -> Write:
    """The in-place write of the session's sensor-to-segment calibration."""
    mount_q = np.stack([calibration.mount_q[p] for p in placements])

    def write(datasets: Datasets) -> None:
        datasets[f"{schema.CALIBRATION}/mount_q"][...] = mount_q
        datasets[f"{schema.CALIBRATION}/time_s"][0] = calibration.time_s

    return write


def _clip_text(text: str) -> str:
    """Text that fits the fixed-size UTF-8 event fields without splitting a character."""
    encoded = text.encode("utf-8")[: schema.EVENT_TEXT_BYTES]
    return encoded.decode("utf-8", errors="ignore")
