"""The layout of a session file: root attributes and every group and dataset, created empty,
chunked (`CHUNK_S` of data a chunk), checksummed and resizable, before the first row is written.
Bulk datasets are gzip-compressed; the small arrival and event tables are not (they are written
up to date at every flush). Files are in the HDF5 1.10 format (`schema.FILE_FORMAT`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from recordings import schema
from recordings.conditions import Condition, condition_from_protocol
from recordings.settings_codec import session_settings_to_json
from sensors.identity import SensorIdentity
from sensors.placements import Placement
from sensors.processing.session import SessionSettings

#: Seconds of data per chunk of a bulk dataset (bounds what a crash can lose, with the flush).
CHUNK_S = 0.5
_MIN_CHUNK_ROWS = 16
_COMPRESSED = {"compression": "gzip", "compression_opts": 4, "shuffle": True, "fletcher32": True}
_UNCOMPRESSED = {"fletcher32": True}


@dataclass(frozen=True)
class SessionMetadata:
    """Root attributes of a session file. subject_id must be a pseudonym, never a name; settings
    are the runner settings that produce /processing (stored so a replay runs the same way)."""

    subject_id: str
    drill: str
    settings: SessionSettings = field(default_factory=SessionSettings)
    operator_notes: str = ""
    protocol: Mapping[str, Any] = field(default_factory=dict)
    created_utc: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: Also store the derived angles under /processing (see `schema.ANGLES_STORED`); the frame
    #: times and gap flags are always stored.
    store_angles: bool = False
    #: None: derived from the drill and the protocol settings (task "unknown" if they do not say).
    condition: Condition | None = None
    #: The whole session specification as JSON (`engine.spec.SessionSpec.to_json`), stored as
    #: the root attribute `session_spec_json`; "" (imports, tests) leaves it out.
    spec_json: str = ""

    @property
    def session_condition(self) -> Condition:
        return self.condition or condition_from_protocol(self.drill, self.protocol)

    @property
    def rate_hz(self) -> float:
        return self.settings.rate_hz


#: Every dataset of an open session file by path ("acquisition/lumbar/acc_m_s2"), opened once:
#: writes never open or close dataset objects (after a failed write, closing one fails in HDF5).
Datasets = dict[str, h5py.Dataset]


def open_new(path: Path, mode: str) -> h5py.File:
    """A session file to write. No chunk cache: only whole chunks are written while the session
    runs, so it saves nothing, and with the datasets held open for the file's life each one's
    cache (1 MB by default) grew the writer by about 6 MB a minute with four sensors."""
    return h5py.File(path, mode, libver=schema.FILE_FORMAT, rdcc_nbytes=0)


def datasets_of(f: h5py.File) -> Datasets:
    """Open every dataset of the file once."""
    found: Datasets = {}

    def take(name: str, item: h5py.HLObject) -> None:  # returning anything else stops the visit
        if isinstance(item, h5py.Dataset):
            found[name] = item

    f.visititems(take)
    return found


def _create(
    group: h5py.Group,
    name: str,
    row_shape: tuple[int, ...],
    dtype: Any,
    unit: str,
    chunk_rows: int,
    compressed: bool = True,
) -> None:
    """A resizable dataset; compressed ones are written in whole chunks, others at every flush."""
    filters = _COMPRESSED if compressed else _UNCOMPRESSED
    dataset = group.create_dataset(
        name,
        shape=(0, *row_shape),
        maxshape=(None, *row_shape),
        chunks=(chunk_rows, *row_shape),
        dtype=dtype,
        **filters,
    )
    dataset.attrs["unit"] = unit


def layout(f: h5py.File, metadata: SessionMetadata, sensors: Mapping[Placement, SensorIdentity]) -> None:
    """Every group and dataset of a session file, empty, with the root attributes."""
    placements = tuple(sensors)
    f.attrs.update(
        {
            "schema_version": schema.SCHEMA_VERSION,
            "app_version": schema.app_version(),
            "created_utc": metadata.created_utc.isoformat(),
            "subject_id": metadata.subject_id,
            "drill": metadata.drill,
            "rate_hz": metadata.settings.rate_hz,
            "operator_notes": metadata.operator_notes,
            "protocol_json": json.dumps(dict(metadata.protocol), sort_keys=True),
            "condition": metadata.session_condition.to_attribute(),
            "placements": [p.value for p in placements],
        }
    )
    if metadata.spec_json:
        f.attrs["session_spec_json"] = metadata.spec_json
    rows = max(_MIN_CHUNK_ROWS, round(metadata.settings.rate_hz * CHUNK_S))
    acquisition = f.create_group(schema.ACQUISITION)
    arrival = acquisition.create_group(schema.ARRIVAL)
    for name, (dtype, unit) in schema.ARRIVAL_DATASETS.items():
        # Uncompressed, so it is written up to date at every flush and covers the samples.
        _create(arrival, name, (), dtype, unit, chunk_rows=256, compressed=False)
    arrival.create_dataset("host_origin_ns", data=np.full(1, -1, dtype=np.int64)).attrs["unit"] = "ns"
    for placement, identity in sensors.items():
        group = acquisition.create_group(placement.value)
        group.attrs.update(
            {
                "family": identity.family.value,
                "address": identity.address,
                "serial": identity.serial,
                "firmware": identity.firmware,
                "model": identity.model,
                "anatomical_site": placement.anatomical_site,
            }
        )
        for name, (row_shape, dtype, unit) in schema.RAW_DATASETS.items():
            _create(group, name, row_shape, dtype, unit, chunk_rows=rows)
    events = f.create_group(schema.EVENTS)
    text = h5py.string_dtype("utf-8", schema.EVENT_TEXT_BYTES)
    for name, (dtype, unit) in schema.EVENT_DATASETS.items():
        _create(events, name, (), text if dtype == "text" else dtype, unit, 32, compressed=False)
    p = len(placements)
    calibration = f.create_group(schema.CALIBRATION)
    calibration.create_dataset("mount_q", data=np.full((p, 4), np.nan)).attrs["unit"] = "1"
    calibration.create_dataset("time_s", data=np.full(1, np.nan)).attrs["unit"] = "s"
    calibration.attrs["method"] = "neutral upright stance (sensors.processing.calibration)"
    processing = f.create_group(schema.PROCESSING)
    processing.attrs["algorithm"] = "sensors.processing.pipeline.SegmentAnglePipeline"
    processing.attrs["algorithm_version"] = schema.app_version()
    processing.attrs["settings_json"] = session_settings_to_json(metadata.settings)
    processing.attrs[schema.ANGLES_STORED] = metadata.store_angles
    for name in processing_written(metadata):
        row_shape, dtype, unit = schema.processing_datasets(p)[name]
        _create(processing, name, row_shape, dtype, unit, chunk_rows=rows)


def processing_written(metadata: SessionMetadata) -> tuple[str, ...]:
    """The /processing datasets a session file holds."""
    every = tuple(schema.processing_datasets(1))
    return every if metadata.store_angles else schema.FRAME_DATASETS
