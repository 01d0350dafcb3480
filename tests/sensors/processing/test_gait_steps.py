"""Step-level gait maths with known answers: Hampel filter, robust cadence, step frequency,
inverted-pendulum step length."""

import numpy as np
import pytest

from sensors.processing.errors import ProcessingError
from sensors.processing.gait import GaitSettings, initial_contacts, step_frequency_hz
from sensors.processing.gait_speed import PendulumSettings, step_lengths, turning_factor
from sensors.processing.step_parameters import (
    bout_cadence_steps_per_min,
    fill_missed_steps,
    hampel,
    per_foot_cadence_steps_per_min,
    per_foot_stride_times_s,
    robust_cadence_steps_per_min,
    robust_mean,
    robust_per_foot_cadence_steps_per_min,
)


def test_hampel_replaces_only_the_outlier_by_its_neighbours_median():
    x = np.array([0.50, 0.52, 0.49, 1.02, 0.51, 0.50, 0.48])
    out = hampel(x, half_window=2, n_sigma=3.0)
    assert out[3] == pytest.approx(0.51)  # median of 0.52, 0.49, 1.02, 0.51, 0.50
    assert np.array_equal(np.delete(out, 3), np.delete(x, 3))
    assert np.array_equal(hampel(np.full(5, 0.6)), np.full(5, 0.6))  # MAD 0: nothing changes


def test_cadence_survives_a_missed_and_an_extra_contact():
    contacts = np.arange(0.0, 10.01, 0.5)  # 120 steps/min
    missed = np.delete(contacts, 8)  # one 1.0 s step
    extra = np.sort(np.append(contacts, 5.2))  # a 0.2 s and a 0.3 s step
    assert robust_cadence_steps_per_min(contacts) == pytest.approx(120.0)
    assert 60.0 / np.mean(np.diff(missed)) == pytest.approx(114.0)  # the plain mean is 6 off
    assert robust_cadence_steps_per_min(missed) == pytest.approx(120.0)
    assert robust_cadence_steps_per_min(extra) == pytest.approx(120.0, abs=1.0)
    assert np.isnan(robust_cadence_steps_per_min(np.array([1.0])))
    assert robust_cadence_steps_per_min(np.array([1.0, 1.6])) == pytest.approx(100.0)
    assert np.isnan(robust_mean(np.array([])))


def test_cadence_is_the_mean_of_per_stride_cadences_as_the_reference_defines_it():
    # Strides 1.0, 1.0, 1.25, 1.5, 1.5 s → 120, 120, 96, 80, 80 steps/min (none an outlier).
    contacts = np.array([0.0, 0.5, 1.0, 1.5, 2.25, 3.0, 3.75])
    assert robust_cadence_steps_per_min(contacts) == pytest.approx(99.2)
    assert 60.0 / np.mean(np.diff(contacts)) == pytest.approx(96.0)  # steps over time: not the same


def test_per_foot_strides_follow_each_foot_as_indip_does():
    """HA002's shuffle (INDIP, Test11 bout 2 start): 17.47 R, 17.69 L, 18.75 L, 20.06 R, 21.21 L;
    INDIP's strides (Stride_InitialContacts) are R 17.47→20.06, L 17.69→18.75, L 18.75→21.21: the
    foot that lands twice makes a one-step stride and the other foot's spans three steps."""
    t = np.array([17.47, 17.69, 18.75, 20.06, 21.21])
    sides = ["right", "left", "left", "right", "left"]
    assert per_foot_stride_times_s(t, sides) == pytest.approx([2.59, 1.06, 2.46])
    expected = np.mean(120.0 / np.array([2.59, 1.06, 2.46]))
    assert per_foot_cadence_steps_per_min(t, sides) == pytest.approx(expected)
    alternating = ["right", "left"] * 3  # alternating feet: contacts i → i+2, the same as before
    steps = np.array([0.0, 0.5, 1.0, 1.5, 2.25, 3.0])
    assert per_foot_cadence_steps_per_min(steps, alternating) == pytest.approx(
        robust_cadence_steps_per_min(steps)
    )
    untimed = np.array([0.0, 0.5, np.nan, 1.5, 2.0, 2.5])  # a stride with an untimed end is left out
    assert per_foot_stride_times_s(untimed, alternating) == pytest.approx(
        [np.nan, 1.0, np.nan, 1.0], nan_ok=True
    )
    assert per_foot_cadence_steps_per_min(untimed, alternating) == pytest.approx(120.0)
    with pytest.raises(ProcessingError, match="3 contacts but 2 sides"):
        per_foot_stride_times_s(np.array([0.0, 0.5, 1.0]), ["left", "right"])


def test_cadence_goes_per_foot_only_where_the_sides_are_trusted():
    """A detector's contacts at 120 steps/min with one missed (a right foot's, so two lefts in a
    row): per foot, one stride of 2 s among 1 s ones, cleaned by the interior Hampel filter as
    i → i+2 cleans its two 1.5 s strides; in HA002's shuffle the strides differ."""
    contacts = np.arange(0.0, 8.01, 0.5)
    sides = ["left", "right"] * 9
    missed = np.delete(contacts, 9)  # a right contact: lefts at 4.0 and 5.0 s in a row
    missed_sides = sides[:9] + sides[10:17]
    assert per_foot_cadence_steps_per_min(missed, missed_sides) == pytest.approx((13 * 120 + 60) / 14)
    assert robust_per_foot_cadence_steps_per_min(missed, missed_sides) == pytest.approx(120.0)
    assert bout_cadence_steps_per_min(missed, missed_sides, True) == pytest.approx(120.0)
    shuffle = np.array([17.47, 17.69, 18.75, 20.06, 21.21])  # HA002's, as above
    shuffle_sides = ["right", "left", "left", "right", "left"]
    per_foot = robust_per_foot_cadence_steps_per_min(shuffle, shuffle_sides)
    by_contacts = robust_cadence_steps_per_min(shuffle)  # strides 1.28, 2.37, 2.46 s
    assert by_contacts == pytest.approx(np.mean(120.0 / np.array([1.28, 2.37, 2.46])))
    assert bout_cadence_steps_per_min(shuffle, shuffle_sides, True) == pytest.approx(per_foot)
    assert bout_cadence_steps_per_min(shuffle, shuffle_sides, False) == pytest.approx(by_contacts)
    assert abs(per_foot - by_contacts) > 10.0
    for trusted in (True, False):  # alternating feet: the same strides either way
        assert bout_cadence_steps_per_min(contacts, sides[:17], trusted) == pytest.approx(120.0)
    assert np.isnan(robust_per_foot_cadence_steps_per_min(np.array([0.0, 0.5]), ["left", "right"]))
    assert bout_cadence_steps_per_min(np.array([0.0, 0.5]), ["left", "right"], True) == pytest.approx(120.0)


def test_cadence_keeps_the_slow_first_and_last_strides_of_starting_and_stopping():
    """Gait initiation and termination are slow steps, and INDIP's bout cadence (a plain mean of
    its per-stride cadences) includes them: HA001's daily-activity bouts end in steps of 1.2–2.0 s.
    Interior strides are still cleaned (a missed contact there), the edge strides are kept."""
    steady = np.arange(0.0, 5.01, 0.5)  # 120 steps/min, 10 steps
    stopping = np.append(steady, 7.0)  # a last step of 2.0 s: strides ..., 1.0, 2.5 s
    plain = np.mean(120.0 / (stopping[2:] - stopping[:-2]))
    assert robust_cadence_steps_per_min(stopping) == pytest.approx(plain)  # 113.3, not 120
    starting = np.insert(steady + 1.2, 0, 0.0)  # a first step of 1.2 s
    per_stride = 120.0 / (starting[2:] - starting[:-2])
    assert robust_cadence_steps_per_min(starting) == pytest.approx(np.mean(per_stride))
    missed_inside = np.delete(stopping, 5)  # and a missed contact inside: cleaned, the stop kept
    assert robust_cadence_steps_per_min(missed_inside) == pytest.approx((8 * 120.0 + 48.0) / 9)


def test_a_missed_contact_counts_as_the_step_it_hides_and_a_pause_does_not():
    """Contacts of a short bout (steps 0.46–0.55 s), the third missed: a same-side pair 1.0 s apart
    spoils the first stride (kept as it is: starting) and the next (a Hampel window of four
    strides cannot tell it), 104.9 steps/min by contacts i → i+2 and 109.2 per foot. Counted as
    the step it hides, at the midpoint of the gap (where the true contact was), it gives the true
    contacts' cadence exactly, by either rule. The same gap with alternating sides is a pause
    and is left to the rule as before (no step added); so are the first and last interval."""
    t = np.r_[0.0, np.cumsum([0.52, 0.50, 0.50, 0.55, 0.47, 0.46, 0.53])]
    sides = ["left", "right"] * 4
    truth = float(np.mean(120.0 / (t[2:] - t[:-2])))  # 119.97
    missed, missed_sides = np.delete(t, 2), sides[:2] + sides[3:]  # right 0.52, right 1.52 s
    assert robust_cadence_steps_per_min(missed) == pytest.approx(104.85, abs=0.01)  # before
    assert robust_per_foot_cadence_steps_per_min(missed, missed_sides) == pytest.approx(109.17, abs=0.01)
    filled, filled_sides = fill_missed_steps(missed, missed_sides)
    assert filled == pytest.approx(t) and filled_sides == tuple(sides)
    for trusted in (False, True):
        assert bout_cadence_steps_per_min(missed, missed_sides, trusted) == pytest.approx(truth)
    three = np.delete(np.arange(0.0, 5.01, 0.5), [4, 5, 6])  # 2.0 s between two rights: three missed
    three_sides = ["left", "right"] * 2 + ["right", "left"] * 2
    assert fill_missed_steps(three, three_sides)[0] == pytest.approx(np.arange(0.0, 5.01, 0.5))
    assert bout_cadence_steps_per_min(three, three_sides, False) == pytest.approx(120.0)
    pause = np.r_[t[:4], t[4:] + 0.5]  # a 1.05 s interval between a right and a left
    assert fill_missed_steps(pause, sides)[0] == pytest.approx(pause)
    assert bout_cadence_steps_per_min(pause, sides, False) == robust_cadence_steps_per_min(pause)
    stop = np.r_[t[:7], t[6] + 1.2]  # a slow last step between two lefts: stopping, kept
    stop_sides = [*sides[:7], "left"]
    assert fill_missed_steps(stop, stop_sides)[0] == pytest.approx(stop)
    assert len(fill_missed_steps(missed[:3], missed_sides[:3])[0]) == 3  # too short to tell
    with pytest.raises(ProcessingError, match="4 contacts but 3 sides"):
        fill_missed_steps(t[:4], sides[:3])


def _walk(rate=100.0, step_s=0.55, seconds=12.0, seed=0):
    """Vertical acceleration (n,) of a pelvis on an inverted pendulum: one arc per step."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, seconds, 1 / rate)
    phase = (t % step_s) / step_s  # 0 at each contact
    leg, step_length = 0.95, 0.65
    x = (phase - 0.5) * step_length
    height = np.sqrt(leg**2 - x**2)
    acc = np.gradient(np.gradient(height, t), t)
    return t, acc + rng.normal(0.0, 0.05, len(t)), leg, step_length


def test_step_frequency_of_walks_and_the_typical_one_without_steps():
    for step_s in (0.45, 0.55, 0.8):
        _, acc, _, _ = _walk(step_s=step_s)
        assert step_frequency_hz(acc, 100.0) == pytest.approx(1 / step_s, rel=0.03)
    _, acc, _, _ = _walk(step_s=0.55)
    missed = acc.copy()
    missed[300:360] = 0.0  # one step's jolt lost: the median interval does not move
    assert step_frequency_hz(missed, 100.0) == pytest.approx(1 / 0.55, rel=0.03)
    typical = GaitSettings().typical_step_frequency_hz
    assert step_frequency_hz(np.zeros(1000), 100.0) == typical


def test_contacts_of_a_pendulum_walk_are_found_at_the_arcs_joins():
    t, acc, _, _ = _walk(step_s=0.55)
    found = t[initial_contacts(t, acc)]
    truth = np.arange(0.55, 11.9, 0.55)
    nearest = np.abs(found[:, None] - truth[None, :]).min(axis=0)
    # The join is a jolt; the steepest rise of the jolt smoothed by a Gaussian of σ = 30 ms lies
    # σ before it.
    assert np.all(nearest <= 0.03 + 0.011)
    assert len(found) == pytest.approx(len(truth), abs=1)


def test_a_sway_without_heel_strikes_is_not_a_step():
    """A turn on the spot: 3 s of smooth 2 Hz sway (no jolt) inside a pendulum walk. Its peaks are
    far enough apart and above the bout's mean to be step candidates; their slope is not a
    heel strike's, so no contact is found there (session 2 found five)."""
    t, acc, _, _ = _walk(step_s=0.55)
    turn = (t > 4.0) & (t < 7.0)
    noise = np.random.default_rng(1).normal(0.0, 0.05, turn.sum())
    acc[turn] = 0.5 * np.sin(2 * np.pi * 2.0 * t[turn]) + noise
    found = t[initial_contacts(t, acc)]
    assert not np.any((found > 4.0) & (found < 7.0))
    lenient = GaitSettings(min_jolt_fraction=0.0, min_step_fraction=0.5)  # session 2's rule
    before = t[initial_contacts(t, acc, lenient)]
    assert np.sum((before > 4.0) & (before < 7.0)) == 5
    truth = np.arange(0.55, 11.9, 0.55)
    walking = truth[(truth < 3.9) | (truth > 7.1)]
    assert np.abs(found[:, None] - walking[None, :]).min(axis=0).max() <= 0.05  # every real step kept


def test_inverted_pendulum_returns_the_step_length_it_was_built_with():
    t, acc, leg, step_length = _walk(step_s=0.55)
    contacts = np.round(np.arange(0.55, 11.5, 0.55) * 100).astype(int)
    r = step_lengths(t, acc, contacts, leg, PendulumSettings(correction=1.0))
    assert np.median(r.step_length_m) == pytest.approx(step_length, rel=0.05)
    assert r.stride_length_m == pytest.approx(2 * step_length, rel=0.05)
    assert r.gait_speed_m_s == pytest.approx(step_length / 0.55, rel=0.05)
    default = step_lengths(t, acc, contacts, leg)
    assert default.stride_length_m == pytest.approx(4.587 / 4 * r.stride_length_m)  # Mobilise-D's factor


@pytest.mark.filterwarnings("ignore:Usually we assume that gait sequences are cut")
def test_step_lengths_match_mobgaps_sl_zijlstra_on_the_same_contacts():
    """The peer implementation (mobgap `SlZijlstra`, bench extra) of the same model, filters and
    scale factor gives the same per-step lengths on a pendulum walk with the same contacts."""
    pd = pytest.importorskip("pandas")
    zijlstra = pytest.importorskip("mobgap.stride_length").SlZijlstra
    t, acc, leg, _ = _walk(step_s=0.55)
    contacts = np.round(np.arange(0.55, 11.5, 0.55) * 100).astype(int)
    ours = step_lengths(t, acc, contacts, leg).step_length_m
    axes = {"acc_is": acc + 9.81, "acc_ml": 0.0, "acc_pa": 0.0}  # as the sensor measures it
    data = pd.DataFrame(axes | {f"gyr_{a}": 0.0 for a in ("is", "ml", "pa")})
    ics = pd.DataFrame({"ic": contacts}).rename_axis(index="step_id")
    peer = zijlstra().calculate(data, initial_contacts=ics, sampling_rate_hz=100.0, sensor_height_m=leg)
    theirs = peer.raw_step_length_per_step_["step_length_m"].to_numpy()
    assert len(ours) == len(theirs) == len(contacts) - 1
    assert ours == pytest.approx(theirs, rel=0.02)  # measured within 1.2 % (integration rule)


def test_turning_strides_count_only_their_progress_along_the_mean_direction():
    """A stride whose heading turns by θ between its contacts gets cos(θ/2) of the pendulum's
    length: a 90° turn per stride 0.71, a 180° spin on the spot (or more) none."""
    contacts = np.array([0, 50, 100, 150])
    heading = np.zeros(151)
    heading[100:], heading[150] = np.radians(90.0), np.radians(360.0)  # strides: 90°, 360°
    assert turning_factor(heading, contacts) == pytest.approx([np.cos(np.radians(45.0)), 0.0])
    t, acc, leg, _ = _walk(step_s=0.55)
    contacts = np.round(np.arange(0.55, 11.5, 0.55) * 100).astype(int)
    straight = step_lengths(t, acc, contacts, leg)
    turning = step_lengths(t, acc, contacts, leg, heading_rad=np.radians(90.0) * t / 1.1)  # 90° per stride
    half = np.cos(np.radians(45.0))
    assert turning.stride_length_m_per_stride == pytest.approx(half * straight.stride_length_m_per_stride)
    assert turning.stride_length_m == pytest.approx(half * straight.stride_length_m, rel=0.02)
    assert turning.gait_speed_m_s == pytest.approx(half * straight.gait_speed_m_s, rel=0.02)


def test_stride_values_are_two_steps_and_the_bout_keeps_its_short_last_stride():
    """INDIP's bout stride length is the plain mean of its strides, the short closing stride of a
    stop included; stabmon's strides are consecutive step pairs, interior ones cleaned."""
    t, acc, leg, _ = _walk(step_s=0.55)
    contacts = np.round(np.arange(0.55, 11.5, 0.55) * 100).astype(int)
    r = step_lengths(t, acc, contacts, leg)
    assert r.stride_length_m_per_stride == pytest.approx(r.step_length_m[:-1] + r.step_length_m[1:])
    steps = r.step_time_s[:-1] + r.step_time_s[1:]
    assert r.stride_speed_m_s == pytest.approx(r.stride_length_m_per_stride / steps)
    closing = acc.copy()
    last = slice(contacts[-2], contacts[-1] + 1)
    closing[last] *= 0.1  # the last step barely lifts the pelvis: a short closing step
    c = step_lengths(t, closing, contacts, leg)
    assert c.stride_length_m_per_stride[-1] < 0.8 * r.stride_length_m_per_stride[-1]
    assert c.stride_length_m == pytest.approx(np.mean(c.stride_length_m_per_stride), rel=0.01)


def test_a_step_that_holds_a_stop_gets_the_length_of_its_own_arc():
    """A pendulum walk (steps 0.55 s, 0.65 m) with one step that holds a stop: after its contact
    the pelvis sinks 8 cm and rises as the knees take the stop (0.4 s), stands 1 s, then swings
    through the same arc as every other step. The pendulum's arc is the last typical step before
    the contact, so that step is 0.65 m long (within 3 %); over the whole 1.95 s step the sink
    was read as a rise and fall: 0.75 m (session 7's rule, `arc_steps=0`)."""
    rate, leg, n = 100.0, 0.95, 55
    arc = np.sqrt(leg**2 - ((np.arange(n) / n - 0.5) * 0.65) ** 2)
    join = arc[0]
    stop = np.r_[join - 0.08 * np.sin(np.pi * np.arange(40) / 40) ** 2, np.full(100, join), arc]
    steps = [arc] * 10 + [stop] + [arc] * 9
    height = np.concatenate([*steps, arc])
    contacts = np.r_[0, np.cumsum([len(x) for x in steps])]
    t = np.arange(len(height)) / rate
    acc = np.gradient(np.gradient(height, t), t) + np.random.default_rng(0).normal(0.0, 0.05, len(t))
    exact = PendulumSettings(correction=1.0)
    arcs = step_lengths(t, acc, contacts, leg, exact).step_length_m
    assert arcs[10] == pytest.approx(0.65, rel=0.03)
    assert np.median(arcs) == pytest.approx(0.65, rel=0.03)
    whole = step_lengths(t, acc, contacts, leg, PendulumSettings(correction=1.0, arc_steps=0.0)).step_length_m
    assert whole[10] > 1.1 * 0.65
    assert np.delete(whole, 10) == pytest.approx(np.delete(arcs, 10))  # one-step-long steps: the same


def test_implausible_sensor_height_and_too_few_contacts_are_refused():
    t, acc, _, _ = _walk()
    with pytest.raises(ProcessingError, match="sensor height"):
        step_lengths(t, acc, np.array([10, 65, 120]), 95.0)  # cm, not m
    with pytest.raises(ProcessingError, match="2 contacts"):
        step_lengths(t, acc, np.array([10]), 0.95)
    with pytest.raises(ProcessingError, match="heading has 10 samples"):
        step_lengths(t, acc, np.array([10, 65, 120]), 0.95, heading_rad=np.zeros(10))
