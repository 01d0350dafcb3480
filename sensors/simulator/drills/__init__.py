"""Scripted drills with ground truth, and the catalogue that names them."""

from sensors.simulator.drills.base import Drill, DrillOptions, StandingSway, fresh_seed
from sensors.simulator.drills.catalogue import DRILL_NAMES, describe_drills, make_drill

__all__ = [
    "DRILL_NAMES",
    "Drill",
    "DrillOptions",
    "StandingSway",
    "describe_drills",
    "fresh_seed",
    "make_drill",
]
