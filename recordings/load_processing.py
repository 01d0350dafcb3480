"""/processing of a session file: the frame grid and, when stored, the angles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from recordings import hdf5_checks, schema
from recordings.chunk_damage import DamagedRows, mark_times, read_around_damage
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


def processing(
    path: Path, f: h5py.File, p: int, derived: bool, problems: list[str], damaged: list[DamagedRows]
) -> dict[str, Any]:
    """The frame grid (`frame_time_s`) and, with `derived`, the stored angles (`stored_processing`;
    None when the file holds none, since schema 0.3.0 the default, or they are damaged: a replay
    recomputes them from the raw data anyway). Frame times in chunks that cannot be read are
    taken from the uniform grid around them, and listed in `damaged` and `problems`."""
    shapes = schema.processing_datasets(p)
    try:
        group = hdf5_checks.group(path, f, schema.PROCESSING)
        time_s = hdf5_checks.dataset(path, group, "time_s", (), "f")
        valid = hdf5_checks.dataset(path, group, "valid", (p,), "b")
        m = min(time_s.shape[0], valid.shape[0])
        try:
            frame_time_s = hdf5_checks.read_rows(time_s, m)
        except OSError:
            frame_time_s = frame_times_around_damage(time_s, m, problems, damaged)
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


def frame_times_around_damage(
    time_s: h5py.Dataset, m: int, problems: list[str], damaged: list[DamagedRows]
) -> np.ndarray:
    """The first m frame times (m,), those of chunks that cannot be read taken from the uniform
    grid through the readable ones (OSError when too few can be read to tell)."""
    rows, bad = read_around_damage(time_s, m)
    times = rows.astype(np.float64)
    known = np.flatnonzero(np.isfinite(times))
    if len(known) < 2:
        raise OSError(f"{time_s.name}: too few frame times can be read")
    step, start = np.polyfit(known, times[known], 1)  # the grid: start + row × 1/rate
    lost = ~np.isfinite(times)
    times[lost] = start + step * np.flatnonzero(lost)
    for part in mark_times(time_s.name, bad, times):
        damaged.append(part)
        problems.append(
            f"{part.describe()} (a damaged chunk): those frame times are taken from the uniform frame grid"
        )
    return times
