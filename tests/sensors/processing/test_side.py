"""Left/right labels of pelvic-sensor contacts: the alternation model against brute force, turns,
genuine same-side repeats and bad input."""

import itertools

import numpy as np
import pytest

from sensors.processing.errors import ProcessingError
from sensors.processing.side import SideSettings, alternating_sides, contact_sides, side_evidence


def _brute_force(evidence: np.ndarray, repeat_cost: float) -> float:
    """Lowest cost over every one of the 2^n label sequences (independent of the Viterbi pass)."""
    z = evidence / np.median(np.abs(evidence))
    best = np.inf
    for labels in itertools.product((-1.0, 1.0), repeat=len(z)):
        s = np.array(labels)
        best = min(best, float(-(s * z).sum() + repeat_cost * np.sum(s[1:] == s[:-1])))
    return best


def _cost(labels: np.ndarray, evidence: np.ndarray, repeat_cost: float) -> float:
    z = evidence / np.median(np.abs(evidence))
    return float(-(labels * z).sum() + repeat_cost * np.sum(labels[1:] == labels[:-1]))


@pytest.mark.parametrize("repeat_cost", [0.5, 2.0, 5.0])
def test_the_sequence_is_the_cheapest_of_all_label_sequences(repeat_cost):
    rng = np.random.default_rng(7)
    for _ in range(40):
        n = int(rng.integers(2, 11))
        evidence = rng.normal(0.3, 1.0, n)
        labels = alternating_sides(evidence, repeat_cost)
        assert set(labels) <= {-1.0, 1.0}
        assert _cost(labels, evidence, repeat_cost) == pytest.approx(_brute_force(evidence, repeat_cost))


def test_a_turning_offset_cancels_over_alternating_contacts():
    """Alternating evidence ±1 on top of a yaw-rate offset of 1.5 (a turn): the plain sign calls
    every contact right; the alternation model gets every side."""
    truth = np.tile([-1.0, 1.0], 5)
    evidence = truth + 1.5
    assert (np.sign(evidence) == 1).all()
    assert np.array_equal(alternating_sides(evidence), truth)


def test_a_same_side_repeat_stays_where_the_evidence_insists():
    """L R [L missed] R L: the two rights in a row each carry a typical contact's evidence, so
    the repeat is kept (cost 2 < the 4 it would take to call one of them left)."""
    evidence = np.array([-1.0, 1.0, 1.0, -1.0, 1.0, -1.0])
    assert np.array_equal(alternating_sides(evidence), np.sign(evidence))
    weak = np.array([-1.0, 1.0, 0.2, 1.0, -1.0])  # a weak contact follows the alternation
    assert np.array_equal(alternating_sides(weak), [-1.0, 1.0, -1.0, 1.0, -1.0])


def _walk_with_a_turn(rate: float = 100.0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Yaw rate (n,) rad/s of a 20 s walk: the pelvis' stride-frequency rotation (±0.35 rad/s,
    peaking at each contact towards its leg) plus a 180° pivot turn over 1.5 s from 8 s (peak
    188 °/s); its contacts (indices) and their sides. (Slower turns leave no sign error after the
    band-pass; a 180° turn within 1 s fools the alternation model too.)"""
    t = np.arange(0.0, 20.0, 1.0 / rate)
    step_s = 0.55
    contacts_s = np.arange(1.0, 19.0, step_s)
    sides = ["left" if k % 2 == 0 else "right" for k in range(len(contacts_s))]
    # Right contacts at the positive peaks: cos with phase zero at every second contact.
    yaw = -0.35 * np.cos(np.pi * (t - contacts_s[0]) / step_s)
    turn_s = 1.5
    turn = (t >= 8.0) & (t < 8.0 + turn_s)
    yaw[turn] += np.pi**2 / (2 * turn_s) * np.sin(np.pi * (t[turn] - 8.0) / turn_s)  # ∫ = π rad
    return yaw, np.round(contacts_s * rate).astype(int), sides


def test_sides_of_a_walk_with_a_turn():
    yaw, contacts, truth = _walk_with_a_turn()
    evidence = side_evidence(yaw, 100.0)[contacts]
    sign_rule = ["left" if e < 0 else "right" for e in evidence]
    labels = contact_sides(yaw, 100.0, contacts)
    assert sum(a != b for a, b in zip(sign_rule, truth, strict=True)) >= 2  # the turn fools the sign
    assert labels.sides == tuple(truth)
    assert not labels.consistent  # so the sides are not trusted for per-foot strides
    straight = contact_sides(-0.35 * np.cos(np.pi * (np.arange(2000) / 100.0 - 1.0) / 0.55), 100.0, contacts)
    assert straight.sides == tuple(truth) and straight.consistent


def test_bad_input_is_refused_with_what_and_where():
    yaw, contacts, _ = _walk_with_a_turn()
    with pytest.raises(ProcessingError, match="contact index outside the bout's 2000 samples"):
        contact_sides(yaw, 100.0, np.array([5, 2000]))
    yaw[50] = np.nan
    with pytest.raises(ProcessingError, match="gap-free yaw rate"):
        contact_sides(yaw, 100.0, contacts, SideSettings())
    assert contact_sides(np.zeros(500), 100.0, np.array([], dtype=int)).sides == ()
