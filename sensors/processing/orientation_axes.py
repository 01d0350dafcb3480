"""A back sensor's turn on the skin, found from the first forward bend's rotation axis.

A neutral standing capture fixes each segment's vertical in the sensor frame but not the sensor's
turn about it (`calibration`): the nominal mounting is assumed. A sensor turned by ψ about the
spine's long axis then sees a pure forward bend θ partly as a side bend, and the frontal
inclination reads asin(sin θ · sin ψ): 5–7° at 100° of flexion for the 4–8° a strap is off
(simulated forward bends: lumbar frontal range 3–7° where the truth's is 0.6–1.3°; the true
mounting gives 1.0–1.3°). No inclination formula can undo it (only gravity is seen, and the turn
about the vertical is exactly what gravity cannot show); a "flexion first, then side bend about
the flexed axis" decomposition makes it worse (the frontal angle becomes atan(gy/gz), which
diverges at 90°).

A forward bend turns the segment about its medio-lateral axis, so the first bend of a
forward-bend drill shows that axis in the sensor frame. Only samples turning faster than
`min_rate_deg_s` count. Twice:
- early: once their rotation vector adds up to `rotation_deg`, its direction is taken (the angles
  switch there, at a tilt of about 12°, so the frontal angle steps by sin(12°)·sin ψ, ≤ 1.5°);
- at the end of that bend (their rotation back under `rotation_deg` after at least
  `bend_deg`): the principal axis of the rates (Σ ω ωᵀ) over the whole bend, down and up, in
  which a gyroscope bias b adds only (Σθ')·(a bᵀ + b aᵀ) + N b bᵀ, the first term cancelling
  between the way down and the way up (the early estimate carries b·T/θ: ~1° for 0.5 °/s).
  The switch is near upright, so the angles barely step.
The segment axes become: z (vertical) as calibrated, y = the axis made perpendicular to z,
x = y × z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors import quaternion as quat
from sensors.processing import settings_checks as check


@dataclass(frozen=True)
class FlexionAxisSettings:
    """min_rate_deg_s: samples turning faster than this count as the bend (sway and a gyroscope
    bias stay far below); rotation_deg: the rotation accumulated before the early axis is taken
    (larger: a bias matters less, the frontal angle steps more there); bend_deg: the least
    rotation that makes a bend whose end gives the final axis."""

    min_rate_deg_s: float = 20.0
    rotation_deg: float = 10.0
    bend_deg: float = 30.0

    def __post_init__(self) -> None:
        check.number("FlexionAxisSettings", "min_rate_deg_s", self.min_rate_deg_s, 0.0, 1e4)
        check.number("FlexionAxisSettings", "rotation_deg", self.rotation_deg, 0.0, 90.0)
        check.number("FlexionAxisSettings", "bend_deg", self.bend_deg, self.rotation_deg, 180.0)


#: The largest turn of a sensor on the skin (and tilt of a bend's axis) taken as a forward bend, deg.
MAX_TURN_DEG = 30.0


class FlexionAxis:
    """Finds one sensor's medio-lateral axis from the first forward bend, block by block (the same
    rows and mounts for any chunking of the samples: every sum runs on from the carried one)."""

    def __init__(self, neutral_mount_q: np.ndarray, rate_hz: float, settings: FlexionAxisSettings) -> None:
        self.neutral_mount_q = np.asarray(neutral_mount_q, dtype=float)
        self.settings = settings
        self._dt = 1.0 / rate_hz
        self._rotation = np.zeros(3)  # rad, sensor frame: Σ ω dt over the fast samples
        self._scatter = np.zeros((3, 3))  # rad²/s: Σ ω ωᵀ dt over them
        self._deepest = 0.0  # rad: the largest |rotation| so far
        self.mount_q: np.ndarray | None = None  # the refined sensor→segment mount, once found
        self.final = False  # the end of the first bend gave the mount

    def step(self, gyr_rad_s: np.ndarray, valid: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Rows (n, 3) rad/s, valid (n,): the switches found in them, as (row from which the
        mount holds, sensor→segment mount (4,)), in order (at most two; `mount_q` is the last)."""
        if self.final:
            return []
        gyr = np.nan_to_num(np.asarray(gyr_rad_s, dtype=float))
        fast = np.asarray(valid, dtype=bool) & (
            np.linalg.norm(gyr, axis=1) > np.radians(self.settings.min_rate_deg_s)
        )
        steps = np.where(fast[:, None], gyr * self._dt, 0.0)
        rotation = np.cumsum(np.vstack([self._rotation, steps]), axis=0)[1:]
        size = np.linalg.norm(rotation, axis=1)
        deepest = np.maximum.accumulate(np.concatenate([[self._deepest], size]))[1:]
        early, bent = np.radians(self.settings.rotation_deg), np.radians(self.settings.bend_deg)
        switches: list[tuple[int, np.ndarray]] = []
        start = 0
        if self.mount_q is None:
            reached = np.flatnonzero(size >= early)
            if len(reached):
                row = int(reached[0])
                mount = self._mount(rotation[row])
                if mount is None:  # not a bend (turning round): look again from the next sample on
                    self._carry(rotation, deepest, fast, gyr, row + 1, reset=True)
                    return [(r + row + 1, m) for r, m in self.step(gyr_rad_s[row + 1 :], valid[row + 1 :])]
                self.mount_q = mount
                switches.append((row, mount))
                start = row + 1
        if self.mount_q is not None:
            back = np.flatnonzero((deepest >= bent) & (size < early))
            back = back[back >= start]
            if len(back):
                row = int(back[0])
                scatter = _outer_sum(self._scatter, gyr[: row + 1][fast[: row + 1]], self._dt)
                principal = np.linalg.eigh(scatter)[1][:, -1]
                mount = self._mount(principal)
                self.final = True
                if mount is not None:
                    self.mount_q = mount
                    switches.append((row, mount))
                return switches
        self._carry(rotation, deepest, fast, gyr, len(gyr))
        return switches

    def _carry(
        self,
        rotation: np.ndarray,
        deepest: np.ndarray,
        fast: np.ndarray,
        gyr: np.ndarray,
        stop: int,
        reset: bool = False,
    ) -> None:
        """Keep the sums over rows [0, stop) for the next block (reset: start them again)."""
        if reset:
            self._rotation, self._scatter, self._deepest = np.zeros(3), np.zeros((3, 3)), 0.0
        elif stop:
            self._rotation = rotation[stop - 1]
            self._deepest = float(deepest[stop - 1])
            self._scatter = _outer_sum(self._scatter, gyr[:stop][fast[:stop]], self._dt)

    def _mount(self, rotation: np.ndarray) -> np.ndarray | None:
        """The mount whose medio-lateral axis is `rotation` (3,) made perpendicular to the
        calibrated vertical, or None when that rotation was not a bend: mostly about the vertical
        (turning round), or its axis more than `MAX_TURN_DEG` from the calibrated one (a sensor
        worn that far round is not a strap off by a few degrees)."""
        neutral = quat.to_matrix(self.neutral_mount_q)  # rows: segment x, y, z in sensor coordinates
        z = neutral[2]
        y = rotation - (rotation @ z) * z
        size = np.linalg.norm(y)
        if size < np.cos(np.radians(MAX_TURN_DEG)) * np.linalg.norm(rotation):
            return None
        y /= size
        if y @ neutral[1] < 0:  # an extension first (or an eigenvector's sign): the axis to the right
            y = -y
        if y @ neutral[1] < np.cos(np.radians(MAX_TURN_DEG)):
            return None
        x = np.cross(y, z)
        return quat.from_matrix(np.stack([x, y, z]))


def _outer_sum(total: np.ndarray, rows: np.ndarray, dt: float) -> np.ndarray:
    """total (3, 3) + Σ r rᵀ dt over rows (m, 3), added one row after another onto the running
    total (the same sum for any split of the rows)."""
    for outer in rows[:, :, None] * rows[:, None, :] * dt:
        total = total + outer
    return total
