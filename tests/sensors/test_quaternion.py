import numpy as np
import pytest

from sensors import quaternion as quat


def _rx(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _ry(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rz(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def test_quarter_turn_about_z_takes_x_to_y():
    q = quat.from_axis_angle(np.array([0, 0, 1.0]), np.pi / 2)
    np.testing.assert_allclose(quat.rotate(q, np.array([1.0, 0, 0])), [0, 1, 0], atol=1e-15)


def test_euler_zyx_matches_elementary_matrices():
    rng = np.random.default_rng(1)
    for yaw, pitch, roll in rng.uniform(-3, 3, (20, 3)):
        expected = _rz(yaw) @ _ry(pitch) @ _rx(roll)
        np.testing.assert_allclose(
            quat.to_matrix(quat.from_euler_zyx(yaw, pitch, roll)), expected, atol=1e-12
        )


def test_product_composes_like_matrices_and_rotvec_round_trips():
    rng = np.random.default_rng(2)
    r = rng.normal(size=(100, 3))
    r *= (rng.uniform(0, np.pi - 1e-3, 100) / np.linalg.norm(r, axis=1))[:, None]
    p, q = quat.from_rotvec(r), quat.from_rotvec(r[::-1])
    np.testing.assert_allclose(
        quat.to_matrix(quat.multiply(p, q)), quat.to_matrix(p) @ quat.to_matrix(q), atol=1e-12
    )
    np.testing.assert_allclose(quat.to_rotvec(p), r, atol=1e-10)
    np.testing.assert_allclose(quat.from_matrix(quat.to_matrix(p)), quat.normalize(p), atol=1e-12)


def test_tiny_rotations_stay_exact():
    r = np.array([1e-12, -2e-12, 3e-12])
    np.testing.assert_allclose(quat.to_rotvec(quat.from_rotvec(r)), r, rtol=1e-6)


@pytest.mark.parametrize("b", [[0, 0, 1.0], [0, 0, -1.0], [1.0, 2.0, -0.5], [0, 1.0, 0]])
def test_shortest_arc_takes_a_onto_b(b):
    a = np.array([0.0, 0.0, 1.0])
    b = np.asarray(b) / np.linalg.norm(b)
    q = quat.shortest_arc(a, b)
    np.testing.assert_allclose(quat.rotate(q, a), b, atol=1e-12)
    expected_angle = np.arccos(np.clip(a @ b, -1, 1))
    assert quat.angle_between(q, quat.IDENTITY) == pytest.approx(expected_angle, abs=1e-9)
