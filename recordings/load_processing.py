"""/processing of a session file: the frame grid and, when stored, the angles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from recordings import hdf5_checks, schema
from recordings.errors import NotARecordingError


@dataclass(frozen=True)
class ProcessedAngles:
    """/processing: time_s (n,), valid (n, p), orientation (n, p, 4), inclination_rad (n, p, 2),
    axial_rad (n, p), angular_velocity_rad_s (n, p, 3), lumbar_rad (n, 3)."""

    time_s: np.ndarray
    valid: np.ndarray
    orientation: np.ndarray
    inclination_rad: np.ndarray
    axial_rad: np.ndarray
    angular_velocity_rad_s: np.ndarray
    lumbar_rad: np.ndarray


def processing(path: Path, f: h5py.File, p: int, derived: bool, problems: list[str]) -> dict[str, Any]:
    """The frame grid (`frame_time_s`) and, with `derived`, the stored angles (`stored_processing`;
    None when the file holds none, since schema 0.3.0 the default, or they are damaged: a replay
    recomputes them from the raw data anyway)."""
    shapes = schema.processing_datasets(p)
    try:
        group = hdf5_checks.group(path, f, schema.PROCESSING)
        time_s = hdf5_checks.dataset(path, group, "time_s", (), "f")
        valid = hdf5_checks.dataset(path, group, "valid", (p,), "b")
        m = min(time_s.shape[0], valid.shape[0])
        frame_time_s = hdf5_checks.read_rows(time_s, m)
    except (NotARecordingError, OSError, ValueError, TypeError) as error:
        problem = error.problem if isinstance(error, NotARecordingError) else str(error)
        problems.append(f"the frame grid is unusable ({problem}); a replay recomputes it")
        return {"frame_time_s": np.zeros(0), "stored_processing": None}
    if not derived or not all(name in group for name in shapes):
        return {"frame_time_s": frame_time_s, "stored_processing": None}
    try:
        datasets = [
            hdf5_checks.dataset(path, group, name, tail, "b" if dtype == "bool" else "f")
            for name, (tail, dtype, _) in shapes.items()
        ]
        m = min(ds.shape[0] for ds in datasets)
        return {
            "frame_time_s": frame_time_s,
            "stored_processing": ProcessedAngles(*(hdf5_checks.read_rows(ds, m) for ds in datasets)),
        }
    except (NotARecordingError, OSError, ValueError, TypeError) as error:
        problem = error.problem if isinstance(error, NotARecordingError) else str(error)
        problems.append(f"stored angles unusable ({problem}); they are recomputed from the raw data")
        return {"frame_time_s": frame_time_s, "stored_processing": None}
