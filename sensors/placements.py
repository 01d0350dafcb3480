"""Where a sensor sits on the body, and how it is nominally strapped on there."""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from sensors.errors import UnknownPlacementError


class Placement(StrEnum):
    """Body site of one IMU. The lumbar sensor measures the trunk, the pelvic sensor the pelvis."""

    LUMBAR = "lumbar"
    PELVIS = "pelvis"
    THORAX = "thorax"
    LEFT_THIGH = "left_thigh"
    RIGHT_THIGH = "right_thigh"
    LEFT_SHANK = "left_shank"
    RIGHT_SHANK = "right_shank"

    @property
    def anatomical_site(self) -> str:
        """Landmark the sensor is centred on, for instructions and reports."""
        return _SITES[self]

    @property
    def segment(self) -> str:
        """Name of the body segment whose motion the sensor measures."""
        return _SEGMENTS[self]


_SITES = {
    Placement.LUMBAR: "T12/L1 spinous process",
    Placement.PELVIS: "S1/S2 (sacrum)",
    Placement.THORAX: "T3-T6 spinous processes",
    Placement.LEFT_THIGH: "left lateral mid-thigh",
    Placement.RIGHT_THIGH: "right lateral mid-thigh",
    Placement.LEFT_SHANK: "left lateral mid-shank",
    Placement.RIGHT_SHANK: "right lateral mid-shank",
}
_SEGMENTS = {
    Placement.LUMBAR: "trunk",
    Placement.PELVIS: "pelvis",
    Placement.THORAX: "thorax",
    Placement.LEFT_THIGH: "left thigh",
    Placement.RIGHT_THIGH: "right thigh",
    Placement.LEFT_SHANK: "left shank",
    Placement.RIGHT_SHANK: "right shank",
}

#: Leg sensors, strapped on the lateral side with x along the limb.
LEG_PLACEMENTS = frozenset(
    {Placement.LEFT_THIGH, Placement.RIGHT_THIGH, Placement.LEFT_SHANK, Placement.RIGHT_SHANK}
)

#: The two placements every drill needs; the others are optional.
REQUIRED_PLACEMENTS: tuple[Placement, ...] = (Placement.LUMBAR, Placement.PELVIS)


def parse_placement(text: str) -> Placement:
    """Return the placement named `text` (case-insensitive, '-' or '_'), or raise a clear error."""
    key = text.strip().lower().replace("-", "_")
    try:
        return Placement(key)
    except ValueError:
        known = ", ".join(p.value for p in Placement)
        raise UnknownPlacementError(f"unknown placement {text!r}; expected one of: {known}") from None


# Nominal mounting: columns are the sensor's x, y, z axes expressed in the segment frame
# (x anterior, y left, z superior). Back sensors: x up the spine, y to the left, z out of the
# skin (posterior). Leg sensors: x up the thigh or shank, z out of the skin (lateral).
_BACK_MOUNT = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
_LEFT_THIGH_MOUNT = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
_RIGHT_THIGH_MOUNT = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])


def nominal_mount(placement: Placement) -> np.ndarray:
    """Rotation matrix sensor→segment (3, 3) for a sensor strapped on as the instructions say."""
    if placement in (Placement.LEFT_THIGH, Placement.LEFT_SHANK):
        return _LEFT_THIGH_MOUNT.copy()
    if placement in (Placement.RIGHT_THIGH, Placement.RIGHT_SHANK):
        return _RIGHT_THIGH_MOUNT.copy()
    return _BACK_MOUNT.copy()
