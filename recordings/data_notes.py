"""What a reader of anything made from a recording must be told is missing from it: the reader's
problems (damaged chunks read around, gaps `stabmon recover` made of them, logs that did not
match), each sensor that sent nothing for a while, and a recording that ended early. One plain
line each, the same in `analyze`'s output, the CSV and BIDS exports and the clinical report;
and the spans of sensor data that could not be read, by sensor and session time, for formats
that mark spans of time (BIDS events, channel notes)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from recordings import schema
from recordings.chunk_damage import GAP_NOTE_SOURCE
from recordings.coverage import silence_lines, silences
from recordings.reader import Recording
from sensors.placements import Placement


def data_notes(recording: Recording, analysis_notes: Sequence[str] | None = None) -> list[str]:
    """One line per thing missing from or assumed about `recording` (empty for a sound, complete
    file), e.g. "/acquisition/lumbar/acc_m_s2 rows 600–649 (6.00–6.49 s of the session) cannot be
    read (a damaged chunk): those lumbar samples are left out as a gap". `analysis_notes`: the
    recording's analysis notes (`AnalysisResult.notes`: the sensors' silences from the replay's
    data and the part of the task measured), said instead of the silences read from the file."""
    ended = f"the recording {recording.ended_early}" if recording.ended_early else ""
    silent = silence_lines(recording) if analysis_notes is None else analysis_notes
    return [line for line in (*recording.problems, *silent, ended) if line]


@dataclass(frozen=True)
class MissingSpan:
    """Samples of one sensor missing from `start_s` to `end_s`, s of the session (a silence: from
    the last sample before it to the first after; unreadable samples: from the first one's time
    for as long as they last at the session's rate; NaN when unknown); `note` says what, where
    and why in one line."""

    placement: Placement
    start_s: float
    end_s: float
    note: str


def missing_spans(recording: Recording) -> list[MissingSpan]:
    """The spans of raw sensor data that are missing: the damaged chunks the reader read around,
    the gaps `stabmon recover` made of them earlier (its notes; their end from the samples left
    out at the session's rate), and the spans in which a sensor sent nothing
    (`recordings.coverage.silences`). In session time order."""
    out = [
        MissingSpan(p, a, b, f"{p.value} sensor: no data from {a:.2f} to {b:.2f} s of the session")
        for p, spans in silences(recording).items()
        for a, b in spans
    ]
    by_name = {p.value: p for p in recording.placements}
    rate = recording.settings.rate_hz
    for rows in recording.damaged:
        parts = rows.dataset.split("/")  # /acquisition/<placement>/<column>
        if len(parts) == 4 and parts[1] == schema.ACQUISITION and parts[2] in by_name:
            note = f"{parts[2]}: {rows.describe()} (a damaged chunk): left out as a gap"
            out.append(MissingSpan(by_name[parts[2]], rows.start_s, rows.start_s + rows.rows / rate, note))
    for event in recording.events:
        placement = by_name.get(event.label.split(":", 1)[0])  # "lumbar: 50 samples (…) left out …"
        if event.source == GAP_NOTE_SOURCE and placement is not None:
            end = event.time_s + event.value / rate if math.isfinite(event.value) else math.nan
            out.append(MissingSpan(placement, event.time_s, end, event.label))
    return sorted(out, key=lambda s: (s.start_s if math.isfinite(s.start_s) else math.inf, s.placement.value))
