"""Gaps the live orientation filter bridges with gyroscope-only steps (sensors/processing/
orientation.py `_bridge`): the rows worked out at once give the filter the same inputs, bit for
bit, as session 5's sample-by-sample loop (kept here as the reference), so the quaternions after
gaps are the same."""

from __future__ import annotations

import numpy as np
from vqf import VQF

from sensors.processing.orientation import OrientationEstimator, OrientationSettings


class _SampleBySample(OrientationEstimator):
    """The bridge as session 5 made it, one interpolated sample at a time."""

    def _bridge(self, gap: int, next_gyr: np.ndarray) -> None:
        assert self._last_gyr is not None
        for k in range(1, gap + 1):
            w = k / (gap + 1)
            self._vqf.updateGyr(np.ascontiguousarray((1 - w) * self._last_gyr + w * next_gyr))


def _signals(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 200.0
    gyr = np.stack([0.8 * np.sin(1.3 * t), 0.5 * np.cos(0.7 * t), 0.2 * np.sin(2.1 * t)], axis=1)
    gyr += rng.normal(0, 0.01, gyr.shape)
    acc = np.array([0.3, 0.2, 9.78]) + rng.normal(0, 0.05, (n, 3))
    valid = np.ones(n, dtype=bool)
    for start in rng.integers(50, n - 60, 40):  # gaps of 1-40 samples, some touching
        valid[start : start + int(rng.integers(1, 41))] = False
    return gyr, acc, valid


def test_bridged_gaps_give_the_same_quaternions_as_sample_by_sample():
    settings = OrientationSettings(rate_hz=200.0)
    for seed in range(3):
        gyr, acc, valid = _signals(6000, seed)
        assert (~valid).sum() > 200
        new, old = OrientationEstimator(settings), _SampleBySample(settings)
        got, want = [], []
        for a, b in ((0, 1700), (1700, 1703), (1703, 4000), (4000, 6000)):  # gaps across blocks too
            got.append(new.step(gyr[a:b], acc[a:b], valid[a:b]))
            want.append(old.step(gyr[a:b], acc[a:b], valid[a:b]))
        np.testing.assert_array_equal(np.concatenate(got), np.concatenate(want))
        assert np.isfinite(np.concatenate(got)[valid]).all()
        np.testing.assert_array_equal(new.gyr_bias_rad_s, old.gyr_bias_rad_s)


def test_a_bridge_steps_the_filter_with_the_interpolated_rows():
    """Against vqf itself: the rows are (1 - w) * last + w * next, w = k / (gap + 1)."""
    settings = OrientationSettings(rate_hz=200.0)
    estimator = OrientationEstimator(settings)
    gyr, acc, _ = _signals(400, 7)
    valid = np.ones(400, dtype=bool)
    valid[100:105] = False
    out = estimator.step(gyr, acc, valid)
    reference = VQF(1.0 / 200.0, **settings.vqf_parameters())
    expected = np.full((400, 4), np.nan)
    expected[:100] = reference.updateBatch(np.ascontiguousarray(gyr[:100]), np.ascontiguousarray(acc[:100]))[
        "quat6D"
    ]
    for k in range(1, 6):
        w = k / 6
        reference.updateGyr(np.ascontiguousarray((1 - w) * gyr[99] + w * gyr[105]))
    expected[105:] = reference.updateBatch(np.ascontiguousarray(gyr[105:]), np.ascontiguousarray(acc[105:]))[
        "quat6D"
    ]
    np.testing.assert_array_equal(out, expected)
