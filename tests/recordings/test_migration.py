"""A schema 0.1 file (no arrival log, origin, loss counts or settings) reads as the current schema."""

import shutil

import h5py
import numpy as np

from recordings import read_recording
from recordings.analysis import analyze_recording
from tests.recordings.test_replay import _record


def _downgrade_to_0_1(path):
    """Strip what 0.2 added, leaving the layout the 0.1 writer produced."""
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = "0.1.0"
        del f["acquisition/arrival"]
        for placement in f.attrs["placements"]:
            del f[f"acquisition/{placement}/lost_before"]
        del f["processing"].attrs["settings_json"]


def test_a_0_1_file_is_migrated_in_memory_and_analyses_like_the_original(tmp_path):
    current, _, live_collector = _record(tmp_path, "forward-bend", 30.0)
    old = tmp_path / "old.h5"
    shutil.copy(current.path, old)
    _downgrade_to_0_1(old)
    migrated = read_recording(old)
    assert migrated.migrated_from == "0.1.0" and current.migrated_from is None
    for p in current.placements:
        np.testing.assert_array_equal(migrated.lost_before[p], current.lost_before[p])
    # Origin: where the clock fit put session time 0, to well under a sample period.
    assert abs(migrated.arrival.host_origin_ns - current.arrival.host_origin_ns) < 2_000_000
    assert int(migrated.arrival.rows.sum()) == int(current.arrival.rows.sum())
    assert migrated.settings.rate_hz == current.settings.rate_hz
    # Replaying the migrated file gives the same bend measures to within a tenth of a degree.
    expected = {(m.name, m.repetition): m.value for m in live_collector.analysis("forward-bend").measures}
    got = {(m.name, m.repetition): m.value for m in analyze_recording(migrated).measures}
    assert got.keys() == expected.keys()
    for key in ("mean_trunk_flexion", "mean_lumbar_flexion", "mean_pelvic_flexion"):
        assert abs(got[(key, None)] - expected[(key, None)]) < 0.1, key
    with h5py.File(old, "r") as f:  # reading never rewrites the file
        assert f.attrs["schema_version"] == "0.1.0"


def test_a_0_2_file_reads_with_its_stored_angles_which_a_replay_reproduces(tmp_path):
    """A real 0.2.0 file (every /processing dataset stored, libver "latest") reads as it is; its
    stored angles are what a replay of its raw data gives: on the same time base and valid rows
    bit for bit, the angles within 0.01 (quaternion components, rad), since the pipeline has
    changed since the file was made (session 11: the still capture's vertical rate seeds the gyro
    bias, quiet stance takes the mean rate as its bias), by at most 0.002 on this file."""
    from recordings.derived import replayed_processing
    from tests.recordings.test_interop_hdf5 import OLD_FILE

    rec = read_recording(OLD_FILE)
    assert rec.attributes["schema_version"] == "0.2.0" and rec.migrated_from is None
    assert rec.stored_processing is not None and rec.processing is rec.stored_processing
    replayed = replayed_processing(rec)
    for name in ("time_s", "valid"):
        np.testing.assert_array_equal(getattr(replayed, name), getattr(rec.processing, name))
    for name in ("orientation", "inclination_rad", "lumbar_rad"):
        np.testing.assert_allclose(getattr(replayed, name), getattr(rec.processing, name), rtol=0, atol=0.01)
    np.testing.assert_array_equal(rec.frame_time_s, rec.processing.time_s)
    assert rec.duration_s > 5.0
