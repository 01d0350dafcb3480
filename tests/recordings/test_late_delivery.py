"""A sensor's data that reached the host late — a receiving process stalled for seconds on a busy
computer, a link that held its notifications — are read back as they were sent: counters and
device clock unchanged, nothing counted as lost, no restart reported. Seen under load: a recording
whose first lumbar notification arrived 6 s before the rest read back as a "restarted" sensor
with 6 s of device time shifted and ~600 samples counted lost that the counters show were not."""

from __future__ import annotations

import numpy as np
import pytest

from recordings import read_recording
from sensors.placements import Placement
from tests.recordings.corrupt_helpers import copy_of, placement_blocks, record_simulated, rewrite_placement

LUMBAR = Placement.LUMBAR
STALL_NS = 6_000_000_000


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    return record_simulated(tmp_path_factory.mktemp("original") / "s.h5", seconds=6.0)


def test_data_stamped_seconds_late_by_a_stalled_host_are_not_a_sensor_restart(original, tmp_path):
    path = copy_of(original, tmp_path)
    order = list(range(len(placement_blocks(path))))
    # The first notification on time, every later one received 6 s later than it was sent.
    late = {k: {"host_receive_ns": lambda h: h + STALL_NS} for k in order[1:]}
    rewrite_placement(path, "lumbar", order, late)
    rec, clean = read_recording(path), read_recording(original)
    assert not [p for p in rec.problems if "lumbar" in p], rec.problems
    got, sent = rec.samples[LUMBAR], clean.samples[LUMBAR]
    np.testing.assert_array_equal(got.sequence, sent.sequence)
    np.testing.assert_array_equal(got.device_time_s, sent.device_time_s)
    np.testing.assert_array_equal(rec.lost_before[LUMBAR], clean.lost_before[LUMBAR])
    assert np.diff(got.host_receive_ns).max() >= STALL_NS - 1e9  # the stamps say when they came


def test_a_device_clock_that_jumps_against_its_own_counter_is_still_a_restart(original, tmp_path):
    """The other side: the clock jumping 10 s while the counter steps by one is a clock jump,
    whatever the host saw (the case the late-delivery rule must not swallow)."""
    path = copy_of(original, tmp_path)
    order = list(range(len(placement_blocks(path))))
    jump = {k: {"device_time_s": lambda t: t + 10.0} for k in order[20:]}
    rewrite_placement(path, "lumbar", order, jump)
    rec = read_recording(path)
    assert any("lumbar" in p and "restarted" in p for p in rec.problems), rec.problems


def test_host_stamps_that_jump_away_and_come_back_are_still_left_out(original, tmp_path):
    """Nor does it keep a corrupt stamp: one block received "at" the end of time, then the
    stream as before, is a spike, not a late delivery."""
    path = copy_of(original, tmp_path)
    order = list(range(len(placement_blocks(path))))
    spike = {20: {"host_receive_ns": lambda h: np.full_like(h, np.iinfo(np.int64).max)}}
    rewrite_placement(path, "lumbar", order, spike)
    rec = read_recording(path)
    assert any("lumbar" in p and "implausible" in p for p in rec.problems), rec.problems
    assert rec.samples[LUMBAR].host_receive_ns.max() < np.iinfo(np.int64).max
