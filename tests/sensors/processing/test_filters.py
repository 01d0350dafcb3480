import numpy as np
import pytest

from sensors.processing.errors import ProcessingError
from sensors.processing.filters import LowPassFilter, LowPassSettings, lowpass_zero_phase

SETTINGS = LowPassSettings(rate_hz=100.0, cutoff_hz=3.5)


def _sine(freq_hz, seconds=20.0, rate=100.0):
    t = np.arange(0, seconds, 1 / rate)
    return t, np.sin(2 * np.pi * freq_hz * t)


def test_streaming_in_random_chunks_with_gaps_equals_one_call():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 3))
    x[700:760] = np.nan
    whole = LowPassFilter(SETTINGS).step(x)
    streaming = LowPassFilter(SETTINGS)
    bounds = np.sort(rng.choice(np.arange(1, 3000), 40, replace=False))
    parts = [streaming.step(x[a:b]) for a, b in zip([0, *bounds], [*bounds, 3000], strict=True)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    assert np.isnan(whole[700:760]).all() and np.isfinite(whole[760:]).all()


@pytest.mark.parametrize(("freq_hz", "gain"), [(0.5, 1.0), (3.5, 2**-0.5), (20.0, 0.0)])
def test_butterworth_gain_at_pass_cutoff_and_stop_frequencies(freq_hz, gain):
    _, x = _sine(freq_hz)
    y = LowPassFilter(SETTINGS).step(x)
    steady = y[1000:]
    assert np.sqrt(2 * np.mean(steady**2)) == pytest.approx(gain, abs=0.01)


def test_zero_phase_has_no_lag_and_squared_gain():
    _, x = _sine(1.0)
    y = lowpass_zero_phase(x, SETTINGS)
    middle = slice(500, 1500)
    lag = np.argmax(np.correlate(y[middle], x[middle], "full")) - (len(x[middle]) - 1)
    assert lag == 0
    _, at_cutoff = _sine(3.5)
    assert np.sqrt(2 * np.mean(lowpass_zero_phase(at_cutoff, SETTINGS)[500:1500] ** 2)) == pytest.approx(
        0.5, abs=0.01
    )
    gappy = x.copy()
    gappy[100:110] = np.nan
    out = lowpass_zero_phase(gappy, SETTINGS)
    assert np.isnan(out[100:110]).all() and np.isfinite(out[:100]).all() and np.isfinite(out[110:]).all()


def test_cutoff_must_be_below_nyquist():
    with pytest.raises(ProcessingError, match="Nyquist"):
        LowPassSettings(rate_hz=10.0, cutoff_hz=6.0)
