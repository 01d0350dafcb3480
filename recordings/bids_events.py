"""The events file of a Motion-BIDS export (`recordings.export_bids`): its rows and the sidecar
(events.json) that defines its columns and trial types.

Besides the recording's events, each span in which a sensor's data are missing (could not be
read, or never came: `recordings.data_notes.missing_spans`) is a `data_gap` row whose onset and
duration give the span and whose label says which sensor, which rows and why: BIDS marks spans
of a recording in its events file (as MNE-BIDS does with its BAD_ACQ_SKIP annotations).
"""

from __future__ import annotations

import math

import numpy as np

from recordings.chunk_damage import GAP_NOTE_SOURCE
from recordings.data_notes import missing_spans
from recordings.reader import Recording


def event_rows(recording: Recording, t0: float) -> list[list[str]]:
    """events.tsv's rows, by onset (s from the first frame, `t0` in session time): the recording's
    events, and one `data_gap` per span of a sensor's data missing (`recordings.data_notes`) with
    its duration; a note `stabmon recover` left of a gap it made is that gap's row."""
    spans = [s for s in missing_spans(recording) if math.isfinite(s.start_s) and math.isfinite(s.end_s)]
    noted = {s.note for s in spans}
    rows = [
        (e.time_s, ["0", e.kind.value, e.label or "n/a", _value(e.value), e.source])
        for e in recording.events
        if not (e.source == GAP_NOTE_SOURCE and e.label in noted)
    ]
    rows += [(s.start_s, [f"{s.end_s - s.start_s:.4f}", DATA_GAP, s.note, "n/a", "stabmon"]) for s in spans]
    rows.sort(key=lambda row: row[0])
    return [[f"{time - t0:.4f}", *rest] for time, rest in rows]


#: events.tsv's trial type of a span in which a sensor's data are missing.
DATA_GAP = "data_gap"


def _value(value: float) -> str:
    return "n/a" if not np.isfinite(value) else repr(float(value))


#: events.tsv columns beyond onset and duration, defined for the validator and for readers.
EVENT_COLUMNS: dict[str, object] = {
    "trial_type": {
        "LongName": "event kind",
        "Description": "what happened (stabmon sensors.events.EventKind)",
        "Levels": {
            "perturbation": "an external push (operator mark, simulator, or detected by the pipeline)",
            "task_start": "the drill's task began",
            "task_end": "the drill's task ended",
            "annotation": "a note: operator text, or a sensor link change (source 'link')",
            "pain_rating": "the patient's pain rating, in `value`",
            "calibration": "the end of the sensor-to-segment calibration capture (label: its posture), "
            "or a failed attempt (label 'failed: ...')",
            "hold_start": "a hold's position was reached: the clinician's key, or detected by the "
            "pipeline (source 'pipeline')",
            "hold_end": "a hold's position was lost: the clinician's key (the hold's stopwatch stops)",
            DATA_GAP: "a span in which one sensor's data are missing (`onset` and `duration`): samples "
            "that could not be read from the recording (a damaged chunk, read around or left out by "
            "`stabmon recover`) or a sensor that sent nothing; `label` says which sensor, which rows "
            "and why. That sensor's channels are n/a in the motion file over it",
        },
    },
    "label": {"LongName": "event label", "Description": "free text of the event; n/a when none"},
    "value": {
        "LongName": "event value",
        "Description": "a number the event carries, e.g. a pain rating on 0-10; n/a when none",
    },
    "source": {
        "LongName": "event source",
        "Description": "who produced the event: operator, simulator, pipeline, link, drill, ...; "
        "stabmon for a data_gap",
    },
}
