import numpy as np
import pytest

from sensors.processing.comparison import (
    change_exceeds_mdc,
    dual_task_effect_pct,
    icc_2_1,
    retest_reliability,
    symmetry_angle_pct,
    symmetry_index_pct,
)
from sensors.processing.errors import ProcessingError

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges; their ICC(2,1) is 0.29.
SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
)


def test_icc_matches_shrout_and_fleiss():
    assert icc_2_1(SHROUT_FLEISS) == pytest.approx(0.2898, abs=5e-4)


def test_perfect_agreement_and_sem_mdc():
    scores = np.array([[1.0, 1.0], [2.0, 2.0], [5.0, 5.0]])
    r = retest_reliability(scores)
    assert r.icc == pytest.approx(1.0) and r.sem == pytest.approx(0.0, abs=1e-12)
    noisy = np.array([[10.0, 12.0], [20.0, 19.0], [30.0, 33.0], [40.0, 38.0]])
    r = retest_reliability(noisy)
    assert r.sem == pytest.approx(np.std(noisy, ddof=1) * np.sqrt(1 - r.icc))
    assert r.mdc95 == pytest.approx(1.96 * np.sqrt(2) * r.sem)
    assert change_exceeds_mdc(20.0, 20.0 + 1.01 * r.mdc95, r.mdc95)
    assert not change_exceeds_mdc(20.0, 20.0 - 0.99 * r.mdc95, r.mdc95)


def test_dual_task_effect_is_negative_for_a_cost_either_way():
    assert dual_task_effect_pct(single=2.0, dual=2.6, higher_is_better=False) == pytest.approx(
        -30.0
    )  # more sway
    assert dual_task_effect_pct(single=0.9, dual=0.72, higher_is_better=True) == pytest.approx(
        -20.0
    )  # fewer correct
    with pytest.raises(ProcessingError):
        dual_task_effect_pct(0.0, 1.0, True)


def test_symmetry_index_and_angle():
    assert symmetry_index_pct(100.0, 100.0) == 0.0
    assert symmetry_index_pct(left=80.0, right=120.0) == pytest.approx(40.0)
    assert symmetry_angle_pct(100.0, 100.0) == pytest.approx(0.0)
    assert symmetry_angle_pct(left=80.0, right=120.0) == pytest.approx(
        (45 - np.degrees(np.arctan(80 / 120))) / 90 * 100
    )
    assert symmetry_angle_pct(left=-1.0, right=1.0) == pytest.approx(100.0)
    assert symmetry_angle_pct(left=-2.0, right=1.0) == pytest.approx(
        (45 - np.degrees(np.arctan(-2)) - 180) / 90 * 100
    )
