"""Drill families: the one table from a catalogue drill name to the family that says how it is
analysed, shown and fed back. Every other drill table (analysis, what a replay keeps, measures,
feedback, plots) is keyed by `DrillFamily`."""

from __future__ import annotations

from enum import StrEnum

from sensors.errors import UnknownDrillError


class DrillFamily(StrEnum):
    """How a drill is analysed. A StrEnum: its values are the family names files, TOML tables and
    older code use, and compare equal to them."""

    QUIET_STANCE = "quiet-stance"
    SINGLE_LEG = "single-leg"
    PERTURBATIONS = "perturbations"
    FORWARD_BEND = "forward-bend"
    SIT_TO_STAND = "sit-to-stand"
    GAIT = "gait"
    PLANK = "plank"
    SIDE_PLANK = "side-plank"
    BIRD_DOG = "bird-dog"
    BRIDGE = "bridge"
    BIERING_SORENSEN = "biering-sorensen"

    @property
    def is_hold(self) -> bool:
        """A static endurance hold (timed; angles relative to the hold posture)."""
        return self in HOLD_FAMILIES

    @property
    def is_stance(self) -> bool:
        """Upright standing balance (sway measures; single and dual task)."""
        return self in STANCE_FAMILIES


HOLD_FAMILIES = frozenset(
    {
        DrillFamily.PLANK,
        DrillFamily.SIDE_PLANK,
        DrillFamily.BIRD_DOG,
        DrillFamily.BRIDGE,
        DrillFamily.BIERING_SORENSEN,
    }
)
STANCE_FAMILIES = frozenset({DrillFamily.QUIET_STANCE, DrillFamily.SINGLE_LEG})

#: Every drill of the catalogue (the simulator's drills, the protocols' drills) and its family.
DRILL_FAMILIES: dict[str, DrillFamily] = {
    "quiet-stance": DrillFamily.QUIET_STANCE,
    "quiet-stance-foam": DrillFamily.QUIET_STANCE,
    "quiet-stance-eyes-closed": DrillFamily.QUIET_STANCE,
    "single-leg-left": DrillFamily.SINGLE_LEG,
    "single-leg-right": DrillFamily.SINGLE_LEG,
    "perturbations": DrillFamily.PERTURBATIONS,
    "forward-bend": DrillFamily.FORWARD_BEND,
    "sit-to-stand": DrillFamily.SIT_TO_STAND,
    "five-times-sit-to-stand": DrillFamily.SIT_TO_STAND,
    "gait": DrillFamily.GAIT,
    "plank": DrillFamily.PLANK,
    "side-plank-left": DrillFamily.SIDE_PLANK,
    "side-plank-right": DrillFamily.SIDE_PLANK,
    "bird-dog": DrillFamily.BIRD_DOG,
    "bridge": DrillFamily.BRIDGE,
    "biering-sorensen": DrillFamily.BIERING_SORENSEN,
}


def drill_family(drill: str) -> DrillFamily:
    """The family of a catalogue drill ('side-plank-left' → SIDE_PLANK), of a family name itself
    ('side-plank'), or of a drill outside the catalogue named '<family>-<variant>' (imported
    recordings, 'quiet-stance-eyes-closed'); UnknownDrillError for anything else."""
    family = DRILL_FAMILIES.get(drill)
    if family is not None:
        return family
    for candidate in sorted(DrillFamily, key=len, reverse=True):  # the longest family name first
        if drill == candidate or drill.startswith(candidate + "-"):
            return candidate
    raise UnknownDrillError(f"no analysis is defined for drill {drill!r}")
