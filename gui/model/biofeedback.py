"""The patient's biofeedback: keep the trunk inside a target zone the clinician sets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from sensors.drills import HOLD_FAMILIES, DrillFamily, drill_family
from sensors.errors import UnknownDrillError
from sensors.events import Event
from sensors.processing.holds import HoldClock, HoldClockState
from sensors.processing.rhythm import lumbar_contribution


class ZoneState(StrEnum):
    INSIDE = "inside"
    NEAR_EDGE = "near edge"
    OUTSIDE = "outside"
    NO_DATA = "no data"


@dataclass(frozen=True)
class TargetZone:
    """A circle on the trunk's inclination plane: centre (sagittal, frontal) deg and radius deg.
    Within `warn_fraction` of the radius from the edge counts as near the edge."""

    centre_ap_deg: float = 0.0
    centre_ml_deg: float = 0.0
    radius_deg: float = 3.0
    warn_fraction: float = 0.8

    def __post_init__(self) -> None:
        if not self.radius_deg > 0:
            raise ValueError(f"the target zone needs a positive radius, got {self.radius_deg}°")

    def distance(self, ap_deg: float, ml_deg: float) -> float:
        """How far (deg) the trunk is from the zone's centre."""
        return math.hypot(ap_deg - self.centre_ap_deg, ml_deg - self.centre_ml_deg)

    def state(self, ap_deg: float, ml_deg: float) -> ZoneState:
        if not (math.isfinite(ap_deg) and math.isfinite(ml_deg)):
            return ZoneState.NO_DATA
        d = self.distance(ap_deg, ml_deg)
        if d > self.radius_deg:
            return ZoneState.OUTSIDE
        return ZoneState.NEAR_EDGE if d > self.warn_fraction * self.radius_deg else ZoneState.INSIDE


class FeedbackMode(StrEnum):
    """What the patient is shown, per protocol (TOML `feedback`).

    stance-sway: the trunk's inclination inside a circle (quiet and single-leg stance);
    lumbar-flexion: the lumbar flexion angle against a limit the clinician sets (lifting and
    bending practice; sound when it is passed); hold-position: how far the trunk and pelvis have
    moved from the hold posture (holds; the pipeline's hold angles); bend: the bend's range and
    how much of it comes from the lumbar spine, against targets (forward bend); none: no
    feedback, the words and the clock only (walking: the patient is not at the screen, and a
    stance circle told a walking patient "Back to the middle")."""

    STANCE_SWAY = "stance-sway"
    LUMBAR_FLEXION = "lumbar-flexion"
    HOLD_POSITION = "hold-position"
    BEND = "bend"
    NONE = "none"


#: Drill families and the feedback they get when a protocol does not choose one (the others:
#: stance sway).
_DEFAULT_FEEDBACK: dict[DrillFamily, FeedbackMode] = {
    **dict.fromkeys(HOLD_FAMILIES, FeedbackMode.HOLD_POSITION),
    DrillFamily.FORWARD_BEND: FeedbackMode.BEND,
    DrillFamily.SIT_TO_STAND: FeedbackMode.LUMBAR_FLEXION,
    DrillFamily.GAIT: FeedbackMode.NONE,
}

#: The clinician's limit when a protocol sets none, deg: the stance circle's and the hold zone's
#: radius, the lumbar flexion limit, the bend's target trunk range.
DEFAULT_LIMIT_DEG = {
    FeedbackMode.STANCE_SWAY: 3.0,
    FeedbackMode.HOLD_POSITION: 5.0,
    FeedbackMode.LUMBAR_FLEXION: 30.0,
    FeedbackMode.BEND: 90.0,
    FeedbackMode.NONE: 0.0,
}


def default_feedback(drill: str) -> FeedbackMode:
    """The feedback a catalogue drill gets by default (stance sway for anything upright)."""
    try:
        family = drill_family(drill)
    except UnknownDrillError:
        return FeedbackMode.STANCE_SWAY
    return _DEFAULT_FEEDBACK.get(family, FeedbackMode.STANCE_SWAY)


@dataclass(frozen=True)
class Feedback:
    """One update of the patient's screen: the zone state (colour), the number shown and its
    limit (deg, or % for a share), the words for the patient (readable from 2 m: short), and
    whether to sound the warning tone."""

    state: ZoneState
    value: float
    limit: float
    unit: str
    words: str
    tone: bool = False


def _level(value: float, limit: float, warn_fraction: float) -> ZoneState:
    if value > limit:
        return ZoneState.OUTSIDE
    return ZoneState.NEAR_EDGE if value > warn_fraction * limit else ZoneState.INSIDE


_NO_DATA = "Waiting for the sensors"


def stance_sway_feedback(ap_deg: float, ml_deg: float, zone: TargetZone) -> Feedback:
    """Trunk inclination (deg) against the circle: today's stance feedback, as words."""
    state = zone.state(ap_deg, ml_deg)
    distance = zone.distance(ap_deg, ml_deg) if state is not ZoneState.NO_DATA else math.nan
    words = {
        ZoneState.INSIDE: "Good — stay still",
        ZoneState.NEAR_EDGE: "Careful — back to the middle",
        ZoneState.OUTSIDE: "Back to the middle",
        ZoneState.NO_DATA: _NO_DATA,
    }[state]
    return Feedback(state, distance, zone.radius_deg, "deg", words, tone=state is ZoneState.OUTSIDE)


#: Within this (deg) of the calibrated upright posture the low back counts as straight: about
#: twice the lumbar angle's measurement error (RMSE 1.3–1.9° against motion capture, METRICS.md
#: §2) plus the bend of quiet standing. A bend beyond it, even well below the clinician's limit,
#: is never called straight: the patient is told it is within the limit.
STRAIGHT_BACK_DEG = 5.0


def lumbar_flexion_feedback(
    lumbar_flexion_deg: float, limit_deg: float, warn_fraction: float = 0.8
) -> Feedback:
    """Lumbar flexion (trunk − pelvis sagittal, deg, flexion +) against the clinician's limit:
    green below `warn_fraction` of it ("back straight" only within STRAIGHT_BACK_DEG of upright),
    amber up to it, red and a tone beyond (ViMove-style)."""
    if not limit_deg > 0:
        raise ValueError(f"the lumbar flexion limit must be positive, got {limit_deg}°")
    if not math.isfinite(lumbar_flexion_deg):
        return Feedback(ZoneState.NO_DATA, math.nan, limit_deg, "deg", _NO_DATA)
    state = _level(lumbar_flexion_deg, limit_deg, warn_fraction)
    straight = abs(lumbar_flexion_deg) <= STRAIGHT_BACK_DEG
    words = {
        ZoneState.INSIDE: "Good — back straight" if straight else "Good — within your limit",
        ZoneState.NEAR_EDGE: "Nearly at your limit",
        ZoneState.OUTSIDE: "Too much back bend — bend at the hips",
    }[state]
    return Feedback(state, lumbar_flexion_deg, limit_deg, "deg", words, tone=state is ZoneState.OUTSIDE)


def hold_position_feedback(
    trunk_deg: tuple[float, float, float],
    pelvis_deg: tuple[float, float, float],
    radius_deg: float,
    warn_fraction: float = 0.8,
) -> Feedback:
    """Deviation from the hold posture: the larger of the trunk's and the pelvis's rotation away
    from it (each [sagittal, frontal, axial] deg from the pipeline's hold angles), against a zone
    of `radius_deg`. The words name the segment and its largest movement: sag/lift ("in line"),
    side drop ("level") or rotation ("turn back")."""
    if not radius_deg > 0:
        raise ValueError(f"the hold zone needs a positive radius, got {radius_deg}°")
    segments = {"trunk": trunk_deg, "hips": pelvis_deg}
    finite = {k: v for k, v in segments.items() if all(math.isfinite(x) for x in v)}
    if not finite:
        return Feedback(ZoneState.NO_DATA, math.nan, radius_deg, "deg", "Get into position")
    sizes = {k: math.sqrt(sum(x * x for x in v)) for k, v in finite.items()}
    worst = max(sizes, key=lambda k: sizes[k])
    state = _level(sizes[worst], radius_deg, warn_fraction)
    if state is ZoneState.INSIDE:
        return Feedback(state, sizes[worst], radius_deg, "deg", "Good — hold it")
    axis = max(range(3), key=lambda k: abs(finite[worst][k]))
    correction = ("Keep your {} in line", "Level your {}", "Turn your {} back")[axis].format(worst)
    return Feedback(state, sizes[worst], radius_deg, "deg", correction, tone=state is ZoneState.OUTSIDE)


#: How far into the bend (fraction of the target trunk range) the end range starts: the lumbar
#: share is judged from there on. The norm (Laird 2019, T12/S2: 48 ± 11 % without LBP) is an
#: end-range value; earlier the lumbar spine normally leads (the review window's curve of a
#: normal bend starts near 90 % at 10 % of the flexion and falls to ~50 % at full bend).
END_RANGE_PROGRESS = 0.8


def bend_feedback(
    trunk_flexion_deg: float,
    pelvis_flexion_deg: float,
    target_range_deg: float,
    max_lumbar_share: float = 0.6,
    min_flexion_deg: float = 15.0,
) -> Feedback:
    """A forward bend against its targets: the trunk range to reach (deg) and the largest share
    of it the lumbar spine should take at end range (`rhythm.lumbar_contribution` of the rises
    from upright, the review window's definition). The value shown is the lumbar share in %; it
    is judged only from END_RANGE_PROGRESS of the target range on (the norm is an end-range
    one), so a normal bend's early lumbar lead raises no cue. Below `min_flexion_deg` the share
    is not yet meaningful and the patient is asked to bend."""
    if not target_range_deg > 0 or not 0 < max_lumbar_share <= 1:
        raise ValueError("a bend target needs a positive range and a lumbar share in (0, 1]")
    limit = 100 * max_lumbar_share
    if not (math.isfinite(trunk_flexion_deg) and math.isfinite(pelvis_flexion_deg)):
        return Feedback(ZoneState.NO_DATA, math.nan, limit, "%", _NO_DATA)
    if trunk_flexion_deg < min_flexion_deg:
        return Feedback(ZoneState.INSIDE, math.nan, limit, "%", "Bend forward slowly")
    share = float(lumbar_contribution(trunk_flexion_deg, trunk_flexion_deg - pelvis_flexion_deg))
    at_end_range = trunk_flexion_deg >= END_RANGE_PROGRESS * target_range_deg
    if at_end_range and share > max_lumbar_share:
        return Feedback(ZoneState.OUTSIDE, 100 * share, limit, "%", "Bend more from the hips", tone=True)
    if trunk_flexion_deg >= target_range_deg:
        return Feedback(ZoneState.INSIDE, 100 * share, limit, "%", "Target reached — come up slowly")
    to_go = target_range_deg - trunk_flexion_deg
    near = at_end_range and share > 0.9 * max_lumbar_share
    state = ZoneState.NEAR_EDGE if near else ZoneState.INSIDE
    return Feedback(state, 100 * share, limit, "%", f"Keep going — {to_go:.0f}° to go")


@dataclass(frozen=True)
class LiveAngles:
    """The newest live angles, deg (NaN when unknown): trunk and pelvis [sagittal, frontal] —
    in holds the rotation away from the hold posture (sag/lift, side drop) — and the lumbar
    flexion (trunk − pelvis sagittal, flexion +)."""

    trunk: tuple[float, float] = (math.nan, math.nan)
    pelvis: tuple[float, float] = (math.nan, math.nan)
    lumbar_flexion: float = math.nan


def live_feedback(mode: FeedbackMode, limit: float, angles: LiveAngles, zone: TargetZone) -> Feedback:
    """The patient's feedback in `mode` with the clinician's `limit` (deg; see DEFAULT_LIMIT_DEG):
    stance sway uses `zone` (its centre and radius), the others the limit. Hold position: the
    live feed has no axial rotation, so sag/lift and side drop only."""
    if mode is FeedbackMode.STANCE_SWAY:
        return stance_sway_feedback(angles.trunk[0], angles.trunk[1], zone)
    if mode is FeedbackMode.LUMBAR_FLEXION:
        return lumbar_flexion_feedback(angles.lumbar_flexion, limit)
    if mode is FeedbackMode.HOLD_POSITION:
        return hold_position_feedback((*angles.trunk, 0.0), (*angles.pelvis, 0.0), limit)
    if mode is FeedbackMode.BEND:
        return bend_feedback(angles.trunk[0], angles.pelvis[0], limit)
    raise ValueError(f"the {mode} feedback mode has no live feedback")


class LiveHoldClock:
    """The hold's stopwatch as the clinician and the patient see it (one instance for both
    windows): `sensors.processing.holds.HoldClock` fed with the live session's events, read
    on the host clock the clinician's keys are stamped with, so pressing E when it shows t
    stores a hold of t."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.clock = HoldClock()
        self._events: list[Event] | None = None
        self._seen = 0

    def update(self, events: list[Event]) -> HoldClockState:
        """Take the events not seen yet: `events` grows during a recording, and a new recording
        comes with a new list (the live buffers' `events`)."""
        if events is not self._events:
            self.clock, self._events, self._seen = HoldClock(), events, 0
        for event in events[self._seen :]:
            self.clock.on_event(event)
        self._seen = len(events)
        return self.clock.state

    def shown_s(self, now_session_s: float) -> float:
        """What the clock shows at session time `now_session_s` (s): 0 while getting into
        position, counting up while holding, the held time once ended."""
        return self.clock.state.elapsed_s(now_session_s)


def hold_clock_words(state: HoldClockState, shown_s: float) -> str:
    """The clock as both screens show it: 'Get into position', 'Hold 12.3 s', 'Held 42.1 s'."""
    if state.phase == "waiting":
        return "Get into position"
    if state.phase == "holding":
        return f"Hold {shown_s:.1f} s"
    return f"Held {shown_s:.1f} s" + (" — position lost" if state.lost else "")
