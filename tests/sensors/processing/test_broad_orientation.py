"""Real data: orientation on a BROAD trial matches vqf's own filters and the optical truth."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BROAD = ROOT.parent / "shared" / "data" / "broad"
TRIAL = BROAD / "01_undisturbed_slow_rotation_A.mat"


@pytest.mark.skipif(not TRIAL.exists(), reason=f"reference data not found at {BROAD}")
def test_live_and_offline_orientation_on_a_broad_trial():
    from benchmarks import broad_orientation as module

    result = module.evaluate_trial(TRIAL)
    assert result["stabmon_live"] <= result["vqf_realtime"] + 1e-9
    assert result["stabmon_offline"] <= result["vqf_offline"] + 1e-9
    # Figures for this trial (inclination RMSE vs optical motion capture), deg.
    assert result["stabmon_live"] == pytest.approx(0.599, abs=0.01)
    assert result["stabmon_offline"] == pytest.approx(0.371, abs=0.01)
