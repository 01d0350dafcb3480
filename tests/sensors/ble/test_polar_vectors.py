"""The PMD codec against the Polar BLE SDK's own unit-test vectors (tests/sensors/ble/vectors/
polar_pmd.py, each cited by SDK file, test and commit): every frame, delta block, control-point
response, setting list and sample-time rule decodes to the values the SDK's tests expect."""

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.ble.codecs import polar_delta as delta
from sensors.ble.codecs import polar_pmd as pmd
from sensors.ble.errors import DecodeError
from tests.sensors.ble.vectors import polar_pmd as vectors


@pytest.mark.parametrize("vector", vectors.FRAMES, ids=lambda v: v.name)
def test_frames_decode_to_the_sdks_values(vector):
    data = bytes.fromhex(vector.frame_hex)
    frame = pmd.DataFrame.from_bytes(data)
    assert frame.timestamp_ns == vector.last_time_ns
    assert len(frame.samples) == vector.count
    values = frame.values(np.float32(vector.factor))
    for index, expected in vector.expected.items():
        if frame.measurement is pmd.MeasurementType.ACC:
            # The SDK truncates to whole mG (Kotlin toInt); ours keeps the fraction.
            np.testing.assert_array_equal(np.trunc(values[index]), expected)
            assert np.all(np.abs(values[index] - expected) < 1.0)
        else:
            np.testing.assert_allclose(values[index], expected, rtol=1e-7)
    if vector.abs_max is not None:
        assert np.abs(values).max() <= vector.abs_max
    times = delta.sample_times_ns(
        vector.previous_timestamp_ns, frame.timestamp_ns, len(values), vector.sample_rate_hz
    )
    assert times[-1] == vector.last_time_ns
    if vector.first_time_ns is not None:
        assert times[0] == vector.first_time_ns
    # Re-encoding what was decoded gives the same samples back (the virtual sensor's path).
    again = pmd.DataFrame.from_bytes(frame.to_bytes())
    np.testing.assert_array_equal(again.samples, frame.samples)


def test_acc_compressed_type_0_is_g_times_factor_not_mg():
    """The issue's case: counts (1905, 27376, −29282) × 2.44e-4 are G, i.e. [464, 6679, −7144] mG."""
    frame = pmd.DataFrame.from_bytes(bytes.fromhex(vectors.ACC_C0))
    assert frame.samples[0].tolist() == [1905, 27376, -29282]
    np.testing.assert_allclose(frame.values(2.44e-4)[0], [464.82, 6679.744, -7144.808], atol=1e-3)


@pytest.mark.parametrize("vector", vectors.DELTAS, ids=lambda v: v.name)
def test_delta_blocks_decode_to_the_sdks_samples(vector):
    content = bytes.fromhex(vector.content_hex)
    if vector.cut_short:
        with pytest.raises(DecodeError, match="cut short"):
            delta.decode_delta(content, vector.channels, vector.bits)
        content = content[: vector.channels * vector.bits // 8]  # its reference sample alone
    samples = delta.decode_delta(content, vector.channels, vector.bits)
    if vector.count is not None:
        assert samples.shape == (vector.count, vector.channels)
    for index, expected in vector.expected.items():
        assert tuple(samples[index, : len(expected)].tolist()) == expected


@pytest.mark.parametrize("vector", vectors.DELTAS[2:5], ids=lambda v: v.name)
def test_delta_encoding_round_trips_the_sdks_samples(vector):
    samples = delta.decode_delta(bytes.fromhex(vector.content_hex), vector.channels, vector.bits)
    again = delta.decode_delta(delta.encode_delta(samples, vector.bits), vector.channels, vector.bits)
    np.testing.assert_array_equal(again, samples)


@pytest.mark.parametrize("case", vectors.RESPONSES, ids=lambda c: c[0])
def test_control_point_responses_as_the_sdk_reads_them(case):
    data, (op, measurement, status, more, parameters), _ = case
    response = pmd.ControlResponse.from_bytes(bytes.fromhex(data))
    assert (response.op, response.measurement, response.status) == (op, measurement, status)
    assert response.more is more and response.parameters == bytes.fromhex(parameters)


def test_start_response_factor_as_the_sdk_stores_it():
    data, factor, _ = vectors.FACTOR_RESPONSE
    response = pmd.ControlResponse.from_bytes(bytes.fromhex(data))
    assert response.measurement is pmd.MeasurementType.PPG and response.factor == factor


@pytest.mark.parametrize("case", vectors.SETTINGS, ids=lambda c: c[0])
def test_setting_lists_as_the_sdk_parses_them(case):
    data, expected, _ = case
    parsed = pmd.parse_settings(bytes.fromhex(data))
    assert {int(k): v for k, v in parsed.items()} == expected


@pytest.mark.parametrize("case", vectors.TIMESTAMPS, ids=lambda c: str(c[0]))
def test_sample_times_follow_the_sdks_rule(case):
    (previous, frame, count, rate), expected, _ = case
    assert delta.sample_times_ns(previous, frame, count, rate).tolist() == list(expected)


def test_sample_times_refuse_what_the_sdk_refuses():
    with pytest.raises(ValueError, match="previous frame's time or the sample rate"):
        delta.sample_times_ns(0, 1000, 3, 0)  # PmdTimeStampUtilsTest: both zero
    with pytest.raises(ValueError, match="not after"):
        delta.sample_times_ns(2000, 1000, 3, 52)
    with pytest.raises(ValueError, match="too early"):
        delta.sample_times_ns(0, 1000, 3, 1)  # PmdTimeStampUtilsTest: negative time stamps


@settings(max_examples=300, deadline=None)
@given(parameters=st.binary(max_size=40), status=st.integers(0, 20))
def test_responses_with_any_parameters_give_a_factor_or_a_decode_error(parameters, status):
    data = bytes([0xF0, 0x02, 0x02, status, 0]) + parameters
    with contextlib.suppress(DecodeError):
        factor = pmd.ControlResponse.from_bytes(data).factor
        assert factor > 0 and np.isfinite(factor)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.tuples(*[st.floats(-2000, 2000, width=32, allow_subnormal=False)] * 3), min_size=1, max_size=60
    ),
    factor=st.sampled_from([1.0, 0.5]),
)
def test_float32_gyro_frames_carry_any_float32_values_exactly(values, factor):
    """Type 0x81 frames of any float32 °/s (SDK-style: deltas between the IEEE-754 bit patterns)
    decode to exactly those values; the old 16-bit reference reading rejected nearly all."""
    dps = np.array(values, dtype=np.float64)
    frame = pmd.DataFrame.of_values(pmd.MeasurementType.GYRO, 10**18, 0x81, dps, factor)
    again = pmd.DataFrame.from_bytes(frame.to_bytes())
    assert again.frame_type == 1 and again.compressed
    np.testing.assert_array_equal(again.values(factor), (dps / factor).astype(np.float32) * factor)
