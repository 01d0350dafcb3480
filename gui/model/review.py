"""Review of a recording (also one still being written): its angles, events, measures and the
change since the subject's baseline, computed by replaying the file like `stabmon analyze`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recordings import read_recording
from recordings.analysis import ReplayedSession, analyze_recording, measures_of, replay, with_subject_settings
from recordings.compare import Comparison, SessionFacts, compare_results, find_baseline, library_for
from recordings.derived import measured_angles
from recordings.errors import RecordingError
from recordings.library import SessionLibrary
from recordings.plot_data import COLUMNS, angle_rows
from recordings.reader import Recording
from sensors.events import Event
from sensors.processing.analysis import AnalysisResult, drill_family, perturbation_events
from sensors.processing.errors import ProcessingError
from sensors.processing.perturbation import PerturbationInstant
from sensors.processing.pipeline import AngleBlock


@dataclass(frozen=True)
class ReviewedRecording:
    """A replayed recording: angle rows (n, COLUMNS) deg, events, the perturbations the analysis
    analysed, measures (None with the reason in `problem`), the comparison with the baseline (None
    without one, reason in `baseline_note`)."""

    recording: Recording
    session: ReplayedSession
    rows: np.ndarray
    events: tuple[Event, ...]
    pushes: tuple[PerturbationInstant, ...]
    measures: AnalysisResult | None
    problem: str
    comparison: Comparison | None
    baseline_note: str
    library: SessionLibrary


def review(path: Path, data_dir: Path | None = None) -> ReviewedRecording:
    """Read, replay and analyse `path`, and compare it with the subject's baseline of that drill
    in the library (`data_dir`, default the platform's)."""
    recording = read_recording(path)
    session = replay(recording)
    blocks = session.collector.blocks
    rows = angle_rows(AngleBlock.concatenate(blocks)) if blocks else np.zeros((0, len(COLUMNS)))
    measures, problem = None, ""
    pushes: tuple[PerturbationInstant, ...] = ()
    try:  # as `stabmon analyze` measures it: over the part of the task its sensors cover
        measures = measures_of(session.collector, recording, session.coverage)
        data = with_subject_settings(session.collector.session_data(), recording)
        rows = angle_rows(measured_angles(recording.drill, data))  # a stance's as its measures read them
    except ProcessingError as error:
        problem = str(error)
    else:
        if drill_family(recording.drill) == "perturbations":
            data = with_subject_settings(session.collector.session_data(), recording)
            pushes = tuple(perturbation_events(data))  # what the analysis analysed, for its plot
    comparison = None
    library = library_for(recording, data_dir)
    entry, note = find_baseline(library, recording)
    if measures is None:
        note = "no measures to compare"
    elif entry is not None:
        try:
            base = read_recording(entry.path)
            facts = (SessionFacts.of(base), SessionFacts.of(recording))
            comparison = compare_results(analyze_recording(base), measures, facts=facts)
        except (ProcessingError, RecordingError, ValueError, OSError) as error:
            note = f"baseline {entry.path.name} could not be compared: {error}"
    return ReviewedRecording(
        recording,
        session,
        rows,
        tuple(session.collector.events),
        pushes,
        measures,
        problem,
        comparison,
        note,
        library,
    )
