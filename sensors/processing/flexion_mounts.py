"""The sensor→segment mounts a pipeline measures with: the calibration's, and in the forward bends
each back sensor's refined from the first bend (`orientation_axes.FlexionAxis`), switched at the
rows where the search found a better one."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from sensors.drills import DrillFamily, drill_family
from sensors.errors import UnknownDrillError
from sensors.placements import Placement
from sensors.processing.angles import heading_of, segment_orientation, wrap_angle
from sensors.processing.calibration import BACK_PLACEMENTS
from sensors.processing.orientation_axes import FlexionAxis, FlexionAxisSettings
from sensors.samples import Frame

log = logging.getLogger(__name__)

#: A mount's switch: (the row from which the new mount holds, the mount before (4,), the new (4,)).
MountSwitch = tuple[int, np.ndarray, np.ndarray]


def finds_flexion_axis(drill: str) -> bool:
    """Whether a drill's first forward bend refines the back sensors' turn on the skin
    (`orientation_axes`): the forward bends, whose frontal angles it mixes with the flexion."""
    try:
        return drill_family(drill) is DrillFamily.FORWARD_BEND
    except UnknownDrillError:
        return False


class FlexionMounts:
    """The mounts (4,) per placement of `placements` from the calibration's, each back sensor's
    refined from the first forward bend when `settings` are given (None: the calibration's kept)."""

    def __init__(
        self,
        placements: tuple[Placement, ...],
        calibration_mounts: Mapping[Placement, np.ndarray],
        rate_hz: float,
        settings: FlexionAxisSettings | None,
    ) -> None:
        self.placements = placements
        self.mount_q = dict(calibration_mounts)
        self._axes = {}
        if settings is not None:
            self._axes = {
                p: FlexionAxis(self.mount_q[p], rate_hz, settings) for p in placements if p in BACK_PLACEMENTS
            }

    def step(self, frame: Frame, offset: int) -> tuple[np.ndarray, dict[int, list[MountSwitch]]]:
        """Step the back sensors' flexion-axis search over the calibrated rows [offset, n) of
        `frame`. Returns the mounts, (p, 4) when none switched, else (n, p, 4) per row (before the
        first switch, the mount before it; from each switch on, the new one), and per placement
        index whose mount switched, its switches in order; `mount_q` holds the last mounts."""
        switched = {}
        for placement, axis in self._axes.items():
            column = frame.index(placement)
            changes = []
            for row, mount in axis.step(frame.gyr_rad_s[offset:, column], frame.valid[offset:, column]):
                changes.append((offset + row, self.mount_q[placement], mount))
                self.mount_q[placement] = mount
                log.info("%s sensor's medio-lateral axis refined from the first bend", placement.value)
            if changes:
                switched[self.placements.index(placement)] = changes
        mounts = np.array([self.mount_q[placement] for placement in self.placements])
        if switched:  # a mount per row: the one before the first switch, each from its switch on
            mounts = np.repeat(mounts[None], len(frame), axis=0)
            for k, changes in switched.items():
                mounts[:, k] = changes[0][1]
                for row, _, after in changes:
                    mounts[row:, k] = after
        return mounts, switched


def heading_step(sensor_q: np.ndarray, before: np.ndarray, after: np.ndarray) -> float:
    """How far, rad, a segment's heading (that of its medio-lateral axis) moves when its mount
    switches from `before` to `after` (4,) at the sensor orientation sensor_q (4,): what keeps
    its axial rotation continuous there (NaN when the orientation is unknown)."""
    old = segment_orientation(sensor_q, before)
    new = segment_orientation(sensor_q, after)
    return float(wrap_angle(heading_of(new, axis=1) - heading_of(old, axis=1)))


def keep_axial_continuous(
    axial_rad: np.ndarray,
    sensor_q: np.ndarray,
    segment_q: np.ndarray,
    switched: Mapping[int, list[MountSwitch]],
    placements: tuple[Placement, ...],
    heading_reference: dict[Placement, float],
) -> None:
    """Keep each segment's axial rotation (n, p), rad, continuous across its mount's switches (in
    place): from a switch's row on it, and the placement's heading reference (rad; updated), move
    with the medio-lateral axis by `heading_step` at the sensor orientation sensor_q (n, p, 4). A
    placement with a heading reference has its rows worked out again from the new reference and
    the segment orientations segment_q (n, p, 4), as the next blocks are, so that the result does
    not depend on where the blocks end (bit for bit)."""
    for k, changes in switched.items():
        for row, before, after in changes:
            delta = heading_step(sensor_q[row, k], before, after)
            if not np.isfinite(delta):
                continue
            placement = placements[k]
            if placement in heading_reference:
                heading_reference[placement] += delta
                heading = heading_of(segment_q[row:, k], axis=1)
                axial_rad[row:, k] = wrap_angle(heading - heading_reference[placement])
            else:
                axial_rad[row:, k] = wrap_angle(axial_rad[row:, k] - delta)
