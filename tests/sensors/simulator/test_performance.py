"""A body performing drill after drill: what was sampled never changes, each drill runs on its
own clock from its start, and the switch is too smooth for the IMU to show."""

import copy

import numpy as np

from sensors.placements import Placement
from sensors.simulator import DrillOptions, make_drill
from sensors.simulator.drills.performance import SETTLE_S, Performance
from sensors.simulator.imu import ideal_imu

IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


def _imu(drill, t):
    return ideal_imu(drill, Placement.LUMBAR, IDENTITY, t, 0.01)


def test_a_performance_switches_drills_where_nothing_was_sampled_and_without_a_jump():
    bend = make_drill("forward-bend", DrillOptions(duration_s=10.0, seed=1))
    body = Performance(bend)
    sensor_copy = copy.copy(body)  # sensors copy their drill: the copy follows the switches
    before = np.arange(0.0, 12.0, 0.01)
    sampled = _imu(sensor_copy, before)
    np.testing.assert_array_equal(sampled.gyr_rad_s, _imu(bend, before).gyr_rad_s)  # the first drill as is
    stance = make_drill("quiet-stance", DrillOptions(duration_s=10.0, seed=7, dual_task_factor=1.4))
    start_s = body.perform(stance, not_before_s=3.0)
    assert 11.99 <= start_s <= 12.0 + 0.01  # after the last time sampled, not at the requested 3 s
    assert body.perform(stance, not_before_s=50.0) == 50.0  # nothing sampled since: from "now"
    body = Performance(bend)
    _imu(body, before)
    start_s = body.perform(stance)
    np.testing.assert_array_equal(_imu(body, before).gyr_rad_s, sampled.gyr_rad_s)  # the past is kept
    after = np.arange(before[-1] + 0.01, 25.0, 0.01)
    later = _imu(body, after)
    # Past the settling, the second drill on its own clock (heading: the body's, not the drill's).
    settled = after >= start_s + SETTLE_S
    own = ideal_imu(stance, Placement.LUMBAR, IDENTITY, after[settled] - start_s, 0.01)
    np.testing.assert_allclose(later.acc_m_s2[settled][:, 2], own.acc_m_s2[:, 2], atol=1e-6)
    # The switch: no larger rotation rate or acceleration change than standing itself shows.
    gyr = np.linalg.norm(np.concatenate([sampled.gyr_rad_s, later.gyr_rad_s]), axis=1)
    switch = slice(len(before) - 50, len(before) + int(SETTLE_S * 100) + 50)
    assert gyr[switch].max() <= 1.5 * gyr[len(before) + 300 :].max()
    acc = np.concatenate([sampled.acc_m_s2, later.acc_m_s2])
    tilt = np.degrees(np.arccos(np.clip(acc[switch, 2] / np.linalg.norm(acc[switch], axis=1), -1, 1)))
    assert np.ptp(tilt) < 1.5  # a calibration capture would see a still wearer
