"""`sensors.processing.peaks.find_peaks` against scipy.signal.find_peaks itself (the peer it
replaces so that a forward-bend analysis need not import scipy.signal)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from sensors.processing.peaks import find_peaks, local_maxima


def _cases() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(20)
    t = np.arange(20_000) / 200.0
    bend = 70 * np.sin(np.pi * (t % 6.0) / 6.0) ** 2
    return [
        ("noise", rng.normal(size=5_000)),
        ("quantised noise (plateaus and equal heights)", np.round(rng.normal(size=5_000) * 2) / 2),
        ("bends with noise", bend + rng.normal(scale=0.3, size=len(t))),
        ("bends quantised to 1 deg", np.round(bend + rng.normal(scale=0.6, size=len(t)))),
        ("flat", np.zeros(100)),
        ("plateau at the ends", np.array([3.0, 3, 1, 2, 2, 2, 1, 5, 5])),
        ("short", np.array([0.0, 1.0])),
        (
            "NaN beside peaks and inside plateaus",
            np.array([0, 2, np.nan, 3, 1, 4, 4, np.nan, 4, 1, 5, 0, np.nan]),
        ),
        ("all NaN", np.full(50, np.nan)),
        ("equal peaks closer than the distance", np.tile([0.0, 1.0], 200)),
    ]


@pytest.mark.parametrize(("name", "x"), _cases(), ids=[name for name, _ in _cases()])
@pytest.mark.parametrize("distance", [1, 2.5, 7, 400])
def test_find_peaks_equals_scipy(name: str, x: np.ndarray, distance: float) -> None:
    height = float(np.percentile(x, 60))
    expected, _ = signal.find_peaks(x, height=height, distance=distance)
    got = find_peaks(x, height=height, distance=distance)
    np.testing.assert_array_equal(got, expected)


def test_local_maxima_equal_scipy_without_conditions() -> None:
    x = np.round(np.random.default_rng(3).normal(size=3_000))
    np.testing.assert_array_equal(local_maxima(x), signal.find_peaks(x)[0])
    assert len(local_maxima(x)) > 100  # the case has plateaus and many peaks


def test_nan_height_finds_nothing_as_scipy() -> None:
    x = np.full(20, np.nan)
    assert (
        len(find_peaks(x, height=float("nan"), distance=3))
        == 0
        == len(signal.find_peaks(x, height=np.nan, distance=3)[0])
    )


def test_distance_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="distance"):
        find_peaks(np.zeros(10), height=0.0, distance=0.5)
