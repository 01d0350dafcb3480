"""CSV export, one file per stream, for spreadsheets and statistics packages.

Files (comma separated, header row, '.' decimal, empty cell for a missing value):
  <stem>_raw_<placement>.csv   raw samples as received (SI, sensor frame, device and session time)
  <stem>_angles.csv            synchronised segment and lumbar angles, degrees, with gap flags:
                               per sensor the segment it measures, named as the screens name it
                               (trunk_* from the T12/L1 sensor, pelvis_*, ...), then lumbar_* =
                               trunk − pelvis. Upright drills: inclination from the vertical
                               (`trunk_sagittal_deg`, ...) and rotation since calibration
                               (`*_axial_deg`). Holds and lying drills: each segment's rotation
                               away from the hold posture in its own axes, named `*_from_hold_deg`
                               (`*_sagittal_*`: flexion +, extension −, whatever the
                               posture; see sensors/processing/angles.py), empty until
                               the hold starts. Standing balance: every inclination as its
                               stance measures read the trunk's (the gyroscope bias learned
                               over the stance; `recordings.derived.measured_angles`)
  <stem>_events.csv            events; time_s rounded to 0.1 ms (`EVENT_TIME_FORMAT`)
  <stem>_measures.csv          the drill's measures table (when given), named as the measures
                               catalogue names them; `key` is the analysis key for scripts

When data are missing from the recording (a damaged chunk read around, a gap `stabmon recover`
made of one, a sensor that went silent, a recording that ended early), every file starts with
`# ` comment lines saying what and where (`recordings.data_notes`), before the header row:
read such a file with comment="#" (pandas, numpy) or comment.char="#" (R). A complete
recording's files have none.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recordings import atomic
from recordings.catalogue import catalogue
from recordings.data_notes import data_notes
from recordings.derived import exported_processing
from recordings.reader import Recording
from sensors.processing.analysis import AnalysisResult
from sensors.processing.angles import AngleDefinition

#: Event times, s, in the events file: 0.1 ms (every event time is a session time that a host
#: clock stamped or a frame's grid point; the digits beyond say nothing).
EVENT_TIME_FORMAT = "{:.4f}"

_AXES = ("x", "y", "z")
_PLANES = ("sagittal", "frontal")
_LUMBAR = ("sagittal", "frontal", "axial")


#: The first comment line of a file whose recording has data missing; one `# ` line per note follows.
NOTES_TITLE = "# Data are missing from this recording (stabmon):"


def _write(
    batch: atomic.Batch, path: Path, header: list[str], columns: list[np.ndarray], notes: Sequence[str] = ()
) -> Path:
    """Write columns (each (n,)) under header, after `# ` comment lines for `notes` (none when
    empty), into `batch`; NaN becomes an empty cell, floats keep full precision."""
    with batch.replacing(path) as partial, partial.open("w", newline="", encoding="utf-8") as f:
        if notes:
            f.write("\n".join([NOTES_TITLE, *(f"# {' '.join(n.split())}" for n in notes)]) + "\n")
        writer = csv.writer(f)
        writer.writerow(header)
        text = [_as_text(c) for c in columns]
        writer.writerows(zip(*text, strict=True))
    return path


def _as_text(column: np.ndarray) -> list[str]:
    if column.dtype.kind == "f":
        return ["" if not np.isfinite(v) else repr(float(v)) for v in column.tolist()]
    if column.dtype.kind == "b":
        return ["1" if v else "0" for v in column.tolist()]
    return [str(v) for v in column.tolist()]


def export_csv(recording: Recording, out_dir: Path, measures: AnalysisResult | None = None) -> list[Path]:
    """Write the recording's streams as CSV files into out_dir; returns the files written. They
    are put in place together at the end: a failed export (a full disk) leaves none of them."""
    with atomic.together() as batch:
        return _write_all(batch, recording, out_dir, measures)


def _write_all(
    batch: atomic.Batch, recording: Recording, out_dir: Path, measures: AnalysisResult | None
) -> list[Path]:
    """`export_csv`, each file written into `batch`."""
    batch.folder(out_dir)
    stem = recording.path.stem
    notes = data_notes(recording)
    written = []
    for placement in recording.placements:
        s = recording.samples[placement]
        header = ["device_time_s", "session_time_s", "host_receive_ns", "sequence", "lost_before"]
        header += [f"acc_{a}_m_s2" for a in _AXES] + [f"gyr_{a}_rad_s" for a in _AXES]
        columns = [
            s.device_time_s,
            recording.session_time_s[placement],
            s.host_receive_ns,
            s.sequence,
            recording.lost_before[placement],
            *s.acc_m_s2.T,
            *s.gyr_rad_s.T,
        ]
        written.append(_write(batch, out_dir / f"{stem}_raw_{placement.value}.csv", header, columns, notes))
    proc = exported_processing(recording)
    # A hold's angles are rotations away from the hold posture: the names say so.
    meaning = "_from_hold" if recording.settings.pipeline.angles is AngleDefinition.HOLD else ""
    header, columns = ["time_s"], [proc.time_s]
    for k, placement in enumerate(recording.placements):
        segment = placement.segment.replace(" ", "_")  # the lumbar sensor measures the trunk
        header += [f"{segment}_valid"]
        columns += [proc.valid[:, k]]
        header += [f"{segment}_{plane}{meaning}_deg" for plane in (*_PLANES, "axial")]
        columns += [*np.degrees(proc.inclination_rad[:, k]).T, np.degrees(proc.axial_rad[:, k])]
    header += [f"lumbar_{plane}{meaning}_deg" for plane in _LUMBAR]
    columns += [*np.degrees(proc.lumbar_rad).T]
    written.append(_write(batch, out_dir / f"{stem}_angles.csv", header, columns, notes))
    events = recording.events
    written.append(
        _write(
            batch,
            out_dir / f"{stem}_events.csv",
            ["time_s", "kind", "label", "value", "source"],
            [
                np.array([EVENT_TIME_FORMAT.format(e.time_s) for e in events], dtype=object),
                np.array([e.kind.value for e in events], dtype=object),
                np.array([e.label for e in events], dtype=object),
                np.array([e.value for e in events], dtype=float),
                np.array([e.source for e in events], dtype=object),
            ],
            notes,
        )
    )
    if measures is not None:
        condition = recording.condition.label
        written.append(_write_measures(batch, out_dir / f"{stem}_measures.csv", measures, condition, notes))
    return written


def _write_measures(
    batch: atomic.Batch, path: Path, result: AnalysisResult, condition: str, notes: Sequence[str]
) -> Path:
    """Measures with the catalogue's names and units: `shown` is the value as a clinician reads it
    ("Not measured — why" for a missing one), `value` full precision in `unit` (empty if missing),
    with the drill and its condition on every row."""
    cat = catalogue()
    rows = [(m, cat.info(result.drill, m.name)) for m in result.measures]
    return _write(
        batch,
        path,
        ["drill", "condition", "measure", "repetition", "value", "unit", "shown", "better", "source", "key"],
        [
            np.array([result.drill] * len(rows), dtype=object),
            np.array([condition] * len(rows), dtype=object),
            np.array([i.name for _, i in rows], dtype=object),
            np.array(
                ["" if m.repetition is None else f"{i.repetition} {m.repetition}" for m, i in rows],
                dtype=object,
            ),
            np.array([i.display_value(m.value) for m, i in rows], dtype=float),
            np.array([i.unit for _, i in rows], dtype=object),
            np.array([i.format(m.value, missing=m.missing) for m, i in rows], dtype=object),
            np.array([i.better.value if i.judged else "" for _, i in rows], dtype=object),
            np.array([i.source for _, i in rows], dtype=object),
            np.array(
                [m.name if m.repetition is None else f"{m.name}#{m.repetition}" for m, _ in rows],
                dtype=object,
            ),
        ],
        notes,
    )
