"""One body that performs drill after drill on one time line, for sensors that stay on (and
connected) between the repetitions of a protocol: `Performance.perform(drill)` has the body act
out `drill` from the earliest time no sensor has sampled yet, so what was already sampled never
changes and the sensors' clocks, counters and noise simply go on."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sensors.events import Event
from sensors.simulator.body import Pose, upright_pose
from sensors.simulator.drills.base import Drill

#: How long (s) the body takes to move from where the drill before left it into the next drill's
#: first pose (both upright stance, a fraction of a degree and a centimetre apart): slow enough
#: that the accelerometers feel < 0.2° of it, so a calibration capture sees a still wearer.
SETTLE_S = 1.5


@dataclass
class _Timeline:
    """Shared by every copy of a performance (sensors copy the drill they are given)."""

    parts: list[tuple[float, Drill]]
    posed_until_s: float = -math.inf
    #: The start times handed out (s), in order.
    starts: list[float] = field(default_factory=list)


class Performance(Drill):
    """Drills one after another; `first` starts at time 0. Faces the first drill's heading
    throughout (a drill's own heading would turn the body on the spot). Endless: the body
    stands on after the last drill's script, as `continued` does."""

    def __init__(self, first: Drill) -> None:
        super().__init__(f"performance of {first.name}", first.options)
        self.heading_rad = first.heading_rad
        self.duration_s = math.inf
        self._timeline = _Timeline([(0.0, first)])

    def perform(self, drill: Drill, not_before_s: float = 0.0) -> float:
        """Act out `drill` from now on; returns its time 0 on this performance's clock, s: the
        latest time any sensor has been sampled at (nothing sampled changes), and not before
        `not_before_s` (now, s: sensors may not have sampled anything yet)."""
        line = self._timeline
        start_s = max(line.posed_until_s, line.parts[-1][0], not_before_s)
        line.parts.append((start_s, drill))
        line.starts.append(start_s)
        return start_s

    @property
    def current(self) -> Drill:
        """The drill performed last."""
        return self._timeline.parts[-1][1]

    def pose(self, t: np.ndarray) -> Pose:
        """Pose at times t (n,), s: each drill at its own time (t − its start); during the first
        SETTLE_S of a drill, a blend from the drill before."""
        t = np.asarray(t, dtype=float)
        line = self._timeline
        if len(t):
            line.posed_until_s = max(line.posed_until_s, float(t.max()))
        parts = line.parts
        index = np.maximum(np.searchsorted([start for start, _ in parts], t, side="right") - 1, 0)
        pose = upright_pose(len(t))
        for k, (start_s, drill) in enumerate(parts):
            rows = np.flatnonzero(index == k)
            if not len(rows):
                continue
            own = drill.pose(t[rows] - start_s)
            for placement, angles in own.angles_rad.items():
                pose.angles_rad[placement][rows] = angles
            pose.root_m[rows] = own.root_m
            settling = rows[t[rows] - start_s < SETTLE_S]
            if k == 0 or not len(settling):
                continue
            weight = np.clip((t[settling] - start_s) / SETTLE_S, 0.0, 1.0)
            # smootherstep: velocity and acceleration start and end at zero (no step for the IMU)
            w = (weight**3 * (10.0 - 15.0 * weight + 6.0 * weight**2))[:, None]
            before_start, before = parts[k - 1]
            was = before.pose(t[settling] - before_start)
            for placement, angles in pose.angles_rad.items():
                angles[settling] = (1.0 - w) * was.angles_rad[placement] + w * angles[settling]
            pose.root_m[settling] = (1.0 - w) * was.root_m + w * pose.root_m[settling]
        return pose

    def _script(self, pose: Pose, t: np.ndarray) -> None:  # pose() is overridden
        raise NotImplementedError("a performance poses through its drills")

    @property
    def truth(self) -> Any:
        """The ground truth of the drill performed last."""
        return self.current.truth

    def events(self) -> tuple[Event, ...]:
        """None of its own: each drill's markers go with the recording it is performed for."""
        return ()
