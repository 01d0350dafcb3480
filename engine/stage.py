"""Simulated sensors that stay on between the recordings of a protocol, as real ones do: one
body (`Performance`) that the sensors — virtual BLE ones, connected once, or the simulator's —
sample throughout, and a `SimulatedStage` that has it act out each recording's cue from the
moment the recording starts (`engine.segments`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from engine.segments import Act, Cue
from engine.spec import SessionSpec
from sensors.events import EventKind
from sensors.simulator import DrillOptions, make_drill
from sensors.simulator.drills.base import Drill
from sensors.simulator.drills.performance import Performance

#: Length (s) of the standing the body starts with, before the first cue (it stands on after).
STANDING_S = 5.0


def standing_body(seed: int, calibration_s: float = 2.0) -> Performance:
    """A body standing quietly until it is cued."""
    options = DrillOptions(
        duration_s=max(STANDING_S, calibration_s + 1.0), seed=seed, calibration_s=calibration_s
    )
    return Performance(make_drill("quiet-stance", options))


class Performer(Protocol):
    """A body that acts out a drill from a world time on (s) and says when it begins (s): a
    `Performance`, or one in the radio process (`sensors.ble.virtual.remote.RemoteBody`)."""

    def perform(self, drill: Drill, not_before_s: float = 0.0) -> float: ...


class SimulatedStage:
    """Cues for the body the sensors of `spec` sample. world_origin_ns: the host time (ns, on
    the source's clock) of the body's time 0; seed: the sensors' seed (repetition k acts with
    seed + k, so a protocol's repetitions differ and each can be acted again); now_ns: the
    source's host clock (ns)."""

    def __init__(
        self,
        spec: SessionSpec,
        body: Performer,
        seed: int,
        world_origin_ns: Callable[[], int],
        now_ns: Callable[[], int],
    ) -> None:
        self.spec = spec
        self.body = body
        self.seed = seed
        self.world_origin_ns = world_origin_ns
        self.now_ns = now_ns
        self.cues = 0

    def prepare(self, cue: Cue) -> Act:
        """The drill of `cue` (its own seed), acted out from when its segment starts; its task
        markers are left to the protocol, the rest (pushes) come with the recording."""
        self.cues += 1
        seed = self.seed + self.cues
        factor = self.spec.source.dual_task_factor if cue.dual_task else 1.0
        scale = self.spec.source.sway_scale
        drill = make_drill(
            cue.drill,
            DrillOptions(
                duration_s=cue.duration_s,
                seed=seed,
                dual_task_factor=factor,
                calibration_s=cue.calibration_s,
                sway_scale=scale,
            ),
        )
        events = tuple(e for e in drill.events() if e.kind not in (EventKind.TASK_START, EventKind.TASK_END))

        def begin() -> int:
            origin_ns = self.world_origin_ns()
            start_s = self.body.perform(drill, (self.now_ns() - origin_ns) * 1e-9)
            return origin_ns + round(start_s * 1e9)

        about = {"seed": seed, "dual_task_factor": factor, "sensor_seed": self.seed}
        return Act(begin, {**about, **({"sway_scale": scale} if scale != 1.0 else {})}, seed, events)
