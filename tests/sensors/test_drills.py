"""The drill-family table: one table from drill name to family, and every per-family table in the
packages derived from (and complete for) the `DrillFamily` enum."""

from __future__ import annotations

import pytest

from recordings.analysis import ANALYSIS_READS
from recordings.catalogue import catalogue
from sensors.drills import DRILL_FAMILIES, HOLD_FAMILIES, DrillFamily, drill_family
from sensors.errors import UnknownDrillError
from sensors.processing.analysis import _ANALYSES
from sensors.processing.angles import AngleDefinition
from sensors.processing.pipeline import angle_definition
from sensors.simulator import DRILL_NAMES


def test_the_table_names_exactly_the_simulators_drills():
    assert set(DRILL_FAMILIES) == set(DRILL_NAMES)


@pytest.mark.parametrize(
    ("drill", "family"),
    [
        ("side-plank-left", DrillFamily.SIDE_PLANK),
        ("side-plank", DrillFamily.SIDE_PLANK),  # a family name is its own family
        ("quiet-stance-foam", DrillFamily.QUIET_STANCE),
        ("single-leg-right", DrillFamily.SINGLE_LEG),
        ("quiet-stance-eyes-closed", DrillFamily.QUIET_STANCE),
        ("forward-bend-loaded", DrillFamily.FORWARD_BEND),  # outside the catalogue (imports)
        ("biering-sorensen", DrillFamily.BIERING_SORENSEN),
    ],
)
def test_drill_family_of_catalogue_family_and_variant_names(drill, family):
    assert drill_family(drill) is family
    assert drill_family(drill) == family.value  # a StrEnum: string comparison keeps working


@pytest.mark.parametrize("drill", ["", "planks", "quiet", "walk", "side-plankleft"])
def test_a_drill_without_a_family_is_a_clear_value_error(drill):
    with pytest.raises(UnknownDrillError, match="no analysis is defined") as caught:
        drill_family(drill)
    assert isinstance(caught.value, ValueError)


def test_every_family_has_an_analysis_what_it_reads_and_measures_in_the_catalogue():
    assert set(_ANALYSES) == set(DrillFamily)
    assert set(ANALYSIS_READS) == set(DrillFamily)
    described = {family for (family, _key) in catalogue().entries}
    assert described == set(DrillFamily)


def test_holds_are_measured_against_the_hold_posture_and_the_rest_upright():
    for drill, family in DRILL_FAMILIES.items():
        expected = AngleDefinition.HOLD if family in HOLD_FAMILIES else AngleDefinition.UPRIGHT
        assert angle_definition(drill) is expected, drill
    assert angle_definition("") is AngleDefinition.UPRIGHT
    assert angle_definition("not-a-drill") is AngleDefinition.UPRIGHT
