"""Measures that update while a drill runs: trunk sway over the last seconds, and perturbations
detected from the pelvic sensor's jerk.

Each runs only in the drills where it means something (`live_measures_for`): sway in upright
stance (quiet stance, single-leg stance), where the trunk is meant to stay still; perturbation
detection in the perturbation drill, where pushes happen. Elsewhere the pelvis jerks when the
patient gets down onto the floor or stands up from a chair, and trunk "sway" would be the drill's
own movement (a forward bend), so neither is computed. A session without a drill name (a free
recording) gets both, as before.

Work per block is bounded: the stage keeps only the last `window_s` of samples. Updates happen at
fixed sample counts (every `update_s`), so stepping over any chunking gives the same results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.processing import settings_checks as check
from sensors.processing.angles import segment_frame
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.filters import LowPassFilter, LowPassSettings
from sensors.processing.pipeline import AngleBlock
from sensors.processing.sway import SwayMeasures, sway_measures
from sensors.processing.sway import prepare as prepare_sway
from sensors.samples import Frame


@dataclass(frozen=True)
class LiveMeasuresSettings:
    """window_s: sway window; update_s: how often it is recomputed; a window needs at least
    min_valid of finite samples; perturbations: pelvic jerk above perturbation_jerk_m_s3, at least
    refractory_s apart."""

    rate_hz: float = 100.0
    window_s: float = 10.0
    update_s: float = 1.0
    min_valid: float = 0.8
    perturbation_jerk_m_s3: float = 50.0
    refractory_s: float = 2.0
    sway: bool = True
    perturbations: bool = True

    def __post_init__(self) -> None:
        check.rate("LiveMeasuresSettings", self.rate_hz)
        check.duration("LiveMeasuresSettings", "window_s", self.window_s)
        check.duration("LiveMeasuresSettings", "update_s", self.update_s)


#: Drill names (and their `name-…` variants) with live sway, and with live perturbation detection.
SWAY_DRILLS = ("quiet-stance", "single-leg")
PERTURBATION_DRILLS = ("perturbations",)


def _matches(drill: str, names: tuple[str, ...]) -> bool:
    return any(drill == name or drill.startswith(name + "-") for name in names)


def live_measures_for(drill: str, rate_hz: float = 100.0) -> LiveMeasuresSettings:
    """The live measures that fit a catalogue drill (all of them for an empty drill name)."""
    if not drill:
        return LiveMeasuresSettings(rate_hz=rate_hz)
    return LiveMeasuresSettings(
        rate_hz=rate_hz, sway=_matches(drill, SWAY_DRILLS), perturbations=_matches(drill, PERTURBATION_DRILLS)
    )


@dataclass(frozen=True)
class RunningMeasures:
    """Trunk control over the window ending at time_s: sway of the trunk inclination (deg) and of
    its acceleration in the segment frame (m/s², causal 3.5 Hz low-pass; ISway-like)."""

    time_s: float
    window_s: float
    trunk_angle_sway: SwayMeasures
    trunk_acc_sway: SwayMeasures


class LiveMeasures:
    def __init__(
        self, placements: tuple[Placement, ...], settings: LiveMeasuresSettings | None = None
    ) -> None:
        self.placements = tuple(placements)
        self.settings = settings or LiveMeasuresSettings()
        self._window = round(self.settings.window_s * self.settings.rate_hz)
        self._update = max(1, round(self.settings.update_s * self.settings.rate_hz))
        self.reset()

    def reset(self) -> None:
        self._time = np.zeros(0)
        self._angle = np.zeros((0, 2))
        self._acc = np.zeros((0, 2))
        self._pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # appended, not joined yet
        self._pending = 0  # samples in _pieces
        self._seen = 0
        self._filter = LowPassFilter(LowPassSettings(self.settings.rate_hz, 3.5))
        self._last_pelvis_acc: np.ndarray | None = None
        self._last_perturbation_s = -np.inf

    def prepare(self) -> None:
        """Load what the running measures compute with (scipy, about a second) now: a live
        session calls it as it starts; an offline replay that does not ask for them never does."""
        if self.settings.sway:
            self._filter.prepare()
            prepare_sway()

    @property
    def buffered_samples(self) -> int:
        """Samples held now (never more than the window)."""
        return min(len(self._time) + self._pending, self._window)

    def step(
        self, frame: Frame, angles: AngleBlock, calibration: SegmentCalibration | None
    ) -> tuple[list[RunningMeasures], list[Event]]:
        """Running measures due in this block and perturbations detected in it (each only when
        the settings ask for it)."""
        events = self.perturbations(frame)
        if not self.settings.sway:
            return [], events
        trunk = self.placements.index(Placement.LUMBAR)
        acc = self._filter.step(frame.acc(Placement.LUMBAR))
        if calibration is not None:
            acc = segment_frame(acc, calibration.mount_q[Placement.LUMBAR])
        else:
            acc = np.full_like(acc, np.nan)
        angle = np.degrees(angles.inclination_rad[:, trunk])
        measures = []
        offset = 0
        while offset < len(frame):
            take = min(len(frame) - offset, self._update - self._seen % self._update)
            part = slice(offset, offset + take)
            self._append(frame.time_s[part], angle[part], acc[part, :2])
            offset += take
            self._seen += take
            if self._seen % self._update == 0:
                result = self._measure()
                if result is not None:
                    measures.append(result)
        return measures, events

    def _append(self, t: np.ndarray, angle: np.ndarray, acc: np.ndarray) -> None:
        """Keep a frame's part (its arrays are not changed afterwards); the window is joined only
        when a measure is due (`_join`), not copied with every frame."""
        self._pieces.append((t, angle, acc))
        self._pending += len(t)

    def _join(self) -> None:
        """The window: the newest `window` samples of what was appended."""
        if not self._pieces:
            return
        keep = self._window
        self._time = np.concatenate([self._time, *(p[0] for p in self._pieces)])[-keep:]
        self._angle = np.concatenate([self._angle, *(p[1] for p in self._pieces)])[-keep:]
        self._acc = np.concatenate([self._acc, *(p[2] for p in self._pieces)])[-keep:]
        self._pieces, self._pending = [], 0

    def _measure(self) -> RunningMeasures | None:
        self._join()
        if len(self._time) < self._window:
            return None
        ok = np.isfinite(self._angle).all(axis=1) & np.isfinite(self._acc).all(axis=1)
        if ok.mean() < self.settings.min_valid:
            return None
        rate = self.settings.rate_hz
        return RunningMeasures(
            time_s=float(self._time[-1]),
            window_s=self.settings.window_s,
            trunk_angle_sway=sway_measures(self._angle[ok, 0], self._angle[ok, 1], rate),
            trunk_acc_sway=sway_measures(self._acc[ok, 0], self._acc[ok, 1], rate, acceleration=True),
        )

    def perturbations(self, frame: Frame) -> list[Event]:
        """Pushes detected in this frame block (none when the drill has no pushes), without the
        sway updates `step` also makes."""
        return self._perturbations(frame) if self.settings.perturbations else []

    def _perturbations(self, frame: Frame) -> list[Event]:
        if Placement.PELVIS not in frame.placements or len(frame) == 0:
            return []
        acc = frame.acc(Placement.PELVIS)
        previous = acc[:1] if self._last_pelvis_acc is None else self._last_pelvis_acc[None]
        jerk = (
            np.linalg.norm(np.diff(np.concatenate([previous, acc]), axis=0), axis=1) * self.settings.rate_hz
        )
        self._last_pelvis_acc = acc[-1]
        events = []
        for k in np.flatnonzero(np.nan_to_num(jerk) > self.settings.perturbation_jerk_m_s3):
            instant = float(frame.time_s[k]) - 1.0 / self.settings.rate_hz  # the jerk spans [k−1, k]
            if instant - self._last_perturbation_s >= self.settings.refractory_s:
                self._last_perturbation_s = instant
                events.append(
                    Event(instant, EventKind.PERTURBATION, "detected from pelvic jerk", source="pipeline")
                )
        return events
