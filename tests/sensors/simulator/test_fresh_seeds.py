"""Every simulated recording is a new patient (a fresh seed), stored in the file and reproducible
from it (issue: every recording used seed 0, so repetitions were identical)."""

import numpy as np

from recordings import read_recording
from sensors import Placement
from sensors.simulator import DrillOptions, fresh_seed, make_drill
from stabmon.cli import main
from tests.cli_args import RECORD_SIMULATED


def _record(folder, *extra):
    folder.mkdir()
    args = [*RECORD_SIMULATED, "--drill", "quiet-stance", "--seconds", "5"]
    assert main([*args, "--subject", "T02", "--out", str(folder), *extra]) == 0
    (path,) = folder.glob("*.h5")
    return read_recording(path)


def test_fresh_seeds_differ_and_reproduce_their_drill():
    seeds = {fresh_seed() for _ in range(50)}
    assert len(seeds) == 50 and all(0 < s < 2**31 for s in seeds)
    a, b = (make_drill("quiet-stance", DrillOptions(seed=s)) for s in list(seeds)[:2])
    t = np.linspace(3, 20, 200)
    assert not np.allclose(a.pose(t).angles_rad[Placement.LUMBAR], b.pose(t).angles_rad[Placement.LUMBAR])


def test_each_recording_stores_its_own_seed_and_the_seed_reproduces_it(tmp_path, capsys):
    first = _record(tmp_path / "first")
    second = _record(tmp_path / "second")
    seed = first.protocol["seed"]
    assert isinstance(seed, int) and seed != second.protocol["seed"]
    assert f"seed {seed}" in capsys.readouterr().out
    acc_first = first.samples[Placement.LUMBAR].acc_m_s2
    n = min(len(acc_first), len(second.samples[Placement.LUMBAR]))
    assert not np.allclose(acc_first[:n], second.samples[Placement.LUMBAR].acc_m_s2[:n])
    again = _record(tmp_path / "again", "--seed", str(seed))
    assert again.protocol["seed"] == seed
    for placement in (Placement.LUMBAR, Placement.PELVIS):
        original, repeated = first.samples[placement], again.samples[placement]
        n = min(len(original), len(repeated))
        assert n > 400
        np.testing.assert_array_equal(original.sequence[:n], repeated.sequence[:n])
        np.testing.assert_array_equal(original.acc_m_s2[:n], repeated.acc_m_s2[:n])
