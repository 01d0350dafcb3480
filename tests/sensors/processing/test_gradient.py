"""The windowed gradient equals np.gradient itself, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from sensors.processing.gradient import gradient


def _traces() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    n = 5_000
    grid = np.arange(12_345, 12_345 + n) / 200.0  # a frame grid: steps differ in the last bits
    values = np.cumsum(rng.normal(size=n))
    values[[10, 11, 700, 4_999]] = np.nan
    return {
        "frame grid": (grid, values),
        "even steps": (np.arange(n) * 0.5, values),
        "uneven steps": (np.cumsum(rng.uniform(0.001, 0.02, size=n)), values),
    }


@pytest.mark.parametrize("name", list(_traces()))
@pytest.mark.parametrize("window", [1, 2, 7, 256, 4_999, 10_000])
@pytest.mark.parametrize("masked", [False, True])
def test_equals_numpy_gradient_bit_for_bit(name: str, window: int, masked: bool) -> None:
    t, values = _traces()[name]
    keep = None
    if masked:
        keep = np.ones(len(values), dtype=bool)
        keep[[0, 3, 4, 2_000, len(values) - 2]] = False
    expected = np.gradient(values if keep is None else np.where(keep, values, np.nan), t)
    got = gradient(values, t, keep, window=window)
    np.testing.assert_array_equal(got, expected)
    assert np.isfinite(got).sum() > len(values) - 40  # most of it is numbers, not NaN
