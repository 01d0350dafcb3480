import math

import numpy as np
import pytest

from sensors import Event, EventKind, Frame, Placement, SampleBlock, nominal_mount, parse_placement
from sensors.errors import InvalidSamplesError, UnknownPlacementError


def _block(n=4, **overrides):
    fields = {
        "placement": Placement.PELVIS,
        "device_time_s": np.arange(n) / 100.0,
        "acc_m_s2": np.zeros((n, 3)),
        "gyr_rad_s": np.zeros((n, 3)),
        "sequence": np.arange(n),
        "host_receive_ns": np.full(n, 5),
    }
    fields.update(overrides)
    return SampleBlock(**fields)


def test_sample_block_is_frozen_and_read_only():
    block = _block()
    with pytest.raises(ValueError):
        block.acc_m_s2[0, 0] = 1.0
    with pytest.raises(AttributeError):
        block.placement = Placement.LUMBAR  # type: ignore[misc]
    assert block.sequence.dtype == np.int64 and len(block) == 4


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"acc_m_s2": np.zeros((4, 2))}, "acc_m_s2 must have shape (n, 3)"),
        ({"sequence": np.arange(3)}, "differ in length"),
        ({"sequence": np.array([0, 1, 1, 2])}, "strictly increase"),
    ],
)
def test_sample_block_rejects_bad_arrays_naming_the_sensor(overrides, message):
    with pytest.raises(InvalidSamplesError, match="pelvis") as error:
        _block(**overrides)
    assert message in str(error.value)


def test_frame_accessors_and_concatenation():
    placements = (Placement.LUMBAR, Placement.PELVIS)
    acc = np.arange(4 * 2 * 3, dtype=float).reshape(4, 2, 3)
    frame = Frame(np.arange(4) / 100, placements, acc, -acc, np.ones((4, 2), bool), 100.0)
    np.testing.assert_array_equal(frame.acc(Placement.PELVIS), acc[:, 1])
    np.testing.assert_array_equal(frame.gyr(Placement.LUMBAR), -acc[:, 0])
    joined = Frame.concatenate([frame, frame])
    assert len(joined) == 8
    with pytest.raises(InvalidSamplesError, match="thorax"):
        frame.acc(Placement.THORAX)


def test_placements_parse_and_nominal_mounts_are_rotations():
    assert parse_placement("Left-Thigh") is Placement.LEFT_THIGH
    with pytest.raises(UnknownPlacementError, match="shoulder"):
        parse_placement("shoulder")
    for placement in Placement:
        m = nominal_mount(placement)
        np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-15)
        assert np.linalg.det(m) == pytest.approx(1.0)
        # Every sensor's x axis runs up its segment.
        np.testing.assert_allclose(m[:, 0], [0, 0, 1])


def test_event_needs_a_finite_time():
    assert Event(1.5, EventKind.PERTURBATION).source == "operator"
    with pytest.raises(InvalidSamplesError, match="perturbation"):
        Event(math.nan, EventKind.PERTURBATION)
