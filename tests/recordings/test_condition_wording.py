"""The drill's title and its condition are said once: walkthrough s9 #14 saw "Quiet stance, eyes
open, eyes open, firm surface" in `analyze` and the review header."""

from __future__ import annotations

import pytest

from recordings.catalogue import catalogue
from recordings.conditions import condition_for


@pytest.mark.parametrize(
    ("drill", "task", "said"),
    [
        ("quiet-stance", "dual", "Quiet stance, eyes open, firm surface, dual task"),
        ("quiet-stance-eyes-closed", "single", "Quiet stance, eyes closed, firm surface, single task"),
        ("quiet-stance-foam", "single", "Quiet stance on foam, eyes open, single task"),
        ("single-leg-left", "single", "Single-leg stance, left leg, eyes open, firm surface, single task"),
        ("side-plank-right", "single", "Side plank (side bridge), right, single task"),
        ("forward-bend", "single", "Forward bend and return, single task"),
    ],
)
def test_the_condition_after_the_drill_title_repeats_nothing(drill: str, task: str, said: str):
    title = catalogue().drill_title(drill)
    condition = condition_for(drill, task)
    assert f"{title}, {condition.label_after(title)}" == said
    # Without a title nothing is left out.
    assert condition.label_after("") == condition.label
    assert condition_for("quiet-stance-eyes-closed").label == "eyes closed, firm surface, single task"
