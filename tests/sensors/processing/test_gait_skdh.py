"""scikit-digital-health (skdh) as the benchmark's peer (benchmarks/gait_skdh.py), on the shared
HA001 recording. skdh is a bench extra: without it these skip (as mobgap's do)."""

from dataclasses import replace

import numpy as np
import pytest

from tests.shared_data import HA001, require


@pytest.fixture(scope="module")
def trials():
    pytest.importorskip("skdh")
    require(HA001)
    from benchmarks.mobgap_data import load_participant

    return {trial.name.split("/", 2)[-1]: trial for trial in load_participant(HA001)}


def test_skdh_finds_every_contact_of_a_straight_walk_and_keeps_all_but_the_last(trials):
    """Straight walking (Test5): skdh's McCamley contacts (Vertical CWT, its defaults) are INDIP's
    nine, each within 100 ms (measured: all 18 of both trials); its stride QC — the other foot's
    final contact within the double support, the same foot's within the stance — keeps every one
    but the bout's last, which begins no stride."""
    from benchmarks.gait_scoring import mutual_nearest_pairs
    from benchmarks.gait_skdh import skdh_contacts

    for name in ("Test5/Trial1", "Test5/Trial2"):
        trial = trials[name]
        (bout,) = trial.bouts
        found, error = skdh_contacts(trial, bout, 50, "VerticalCwtGaitEvents")
        assert error == ""
        raw, qc = found["raw"], found["qc"]
        assert len(mutual_nearest_pairs(raw, bout.contacts, 0.10 * trial.rate_hz)) == len(bout.contacts) == 9
        np.testing.assert_array_equal(qc, raw[:-1])


def test_skdh_failing_on_a_bout_gives_no_contacts_and_its_error(trials):
    """skdh estimates the step frequency in 5-s windows; on a bout too short for one (HA001
    Test11's first bout with its margin, 4.6 s) it raises: the peer then has no contacts there
    and its message is kept (the benchmark prints it per bout), and a step frequency supplied
    from outside lets the same pipeline run."""
    from benchmarks.gait_skdh import skdh_contacts

    trial = trials["Test11/Trial1"]
    bout = trial.bouts[0]
    assert (bout.end - bout.start + 100) / trial.rate_hz < 5.0
    found, error = skdh_contacts(trial, bout, 50, "VerticalCwtGaitEvents")
    assert error == "ValueError: Input data size must be larger than 0."
    assert len(found["qc"]) == len(found["raw"]) == 0
    found, error = skdh_contacts(trial, replace(bout), 50, "VerticalCwtGaitEvents", step_frequency_hz=1.8)
    assert error == "" and len(found["raw"]) >= 5
