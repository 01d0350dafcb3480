"""The live frame-level stage: orientation per sensor → calibration → segment and lumbar angles.

`SegmentAnglePipeline.step(frame)` works block by block with bounded work per block, so the same
object serves the live session and offline analysis (which simply steps over a recording).

The drill chooses what the angles mean (`PipelineSettings.angles`, from `angle_definition(drill)`):
upright drills get inclinations from gravity; holds and lying drills get each segment's rotation
away from the hold posture (see `angles.AngleDefinition`, `hold_posture`), because inclination
from gravity is undefined lying on the side and meaningless for "the hips sag" in a plank.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np

from sensors.drills import DrillFamily, drill_family
from sensors.errors import UnknownDrillError
from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.processing import settings_checks as check
from sensors.processing.angles import (
    AngleDefinition,
    heading_of,
    inclination_angles,
    lumbar_angles,
    segment_frame,
    segment_inclination,
    segment_orientation,
    wrap_angle,
)
from sensors.processing.calibration import (
    GRAVITY_POSTURE,
    SegmentCalibration,
    StillnessLimits,
    calibrate_any_posture,
    calibrate_from_gravity,
    calibrate_neutral_stance,
    vertical_gyro_bias,
)
from sensors.processing.errors import CalibrationError
from sensors.processing.flexion_mounts import FlexionMounts, keep_axial_continuous
from sensors.processing.hold_posture import HoldPostureSettings, HoldPostureTracker
from sensors.processing.orientation import OrientationEstimator, OrientationSettings
from sensors.processing.orientation_axes import FlexionAxisSettings
from sensors.samples import Frame

log = logging.getLogger(__name__)


def angle_definition(drill: str) -> AngleDefinition:
    """How the angles of a catalogue drill are defined: HOLD for holds and lying drills, else
    UPRIGHT (also for an unknown or empty drill name: today's meaning)."""
    try:
        hold = drill_family(drill).is_hold
    except UnknownDrillError:
        hold = False
    return AngleDefinition.HOLD if hold else AngleDefinition.UPRIGHT


def calibrates_while_moving(drill: str) -> bool:
    """Whether a drill may calibrate from gravity alone when no still capture comes: walking, whose
    contacts and cadence need only the sensor's orientation, and a walk that starts in motion
    (an imported trial, a patient who sets off at once) would otherwise give nothing."""
    try:
        return drill_family(drill) is DrillFamily.GAIT
    except UnknownDrillError:
        return False


@dataclass(frozen=True)
class PipelineSettings:
    """rate_hz: frame rate; calibration_s: length of the still calibration capture; angles: what
    the angles mean (UPRIGHT: neutral-stance calibration, inclination from gravity; HOLD: the
    capture may also be in the starting posture, angles relative to the hold posture);
    from_gravity: when a capture is not still, calibrate from its mean acceleration instead
    (`calibration.calibrate_from_gravity`; walking, `calibrates_while_moving`);
    flexion_axis: find each back sensor's medio-lateral axis from the first forward bend and
    measure from there on with it (None: keep the neutral-stance mount; `finds_flexion_axis`)."""

    rate_hz: float = 100.0
    calibration_s: float = 2.0
    orientation: OrientationSettings | None = None
    stillness: StillnessLimits = field(default_factory=StillnessLimits)
    angles: AngleDefinition = AngleDefinition.UPRIGHT
    hold: HoldPostureSettings = field(default_factory=HoldPostureSettings)
    from_gravity: bool = False
    flexion_axis: FlexionAxisSettings | None = None

    def __post_init__(self) -> None:
        check.rate("PipelineSettings", self.rate_hz)
        check.duration("PipelineSettings", "calibration_s", self.calibration_s)


@dataclass(frozen=True)
class AngleBlock:
    """Pipeline output for one frame block.

    time_s (n,); orientation (n, p, 4) sensor→earth; inclination_rad (n, p, 2) segment
    [sagittal, frontal]; axial_rad (n, p) segment rotation about its long axis relative to the
    calibration pose (left positive; from the gyroscope, so it drifts slowly); angular_velocity_rad_s
    (n, p, 3) segment-frame angular velocity [about AP, ML, SI]; lumbar_rad (n, 3) trunk − pelvis
    [sagittal, frontal, axial] (NaN without both). All NaN before calibration and in gaps.
    With `definition` HOLD the three angles are the rotation away from the hold posture in the
    segment's own axes (sag −/lift +, side drop right +, rotation left +), NaN until it is fixed.
    """

    time_s: np.ndarray
    placements: tuple[Placement, ...]
    orientation: np.ndarray
    inclination_rad: np.ndarray
    axial_rad: np.ndarray
    angular_velocity_rad_s: np.ndarray
    lumbar_rad: np.ndarray
    definition: AngleDefinition = AngleDefinition.UPRIGHT

    def __len__(self) -> int:
        return len(self.time_s)

    def inclination(self, placement: Placement) -> np.ndarray:
        """(n, 2) [sagittal, frontal] inclination of one placement's segment, rad."""
        return self.inclination_rad[:, self.placements.index(placement)]

    def rows(self, start: int, stop: int) -> AngleBlock:
        """Samples [start, stop) of this block."""
        return AngleBlock(
            self.time_s[start:stop],
            self.placements,
            self.orientation[start:stop],
            self.inclination_rad[start:stop],
            self.axial_rad[start:stop],
            self.angular_velocity_rad_s[start:stop],
            self.lumbar_rad[start:stop],
            self.definition,
        )

    @staticmethod
    def concatenate(blocks: list[AngleBlock]) -> AngleBlock:
        """Join consecutive blocks into one."""
        return AngleBlock(
            time_s=np.concatenate([b.time_s for b in blocks]),
            placements=blocks[0].placements,
            orientation=np.concatenate([b.orientation for b in blocks]),
            inclination_rad=np.concatenate([b.inclination_rad for b in blocks]),
            axial_rad=np.concatenate([b.axial_rad for b in blocks]),
            angular_velocity_rad_s=np.concatenate([b.angular_velocity_rad_s for b in blocks]),
            lumbar_rad=np.concatenate([b.lumbar_rad for b in blocks]),
            definition=blocks[0].definition,
        )


class SegmentAnglePipeline:
    """Frames in, angles out. Calibrates itself on the first still `calibration_s` of every sensor.
    `outputs` names the `AngleBlock` arrays to compute (None: all); the others stay NaN (an
    analysis that reads only some of them; a hold's posture angles are always computed).

    Calibration is attempted when exactly `calibration_s` of frames have been captured, then every
    `retry_s` on the last `calibration_s` (a sliding window), at fixed sample counts: so `step`
    over any chunking of the frames gives the same result as one call on all of them.
    """

    retry_s = 0.5

    def __init__(
        self,
        placements: tuple[Placement, ...],
        settings: PipelineSettings | None = None,
        outputs: Collection[str] | None = None,
    ) -> None:
        self.placements = tuple(placements)
        self.settings = settings or PipelineSettings()
        self.outputs = _outputs(outputs)
        self._needed = round(self.settings.calibration_s * self.settings.rate_hz)
        self._retry = max(1, round(self.retry_s * self.settings.rate_hz))
        self.reset()

    def reset(self) -> None:
        orientation = self.settings.orientation or OrientationSettings(rate_hz=self.settings.rate_hz)
        self._estimators = {p: OrientationEstimator(orientation) for p in self.placements}
        self.calibration: SegmentCalibration | None = None
        self._capture: list[Frame] = []
        self._captured = 0
        self._next_attempt = self._needed
        self._heading_reference: dict[Placement, float] = {}
        self.calibration_failures: list[str] = []
        self._events: list[Event] = []
        self.hold = HoldPostureTracker(self.placements, self.settings.rate_hz, self.settings.hold)
        self._mounts: FlexionMounts | None = None

    @property
    def mount_q(self) -> dict[Placement, np.ndarray]:
        """The sensor→segment mounts in use now (4,) per placement: the calibration's, or a back
        sensor's refined from the first forward bend (`PipelineSettings.flexion_axis`)."""
        return {} if self._mounts is None else dict(self._mounts.mount_q)

    def on_event(self, event: Event) -> None:
        """An event from the session: the clinician's HOLD_START key fixes the hold posture (HOLD
        angles only; the pipeline's own detections come back here and are ignored)."""
        if (
            self.settings.angles is AngleDefinition.HOLD
            and event.kind is EventKind.HOLD_START
            and event.source != "pipeline"
        ):
            self.hold.request_start(event.time_s)

    def take_events(self) -> list[Event]:
        """Events raised since the last call (calibration done, calibration failed)."""
        events, self._events = self._events, []
        return events

    def step(self, frame: Frame) -> AngleBlock:
        """Angles for one synchronised frame block (n samples).

        Until calibration succeeds nothing is estimated (all NaN, the capture included). On success
        each sensor's filter starts on the still capture (vqf initialises from the accelerometer
        and runs over it), and angles follow from the next sample on. Of the capture's mean gyro
        only the part about the vertical seeds the bias (`calibration.vertical_gyro_bias`, upright
        still captures): about the horizontal axes standing sway makes it differ from the bias by
        ~0.1 °/s, which costs more than vqf's own rest and motion bias estimation, but vqf learns
        the vertical one only at rest, which a swaying stance may never give (an axial angle
        ramping 5° in a dual-task stance, walkthrough s11 #10). Quiet stance's filters go further:
        they take the mean rate since the capture began as the whole bias
        (`OrientationSettings.mean_rate_bias`).
        """
        n, p = len(frame), len(self.placements)
        orientation = np.full((n, p, 4), np.nan)
        offset = 0
        while offset < n and self.calibration is None:
            take = min(n - offset, self._next_attempt - self._captured)
            self._capture.append(frame.rows(offset, offset + take))
            self._captured += take
            offset += take
            if self._captured == self._next_attempt:
                self._attempt_calibration()
        if offset < n:
            orientation[offset:] = self._orient(frame.rows(offset, n))
        inclination = np.full((n, p, 2), np.nan)
        axial = np.full((n, p), np.nan)
        angular_velocity = np.full((n, p, 3), np.nan)
        if self._mounts is not None:
            # every placement at once (n, p, ...): the same arithmetic per element as one by one
            mounts, switched = self._mounts.step(frame, offset)
            upright = self.settings.angles is AngleDefinition.UPRIGHT
            wanted = self.outputs if upright else ANGLE_OUTPUTS  # a hold's posture gives all
            if upright and "axial_rad" not in wanted:  # only the inclinations: without segments
                if "inclination_rad" in wanted:
                    inclination = segment_inclination(orientation, mounts)
            else:
                segments = segment_orientation(orientation, mounts)
                if upright:
                    axial = self._axial(segments)
                    references = self._heading_reference  # moved at each mount switch
                    keep_axial_continuous(axial, orientation, segments, switched, self.placements, references)
                    if "inclination_rad" in wanted:
                        inclination = inclination_angles(segments)
                else:
                    posture, detected = self.hold.step(frame.time_s, segments)
                    inclination, axial = posture[..., :2], posture[..., 2]
                    self._events += detected
            if "angular_velocity_rad_s" in wanted:  # from the first calibrated sample
                columns = [frame.index(placement) for placement in self.placements]
                rows_mounts = mounts[offset:] if mounts.ndim == 3 else mounts
                angular_velocity[offset:] = segment_frame(frame.gyr_rad_s[offset:, columns], rows_mounts)
        lumbar = np.full((n, 3), np.nan)
        both = Placement.LUMBAR in self.placements and Placement.PELVIS in self.placements
        if both and ("lumbar_rad" in self.outputs or self.settings.angles is AngleDefinition.HOLD):
            trunk, pelvis = self.placements.index(Placement.LUMBAR), self.placements.index(Placement.PELVIS)
            lumbar = lumbar_angles(
                np.concatenate([inclination[:, trunk], axial[:, trunk, None]], axis=1),
                np.concatenate([inclination[:, pelvis], axial[:, pelvis, None]], axis=1),
            )
        return AngleBlock(
            frame.time_s.copy(),
            self.placements,
            orientation,
            inclination,
            axial,
            angular_velocity,
            lumbar,
            self.settings.angles,
        )

    def _axial(self, segment_q: np.ndarray) -> np.ndarray:
        """Rotation of each segment about its long axis (n, p) rad relative to its heading at
        calibration, from segment quaternions (n, p, 4): the heading of its medio-lateral axis,
        which stays horizontal in sagittal movements."""
        heading = heading_of(segment_q, axis=1)
        reference = np.full(len(self.placements), np.nan)
        for k, placement in enumerate(self.placements):
            if placement not in self._heading_reference:
                finite = np.flatnonzero(np.isfinite(heading[:, k]))
                if len(finite):
                    self._heading_reference[placement] = float(heading[finite[0], k])
            reference[k] = self._heading_reference.get(placement, np.nan)
        known = ~np.isnan(reference)
        return np.where(known, wrap_angle(heading - np.where(known, reference, 0.0)), heading)

    def _orient(self, frame: Frame) -> np.ndarray:
        """Orientation (n, p, 4) of every sensor over a frame, continuing each filter."""
        out = np.full((len(frame), len(self.placements), 4), np.nan)
        for k, placement in enumerate(self.placements):
            column = frame.index(placement)
            out[:, k] = self._estimators[placement].step(
                frame.gyr_rad_s[:, column], frame.acc_m_s2[:, column], frame.valid[:, column]
            )
        return out

    def _attempt_calibration(self) -> None:
        """Try to calibrate on the last `calibration_s`; on success start the filters on it, else
        slide the window for the next attempt."""
        window = _tail(Frame.concatenate(self._capture), self._needed)
        captures = {}
        for placement in self.placements:
            column = window.index(placement)
            ok = window.valid[:, column]
            captures[placement] = (window.gyr_rad_s[ok, column], window.acc_m_s2[ok, column])
        end_s = float(window.time_s[-1])
        calibrate = (
            calibrate_any_posture
            if self.settings.angles is AngleDefinition.HOLD
            else calibrate_neutral_stance
        )
        try:
            self.calibration = calibrate(captures, end_s, self.settings.stillness)
        except CalibrationError as error:
            if self.settings.from_gravity:
                with contextlib.suppress(CalibrationError):  # then it failed as it said first
                    self.calibration = calibrate_from_gravity(captures, end_s, self.settings.stillness)
            if self.calibration is None:
                self._failed(error, end_s)
                self._capture = [window]
                self._next_attempt += self._retry
                return
        self._capture = []
        upright = self.settings.angles is AngleDefinition.UPRIGHT
        self._mounts = FlexionMounts(
            self.placements,
            self.calibration.mount_q,
            self.settings.rate_hz,
            self.settings.flexion_axis if upright else None,
        )
        if self.calibration.posture == GRAVITY_POSTURE:
            log.warning(
                "no still standing capture: calibrated from gravity while moving (%.2f s to %.2f s); "
                "the gait timing needs no more, the pelvic angles are relative to the walking posture",
                float(window.time_s[0]),
                end_s,
            )
        if self.settings.angles is AngleDefinition.UPRIGHT and self.calibration.posture != GRAVITY_POSTURE:
            for placement, (gyr, acc) in captures.items():  # still and upright: its vertical rate is bias
                self._estimators[placement].set_gyr_bias(vertical_gyro_bias(gyr, acc))
        log.info("calibrated on %s ending at %.2f s", self.calibration.posture, end_s)
        self._events.append(Event(end_s, EventKind.CALIBRATION, self.calibration.posture, source="pipeline"))
        self._orient(window)  # warm the filters up on the still capture

    def _failed(self, error: CalibrationError, end_s: float) -> None:
        """A failed attempt: said (logged, and a CALIBRATION event) once per kind of failure, not
        again for every retry whose numbers differ ("turned at 11 °/s", "… 9 °/s"). What it showed,
        and that it is tried again, not what to do (the frames may come from a file: nobody is
        there to stand still); `calibration_failures` keep the advice for a live session's verdict."""
        message = str(error)
        kind = _failure_kind(message)
        retried = f"tried again every {self.retry_s:g} s on the last {self.settings.calibration_s:g} s"
        said = f"{error.cause} ({retried})"
        if not any(_failure_kind(earlier) == kind for earlier in self.calibration_failures):
            log.warning("calibration not done yet: %s", said)
            self._events.append(
                Event(end_s, EventKind.CALIBRATION, f"failed: {error.cause}", source="pipeline")
            )
        else:
            log.debug("calibration not done yet: %s", said)
        self.calibration_failures.append(message)


#: The angle arrays of an `AngleBlock` a pipeline can be asked to compute.
ANGLE_OUTPUTS = frozenset(
    {"orientation", "inclination_rad", "axial_rad", "angular_velocity_rad_s", "lumbar_rad"}
)


def _outputs(outputs: Collection[str] | None) -> frozenset[str]:
    """The angle arrays to compute for `outputs` (None: all), with what they are made from: the
    lumbar angles need the segments' inclination and axial rotation."""
    if outputs is None:
        return ANGLE_OUTPUTS
    wanted = frozenset(outputs)
    unknown = wanted - ANGLE_OUTPUTS
    if unknown:
        raise ValueError(f"a segment angle pipeline cannot compute {sorted(unknown)}")
    if "lumbar_rad" in wanted:
        wanted |= {"inclination_rad", "axial_rad"}
    return wanted | {"orientation"}  # always: the filters run and calibration needs them


def _failure_kind(message: str) -> str:
    """A calibration failure without its numbers: what is said once."""
    return re.sub(r"[-+]?\d+(\.\d+)?", "#", message)


def _tail(frame: Frame, n: int) -> Frame:
    """The last n samples of a frame."""
    return frame.rows(len(frame) - n, len(frame))
