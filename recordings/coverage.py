"""Which part of a recorded session each sensor's data cover: the spans in which a sensor sent
nothing (a battery that died, a sensor out of reach), said in plain words and counted as lost,
for `analyze`, `compare` and the clinical report alike; and the part of the session a set of
sensors all cover (`Coverage.covered`), which the analysis measures over."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from recordings import schema
from recordings.errors import RecordingError
from recordings.file_access import open_recording_file
from recordings.reader import Recording
from sensors.health import SILENCE_WARNING_S, silence_text, silent_spans
from sensors.placements import Placement


@dataclass(frozen=True)
class Coverage:
    """The recorded session [start_s, end_s] (its first and last frame, s) and, per sensor, the
    spans (from, to), s, longer than `sensors.health.SILENCE_WARNING_S` in which it sent nothing
    (empty list: it covered the session); late_s: the sensors' data (s at the session's rate) that
    came in after their frames had gone out live, left out of the frames as the live view left
    them (a replay's `late_samples`; 0 when not known)."""

    start_s: float
    end_s: float
    silences: Mapping[Placement, list[tuple[float, float]]]
    late_s: float = 0.0

    def lines(self) -> list[str]:
        """One plain line per sensor that sent nothing for a while (`sensors.health.silence_text`),
        e.g. "pelvis sensor: no data since 12.0 s (18.0 s, 60 % of the session, counted as lost);
        measures that use the pelvis sensor cover only the rest"; empty when every sensor covered
        the session."""
        texts = [silence_text(p, s, self.start_s, self.end_s) for p, s in self.silences.items()]
        if self.late_s >= SILENCE_WARNING_S / 10:  # a frame or two late is no news
            texts.append(
                f"{self.late_s:.1f} s of sensor data came in after their frames had gone out live "
                "(a radio or computer that stalled): left out of the frames and the measures as gaps, "
                "as the live view left them; the raw data hold them"
            )
        return [text for text in texts if text]

    def data_from(self, placement: Placement) -> float:
        """Session time (s) from which the sensor sent data: the session's start, or the end of a
        silence that began with the session (a sensor that joined late)."""
        spans = self.silences.get(placement, [])
        return spans[0][1] if spans and spans[0][0] <= self.start_s else self.start_s

    def data_until(self, placement: Placement) -> float:
        """Session time (s) of the sensor's last data: the session's end, or the start of a silence
        that ran to the end (a battery that died, a sensor out of reach)."""
        spans = self.silences.get(placement, [])
        return spans[-1][0] if spans and spans[-1][1] >= self.end_s - SILENCE_WARNING_S else self.end_s

    def covered(self, placements: Iterable[Placement]) -> tuple[float, float]:
        """The part of the session (from, to), s, in which every one of `placements` sent data
        (from ≥ to: none); silences within it are gaps in that part, not its ends."""
        chosen = [p for p in placements if p in self.silences]
        start = max((self.data_from(p) for p in chosen), default=self.start_s)
        return start, min((self.data_until(p) for p in chosen), default=self.end_s)

    def limit_text(self, placements: Iterable[Placement]) -> str:
        """What ends the part `covered(placements)` early or starts it late, in words: "the lumbar
        sensor had no data after 6.0 s" ("" when the part is the whole session)."""
        parts = []
        for p in placements:
            if p not in self.silences:
                continue
            if self.data_from(p) >= self.data_until(p):
                parts.append(f"the {p.value} sensor sent no data")
                continue
            if self.data_from(p) > self.start_s:
                parts.append(f"the {p.value} sensor had no data before {self.data_from(p):.1f} s")
            if self.data_until(p) < self.end_s:
                parts.append(f"the {p.value} sensor had no data after {self.data_until(p):.1f} s")
        return " and ".join(parts)


def coverage_of(
    recording: Recording, times: Mapping[Placement, np.ndarray] | None = None, late_samples: int = 0
) -> Coverage:
    """The recording's coverage from each sensor's sample times `times` (n,) s (a replay's: its
    clock mapping's), else from the recording's, or read from its file when the raw samples were
    left out (`read_recording(raw=False)`); `late_samples`: a replay's samples that came after
    their frames (`SessionReport.late_samples`)."""
    frames = recording.frame_time_s
    if len(frames) == 0:
        return Coverage(0.0, 0.0, {})
    start, end = float(frames[0]), float(frames[-1])
    found = _session_times(recording) if times is None else times
    spans = {p: silent_spans(np.asarray(t), start, end) for p, t in found.items()}
    return Coverage(start, end, spans, late_samples / recording.settings.rate_hz)


def silences(recording: Recording) -> dict[Placement, list[tuple[float, float]]]:
    """Per sensor, the spans (from, to), s, of the recorded session (its frames) longer than
    `sensors.health.SILENCE_WARNING_S` in which it sent nothing (empty list: it covered it)."""
    return dict(coverage_of(recording).silences)


def silence_lines(recording: Recording) -> list[str]:
    """`Coverage.lines` of the recording (read from its file when its samples were left out)."""
    return coverage_of(recording).lines()


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
