"""Issue 16's per-bout targets (benchmarks/gait_scoring.py, gait_targets.py): known answers on
bouts scored by the benchmark's own scoring, and the Markdown tables made from its JSON."""

import numpy as np
import pytest

from benchmarks.gait_scoring import (
    bout_meets_targets,
    bout_values,
    bouts_meeting_targets,
    per_bout_errors,
    score_bout,
    summarise,
)
from benchmarks.gait_targets import ALGORITHMS, participant, per_bout_table, summary_table
from benchmarks.mobgap_data import Bout

RATE = 100.0


def _bout(n: int = 10) -> Bout:
    """n reference contacts 0.5 s apart from 1 s (samples at 100 Hz)."""
    contacts = 100 + 50 * np.arange(n)
    return Bout(
        start=50,
        end=int(contacts[-1]) + 50,
        contacts=contacts,
        sides=("left", "right") * (n // 2),
        cadence_steps_per_min=120.0,
        stride_length_m=1.2,
        speed_m_s=1.2,
        turning=False,
    )


def _row(detected: np.ndarray, cadence_error: float, bout: Bout) -> dict:
    row = score_bout(np.asarray(detected), bout, RATE) | {"cadence_error": cadence_error}
    row.pop("in_bout")
    return row


def test_a_bout_meets_each_target_only_on_its_own_values():
    bout = _bout()
    ref = bout.contacts
    exact = _row(ref, 1.5, bout)
    # two contacts 150 ms late (paired at ±250 ms, not within 100 ms) and one extra mid-step
    late = ref + np.where(np.arange(10) < 2, 15, 0)
    shifted = _row(np.sort(np.r_[late, ref[5] + 25]), -3.0, bout)
    assert bout_values(exact) == {"f1_250ms": 1.0, "within_100ms": 1.0, "cadence_error": 1.5}
    values = bout_values(shifted)
    assert values["f1_250ms"] == pytest.approx(20 / 21)  # 2·10 paired / (10 + 11)
    assert values["within_100ms"] == pytest.approx(0.8)
    straight, daily = 2.0, 4.0
    assert bout_meets_targets(exact, straight) == {
        "f1_250ms": True,
        "within_100ms": True,
        "cadence": True,
        "all": True,
    }
    assert bout_meets_targets(shifted, daily) == {
        "f1_250ms": True,
        "within_100ms": False,
        "cadence": True,
        "all": False,
    }
    assert bout_meets_targets(shifted, straight)["cadence"] is False  # |−3| > 2 on a straight walk
    # a bout with one detection: F1 2/11, nothing within 100 ms but that one, no cadence (NaN)
    lone = _row(ref[:1], float("nan"), bout)
    assert bout_meets_targets(lone, daily) == {
        "f1_250ms": False,
        "within_100ms": False,
        "cadence": False,
        "all": False,
    }
    rows = [exact, shifted, lone]
    assert bouts_meeting_targets(rows, "Test11") == {
        "bouts": 3,
        "f1_250ms": 2,
        "within_100ms": 1,
        "cadence": 2,
        "all": 1,
    }
    assert bouts_meeting_targets(rows, "Test5")["cadence"] == 1
    assert bouts_meeting_targets(rows, "Test4") is None  # no cadence target for other tests


def test_target_tables_count_bouts_and_mark_each_miss():
    bout = _bout()
    rows = [_row(bout.contacts, 1.5, bout), _row(bout.contacts + np.r_[15, 15, [0] * 8], -3.0, bout)]
    per_algorithm = {name: summarise(rows) | per_bout_errors(rows) for name in ALGORITHMS}
    counts = bouts_meeting_targets(rows, "Test5")
    result = {
        "per_trial": {"data/mobgap_lab_HA001/Test5/Trial1": per_algorithm},
        "per_participant_per_test": {
            "data/mobgap_lab_HA001": {
                "Test5": {name: summarise(rows) | {"bouts_meeting_targets": counts} for name in ALGORITHMS}
            }
        },
    }
    summary = summary_table(result)
    assert summary[2].startswith("| HA001 · Test5 | 2 | 2 / 1 / 1 / **1** |")
    bouts = per_bout_table(result)
    assert bouts[2].startswith("| HA001 · Test5 · Trial1 · 0 | 1.000 / 1.000 / +1.5 |")
    assert bouts[3].startswith("| HA001 · Test5 · Trial1 · 1 | 1.000 / **0.800** / **-3.0** |")
    assert participant("HA/002") == "HA002" and participant("MS/001") == "MS001"
