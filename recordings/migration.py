"""Bring what an older file holds up to the current schema, in memory (the file is not changed).

0.2.x → 0.3.0: nothing to rebuild. 0.3 made the /processing angles optional and pinned the HDF5
file format; a 0.2 file holds every /processing dataset, which the reader takes as stored
(`Recording.stored_processing`).

0.1.x → 0.2.0: 0.1 files lack the arrival log, the host clock origin, the per-sample loss counts
and the runner settings. Loss counts follow exactly from the sequence counters. The arrival log is
rebuilt as one block per notification (a run of equal host stamps), merged across sensors by host
time; the origin is a low percentile of host-minus-session time, where the live clock fit puts
it. A replay of a migrated file therefore matches the live session closely but not bit for bit
(the live runner may have received several notifications as one block, and the origin is an
estimate to about a millisecond).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sensors.placements import Placement
from sensors.samples import SampleBlock

#: Session seconds the live clock fit needs before its envelope is settled (3 one-second bins).
_SETTLE_S = 5.0


def arrival_from_host_stamps(
    placements: tuple[Placement, ...], samples: Mapping[Placement, SampleBlock]
) -> tuple[np.ndarray, np.ndarray]:
    """(placement_index (k,), rows (k,)): one block per notification, in host-time order."""
    entries: list[tuple[int, int, int]] = []  # (host ns of the block's last sample, index, rows)
    for index, placement in enumerate(placements):
        stamps = samples[placement].host_receive_ns
        if len(stamps) == 0:
            continue
        ends = np.flatnonzero(np.diff(stamps, append=stamps[-1] + 1))
        starts = np.concatenate([[0], ends[:-1] + 1])
        entries += [(int(stamps[e]), index, int(e - s + 1)) for s, e in zip(starts, ends, strict=True)]
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    return (
        np.array([e[1] for e in entries], dtype=np.uint8),
        np.array([e[2] for e in entries], dtype=np.int32),
    )


def host_origin_from_mapping(
    samples: Mapping[Placement, SampleBlock], session_time_s: Mapping[Placement, np.ndarray]
) -> int:
    """Host time (ns) of session time 0, from host-minus-session time of each notification's newest
    sample, which the live fit puts on a lower envelope: a low percentile (2 %) of it, after the
    first `_SETTLE_S` while the fit was still settling (when it can map samples late)."""
    residuals = []
    for placement, block in samples.items():
        stamps = block.host_receive_ns
        if len(stamps) == 0:
            continue
        ends = np.flatnonzero(np.diff(stamps, append=stamps[-1] + 1))
        session = session_time_s[placement][ends]
        residual = stamps[ends] - np.round(session * 1e9).astype(np.int64)
        settled = session > _SETTLE_S
        residuals.append(residual[settled] if settled.any() else residual)
    if not residuals:
        return 0
    return int(np.percentile(np.concatenate(residuals), 2.0))
