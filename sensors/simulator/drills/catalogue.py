"""The simulator's drills by name, as the command line and protocols refer to them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sensors.errors import UnknownDrillError
from sensors.simulator.drills.base import Drill, DrillOptions
from sensors.simulator.drills.bend import ForwardBend
from sensors.simulator.drills.gait import Gait
from sensors.simulator.drills.holds import Hold
from sensors.simulator.drills.perturbation import PerturbationSeries
from sensors.simulator.drills.sit_to_stand import FiveTimesSitToStand, SitToStand
from sensors.simulator.drills.stance import QuietStance, SingleLegStance

_Factory = Callable[[str, DrillOptions, dict[str, Any]], Drill]

_DRILLS: dict[str, tuple[str, _Factory]] = {
    "quiet-stance": ("Quiet stance, eyes open", lambda n, o, kw: QuietStance(n, o, "eyes-open", **kw)),
    "quiet-stance-eyes-closed": (
        "Quiet stance, eyes closed",
        lambda n, o, kw: QuietStance(n, o, "eyes-closed", **kw),
    ),
    "quiet-stance-foam": ("Quiet stance on foam", lambda n, o, kw: QuietStance(n, o, "foam", **kw)),
    "single-leg-left": (
        "Single-leg stance on the left leg",
        lambda n, o, kw: SingleLegStance(n, o, "left", **kw),
    ),
    "single-leg-right": (
        "Single-leg stance on the right leg",
        lambda n, o, kw: SingleLegStance(n, o, "right", **kw),
    ),
    "perturbations": (
        "Series of pushes, expected and unexpected",
        lambda n, o, kw: PerturbationSeries(n, o, **kw),
    ),
    "forward-bend": ("Forward bend and return repetitions", lambda n, o, kw: ForwardBend(n, o, **kw)),
    "sit-to-stand": ("Sit-to-stand repetitions at one's own pace", lambda n, o, kw: SitToStand(n, o, **kw)),
    "five-times-sit-to-stand": (
        "Five-times sit-to-stand test, as fast as possible",
        lambda n, o, kw: FiveTimesSitToStand(n, o, **kw),
    ),
    "gait": ("Straight walking", lambda n, o, kw: Gait(n, o, **kw)),
    "plank": ("Prone plank hold", lambda n, o, kw: Hold(n, o, "plank", **kw)),
    "side-plank-left": ("Side plank on the left side", lambda n, o, kw: Hold(n, o, "side-plank-left", **kw)),
    "side-plank-right": (
        "Side plank on the right side",
        lambda n, o, kw: Hold(n, o, "side-plank-right", **kw),
    ),
    "bird-dog": ("Bird-dog hold", lambda n, o, kw: Hold(n, o, "bird-dog", **kw)),
    "bridge": ("Supine bridge hold", lambda n, o, kw: Hold(n, o, "bridge", **kw)),
    "biering-sorensen": (
        "Biering-Sørensen trunk extensor hold",
        lambda n, o, kw: Hold(n, o, "biering-sorensen", **kw),
    ),
}

DRILL_NAMES: tuple[str, ...] = tuple(_DRILLS)


def make_drill(name: str, options: DrillOptions | None = None, **parameters: Any) -> Drill:
    """Build the drill called `name`; `parameters` override its scripted ground truth."""
    try:
        _, factory = _DRILLS[name]
    except KeyError:
        raise UnknownDrillError(f"unknown drill {name!r}; known drills: {', '.join(DRILL_NAMES)}") from None
    try:
        return factory(name, options or DrillOptions(), parameters)
    except TypeError as error:
        raise UnknownDrillError(f"drill {name!r}: {error}") from None


def describe_drills() -> dict[str, str]:
    """One-line description of every drill, by name."""
    return {name: text for name, (text, _) in _DRILLS.items()}
