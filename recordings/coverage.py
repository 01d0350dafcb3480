"""Which part of a recorded session each sensor's data cover: the spans in which a sensor sent
nothing (a battery that died, a sensor out of reach), said in plain words and counted as lost,
for `analyze`, `compare` and the clinical report alike."""

from __future__ import annotations

import numpy as np

from recordings import schema
from recordings.errors import RecordingError
from recordings.file_access import open_recording_file
from recordings.reader import Recording
from sensors.health import silence_text, silent_spans
from sensors.placements import Placement


def silences(recording: Recording) -> dict[Placement, list[tuple[float, float]]]:
    """Per sensor, the spans (from, to), s, of the recorded session (its frames) longer than
    `sensors.health.SILENCE_WARNING_S` in which it sent nothing (empty list: it covered it)."""
    frames = recording.frame_time_s
    if len(frames) == 0:
        return {}
    start, end = float(frames[0]), float(frames[-1])
    return {p: silent_spans(t, start, end) for p, t in _session_times(recording).items()}


def silence_lines(recording: Recording) -> list[str]:
    """One plain line per sensor that sent nothing for a while (`sensors.health.silence_text`),
    e.g. "pelvis sensor: no data since 12.0 s (18.0 s, 60 % of the session, counted as lost);
    measures that use the pelvis sensor cover only the rest"; empty when every sensor covered
    the session."""
    frames = recording.frame_time_s
    if len(frames) == 0:
        return []
    start, end = float(frames[0]), float(frames[-1])
    texts = (silence_text(p, spans, start, end) for p, spans in silences(recording).items())
    return [text for text in texts if text]


def silent_samples(recording: Recording) -> dict[Placement, int]:
    """Per sensor, the samples its silences (`silences`) held back at the session's rate that its
    counter did not already count as lost (`lost_before` of the sample that ends a silence; a
    silence to the end of the session is ended by none): lost as surely as those."""
    rate = recording.settings.rate_hz
    out = {}
    for p, spans in silences(recording).items():
        times, lost_before = recording.session_time_s.get(p), recording.lost_before.get(p)
        missing = 0
        for a, b in spans:
            held = round((b - a) * rate)
            if times is not None and lost_before is not None and len(lost_before) == len(times):
                after = int(np.searchsorted(times, b))
                if after < len(times) and times[after] == b:  # a sample ends it: the counter's gap
                    held = max(held - 1 - int(lost_before[after]), 0)
            missing += held
        out[p] = missing
    return out


def lost_samples(recording: Recording) -> dict[Placement, int]:
    """Per sensor with samples read, the samples lost: those its counter counted (`lost_before`)
    and those its silences held back (`silent_samples`)."""
    silent = silent_samples(recording)
    return {p: int(recording.lost_before[p].sum()) + silent.get(p, 0) for p in recording.samples}


def _session_times(recording: Recording) -> dict[Placement, np.ndarray]:
    """Each sensor's sample times (n,) s: as read, or from the file when the raw samples were
    left out (`read_recording(raw=False)`); a sensor whose times cannot be read is left out (the
    reader or the analysis says what is wrong with the file)."""
    if all(len(recording.session_time_s.get(p, ())) for p in recording.placements):
        return {p: recording.session_time_s[p] for p in recording.placements}
    times = {}
    try:
        with open_recording_file(recording.path) as f:
            for p in recording.placements:
                try:
                    times[p] = np.asarray(f[schema.ACQUISITION][p.value]["session_time_s"][:], float)
                except (KeyError, OSError, ValueError):
                    continue
    except (OSError, RecordingError):
        return {}
    return times
