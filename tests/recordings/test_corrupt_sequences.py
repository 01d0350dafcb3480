"""Files an older writer left with counters that do not strictly increase (a duplicated
notification, a counter stepping back, a 2^31 jump, a sensor reboot, a device clock jump) open:
the reader keeps what is consistent, says what it left out, and the file can be analysed."""

from __future__ import annotations

import numpy as np
import pytest

from recordings import read_recording
from recordings.analysis import analyze_recording
from sensors.placements import Placement
from tests.recordings.corrupt_helpers import copy_of, placement_blocks, record_simulated, rewrite_placement

LUMBAR = Placement.LUMBAR


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    return record_simulated(tmp_path_factory.mktemp("original") / "s.h5")


@pytest.fixture(scope="module")
def original_measures(original):
    return analyze_recording(read_recording(original))


def _blocks(path):
    return list(range(len(placement_blocks(path))))


def test_a_duplicated_notification_is_left_out_and_the_replay_is_unchanged(
    original, original_measures, tmp_path
):
    path = copy_of(original, tmp_path)
    order = _blocks(path)
    rewrite_placement(path, "lumbar", [*order[:20], 19, *order[20:]])
    rec = read_recording(path)
    clean = read_recording(original)
    np.testing.assert_array_equal(rec.samples[LUMBAR].sequence, clean.samples[LUMBAR].sequence)
    np.testing.assert_array_equal(rec.samples[LUMBAR].acc_m_s2, clean.samples[LUMBAR].acc_m_s2)
    np.testing.assert_array_equal(rec.arrival.rows, clean.arrival.rows)
    assert any("lumbar" in p and "repeated or out-of-order" in p for p in rec.problems)
    assert analyze_recording(rec).measures == original_measures.measures


def test_a_counter_stepping_back_keeps_only_the_new_samples(original, tmp_path):
    path = copy_of(original, tmp_path)
    order = _blocks(path)
    # Block 31 is re-sent with its counters three samples early (a step back), then all goes on.
    rewrite_placement(path, "lumbar", [*order[:31], 30, *order[31:]], {31: {"sequence": lambda s: s + 3}})
    rec = read_recording(path)
    seq = rec.samples[LUMBAR].sequence
    assert np.all(np.diff(seq) > 0)
    # The re-sent block's three new counters come first; the next block's copies of them go.
    np.testing.assert_array_equal(seq, read_recording(original).samples[LUMBAR].sequence)
    assert any("repeated or out-of-order" in p for p in rec.problems)
    analyze_recording(rec)


def test_one_block_with_a_2_31_counter_jump_is_left_out(original, tmp_path):
    path = copy_of(original, tmp_path)
    order = _blocks(path)
    rewrite_placement(path, "lumbar", order, {40: {"sequence": lambda s: s + 2**31}})
    rec = read_recording(path)
    clean = read_recording(original)
    rows = placement_blocks(original)[40][2]
    assert len(rec.samples[LUMBAR]) == len(clean.samples[LUMBAR]) - rows
    assert rec.lost_before[LUMBAR].max() <= rows  # the gap is the block, not 2^31
    assert any("implausible" in p for p in rec.problems)
    analyze_recording(rec)


def test_a_counter_that_jumps_2_31_and_keeps_counting_is_spliced_with_a_bounded_loss(original, tmp_path):
    path = copy_of(original, tmp_path)
    order = _blocks(path)
    rewrite_placement(
        path, "lumbar", order, {k: {"sequence": lambda s: s + 2**31} for k in range(40, len(order))}
    )
    rec = read_recording(path)
    clean = read_recording(original)
    assert len(rec.samples[LUMBAR]) == len(clean.samples[LUMBAR])
    assert int(rec.lost_before[LUMBAR].sum()) <= int(clean.lost_before[LUMBAR].sum()) + 2
    assert rec.lost_before[LUMBAR].min() >= 0
    assert any("restarted" in p for p in rec.problems)
    analyze_recording(rec)


def test_a_sensor_reboot_restarting_counter_and_clock_is_spliced_on(original, original_measures, tmp_path):
    path = copy_of(original, tmp_path)
    order = _blocks(path)
    first = placement_blocks(path)[50][1]
    with __import__("h5py").File(path, "r") as f:
        seq0 = int(f["acquisition/lumbar/sequence"][first])
        t0 = float(f["acquisition/lumbar/device_time_s"][first])
    later = {"sequence": lambda s: s - seq0, "device_time_s": lambda t: t - t0 + 0.001}
    rewrite_placement(path, "lumbar", order, dict.fromkeys(range(50, len(order)), later))
    rec = read_recording(path)
    clean = read_recording(original)
    assert len(rec.samples[LUMBAR]) == len(clean.samples[LUMBAR])
    # Spliced by host time: the device clock is continuous again, within a notification interval.
    np.testing.assert_allclose(
        rec.samples[LUMBAR].device_time_s, clean.samples[LUMBAR].device_time_s, atol=0.1
    )
    assert any("restarted" in p for p in rec.problems)
    measures = {m.name: m.value for m in analyze_recording(rec).measures if m.repetition is None}
    expected = {m.name: m.value for m in original_measures.measures if m.repetition is None}
    assert measures.keys() == expected.keys()
    assert measures["angle_rms_ap"] == pytest.approx(expected["angle_rms_ap"], rel=0.2)


def test_one_block_with_the_device_clock_10_s_back_is_left_out(original, tmp_path):
    path = copy_of(original, tmp_path)
    order = _blocks(path)
    rewrite_placement(path, "lumbar", order, {33: {"device_time_s": lambda t: t - 10.0}})
    rec = read_recording(path)
    assert np.all(np.diff(rec.samples[LUMBAR].device_time_s) > 0)
    assert any("implausible" in p for p in rec.problems)
    analyze_recording(rec)
