"""The synchroniser's timeline is uniform, aligned across sensors, and flags losses as gaps."""

import numpy as np
import pytest

from sensors import Placement
from sensors.processing import SessionSettings
from sensors.processing.errors import SynchronizerError
from sensors.processing.synchronizer import Synchronizer, SynchronizerSettings
from sensors.simulator import (
    ClockSettings,
    DrillOptions,
    ImuErrorSettings,
    RadioSettings,
    SimulatedSensorSettings,
    SimulatedSource,
    ideal_imu,
    make_drill,
)
from tests.sensors.processing.runs import run_session

PLACEMENTS = (Placement.LUMBAR, Placement.PELVIS)


def _lossy_drifting_session(seconds=120.0, seed=3):
    drill = make_drill("forward-bend", DrillOptions(duration_s=seconds, seed=seed))
    radio = RadioSettings(burst_start_probability=0.01, mean_burst_packets=5)
    settings = {
        Placement.LUMBAR: SimulatedSensorSettings(
            clock=ClockSettings(100.0, 50.0), radio=radio, errors=ImuErrorSettings.ideal()
        ),
        Placement.PELVIS: SimulatedSensorSettings(
            clock=ClockSettings(900.0, -50.0), radio=radio, errors=ImuErrorSettings.ideal()
        ),
    }
    source = SimulatedSource(drill, PLACEMENTS, settings, seed=seed)
    sink, _ = run_session(source, SessionSettings(rate_hz=100.0))
    return source, sink


@pytest.fixture(scope="module")
def session():
    return _lossy_drifting_session()


def test_timeline_is_uniform(session):
    _, sink = session
    frame = sink.frame
    steps = np.diff(frame.time_s)
    np.testing.assert_allclose(steps, 0.01, atol=1e-9)
    assert frame.time_s[-1] > 119.0


def test_signals_are_aligned_to_the_truth_within_one_sample(session):
    source, sink = session
    frame = sink.frame
    for k, placement in enumerate(PLACEMENTS):
        sensor = source.simulated[placement]
        ok = frame.valid[:, k] & (frame.time_s > 30)
        # Every 8th point (~1070 a sensor) is plenty: the same best lag (-1 ms) as every 4th, its
        # neighbours' errors 1.8-6.9 times the least either way, at a third of the CPU.
        ok[np.arange(len(ok)) % 8 != 0] = False
        t = frame.time_s[ok]
        # Where is the synchronised signal best explained in true time? Compare with the ideal
        # gyro at the grid time shifted by candidate lags.
        lags = np.arange(-0.01, 0.0101, 0.001)
        errors = [
            np.mean(
                np.abs(
                    frame.gyr_rad_s[ok, k]
                    - ideal_imu(sensor.drill, placement, sensor.truth.mount_q, t + lag, 0.01).gyr_rad_s
                )
            )
            for lag in lags
        ]
        best = lags[int(np.argmin(errors))]
        # The mapping carries the radio's latency floor (~1–3 ms): session time is a little late.
        assert -0.004 <= best <= 0.0, (placement, best)


def test_lost_packets_are_flagged_not_invented(session):
    source, sink = session
    frame = sink.frame
    blocks = {p: [(b, t) for b, t in sink.blocks if b.placement is p] for p in PLACEMENTS}
    for k, placement in enumerate(PLACEMENTS):
        lost = source.simulated[placement].all_lost_sequences()
        assert len(lost) > 0
        sequence = np.concatenate([b.sequence for b, _ in blocks[placement]])
        times = np.concatenate([t for _, t in blocks[placement]])
        jumps = np.flatnonzero(np.diff(sequence) > 1)
        for j in jumps:
            inside = (frame.time_s > times[j]) & (frame.time_s < times[j + 1])
            assert inside.any()
            assert not frame.valid[inside, k].any()
            assert np.isnan(frame.acc_m_s2[inside, k]).all()
        # Everywhere else, samples were consecutive on both sides: valid after the start.
        covered = (frame.time_s >= times[0]) & (frame.time_s <= times[-1])
        in_gap = np.zeros(len(frame), bool)
        for j in jumps:
            in_gap |= (frame.time_s > times[j]) & (frame.time_s < times[j + 1])
        np.testing.assert_array_equal(frame.valid[covered, k], ~in_gap[covered])
        expected_invalid = len(lost) / 100.0  # seconds lost
        assert (~frame.valid[covered, k]).sum() / 100.0 == pytest.approx(expected_invalid, rel=0.15, abs=0.05)


def _feed(sync, blocks):
    for placement, t, seq, acc in blocks:
        sync.push(placement, t, seq, acc, -acc)


def test_chunked_pull_equals_one_pull():
    rng = np.random.default_rng(0)
    blocks = []
    for start in range(0, 300, 10):
        for placement, offset in ((Placement.LUMBAR, 0.003), (Placement.PELVIS, 0.007)):
            seq = np.arange(start, start + 10)
            keep = seq % 37 != 5  # some losses
            blocks.append((placement, seq[keep] / 100 + offset, seq[keep], rng.normal(size=(keep.sum(), 3))))
    whole = Synchronizer(PLACEMENTS)
    _feed(whole, blocks)
    one = whole.flush()
    chunked = Synchronizer(PLACEMENTS)
    frames = []
    for block in blocks:
        _feed(chunked, [block])
        frame = chunked.pull(now_s=block[1][-1])
        if frame is not None:
            frames.append(frame)
    frames.append(chunked.flush())
    from sensors.samples import Frame

    joined = Frame.concatenate([f for f in frames if f is not None])
    np.testing.assert_array_equal(joined.time_s, one.time_s)
    np.testing.assert_array_equal(joined.valid, one.valid)
    np.testing.assert_array_equal(joined.acc_m_s2, one.acc_m_s2)


def test_interpolation_is_linear_between_consecutive_samples():
    sync = Synchronizer((Placement.PELVIS,), SynchronizerSettings(rate_hz=100.0))
    t = np.array([0.0025, 0.0125, 0.0225])
    acc = np.array([[0.0, 0, 0], [1.0, 0, 0], [2.0, 0, 0]])
    sync.push(Placement.PELVIS, t, np.array([0, 1, 2]), acc, acc)
    frame = sync.flush()
    np.testing.assert_allclose(frame.time_s, [0.01, 0.02])
    np.testing.assert_allclose(frame.acc_m_s2[:, 0, 0], [0.75, 1.75])


def test_a_silent_sensor_does_not_stall_the_others():
    sync = Synchronizer(PLACEMENTS, SynchronizerSettings(rate_hz=100.0, max_wait_s=0.5))
    # Both stream in 40 ms notifications; the pelvis falls silent after 0.5 s.
    blocks = [(p, i, i + 4) for i in range(0, 300, 4) for p in PLACEMENTS if i < 50 or p is Placement.LUMBAR]
    frame = _stream(sync, blocks, delay_s=0.01)
    assert frame.time_s[-1] == pytest.approx(2.99 - 0.5)  # waited max_wait_s for the pelvis, then went on
    assert frame.valid[:, 0].all()
    assert frame.valid[frame.time_s <= 0.51, 1].all()
    assert not frame.valid[frame.time_s > 0.51, 1].any()
    seq = np.arange(300)
    with pytest.raises(SynchronizerError, match="thorax"):
        sync.push(Placement.THORAX, seq / 100, seq, np.zeros((300, 3)), np.zeros((300, 3)))


def _stream(sync, blocks, delay_s):
    """Push (placement, first, last) sample-index blocks at 100 Hz, each pulled `delay_s` after its
    newest sample was taken; returns the joined frames."""
    from sensors.samples import Frame

    frames = []
    for placement, first, last in blocks:
        seq = np.arange(first, last)
        sync.push(placement, seq / 100, seq, np.zeros((len(seq), 3)), np.zeros((len(seq), 3)))
        frame = sync.pull(now_s=seq[-1] / 100 + delay_s)
        if frame is not None:
            frames.append(frame)
    return Frame.concatenate(frames)


def test_a_computer_behind_on_every_sensor_flags_nothing():
    # Both sensors' notifications (4 samples each) reach processing 3 s late: a loaded laptop.
    blocks = [(p, i, i + 4) for i in range(0, 2000, 4) for p in PLACEMENTS]
    sync = Synchronizer(PLACEMENTS, SynchronizerSettings(rate_hz=100.0, max_wait_s=0.5))
    frame = _stream(sync, blocks, delay_s=3.0)
    assert frame.valid.all()
    assert frame.time_s[-1] == pytest.approx(19.99)  # everything up to the newest common sample is out
    assert sync.late_samples == 0 and sync.wait_s == 0.5


def test_a_sensor_that_comes_late_makes_the_wait_grow_then_frames_are_whole():
    # The pelvis delivers in 1.2 s bursts (a sensor buffering, or a host too busy to keep level);
    # the lumbar every 40 ms.
    lumbar = [(Placement.LUMBAR, i, i + 4) for i in range(0, 6000, 4)]
    pelvis = [(Placement.PELVIS, i, i + 120) for i in range(0, 6000, 120)]
    blocks = sorted(lumbar + pelvis, key=lambda b: (b[2], b[0] is Placement.PELVIS))
    sync = Synchronizer(PLACEMENTS, SynchronizerSettings(rate_hz=100.0, max_wait_s=0.5))
    frame = _stream(sync, blocks, delay_s=0.01)
    pelvis_valid = frame.valid[:, 1]
    # The first burst finds 0.7 s of its grid already out (flagged, counted); after that the
    # synchroniser waits long enough and every frame is whole.
    assert sync.late_samples == 70
    assert not pelvis_valid[:70].any()
    assert pelvis_valid[frame.time_s >= 0.7].all()
    assert 1.2 < sync.wait_s <= 1.5 * 1.2


def test_the_wait_relaxes_once_data_come_on_time_and_is_bounded():
    settings = SynchronizerSettings(rate_hz=100.0, max_wait_s=0.5, longest_wait_s=2.0, wait_recovery_s=10.0)
    sync = Synchronizer(PLACEMENTS, settings)
    # The pelvis is 10 s behind once: the wait grows only up to longest_wait_s.
    behind = [(Placement.LUMBAR, i, i + 4) for i in range(0, 1000, 4)] + [(Placement.PELVIS, 0, 200)]
    _stream(sync, behind, delay_s=0.01)
    assert sync.late_samples > 0
    assert sync.wait_s == 2.0
    # Then both on time: the lateness seen fades (time constant 10 s) and the wait with it.
    on_time = [(p, i, i + 4) for i in range(1000, 3600, 4) for p in PLACEMENTS]
    _stream(sync, on_time, delay_s=0.01)
    assert sync.wait_s == pytest.approx(1.5 * 9.99 * np.exp(-2.6), rel=1e-6)  # 26 s later
    _stream(sync, [(p, i, i + 4) for i in range(3600, 7000, 4) for p in PLACEMENTS], delay_s=0.01)
    assert sync.wait_s == 0.5


def _stepping_back(step_s=0.8):
    """Both sensors stream 40 ms notifications at 100 Hz for 10 s; at 2.8 s (lumbar) and 2.84 s
    (pelvis) their clock fits step back by step_s (their first notifications came in a burst,
    stamped late): (placement, times, sequence, acc) per block, each sensor's next block after
    the other's."""
    rng = np.random.default_rng(5)
    blocks = []
    for i in range(0, 1000, 4):
        for placement, at in ((Placement.LUMBAR, 2.8), (Placement.PELVIS, 2.84)):
            seq = np.arange(i, i + 4)
            t = seq / 100 + 0.003 - (step_s if seq[0] / 100 >= at else 0.0)
            blocks.append((placement, t, seq, rng.normal(size=(4, 3))))
    return blocks


def test_a_clock_fit_stepping_back_is_not_read_as_a_late_sensor():
    """Seen in every virtual-BLE recording before the engine loaded its processing ahead: the
    wait grew to 1.2-3.9 s at the start although no sensor was late."""
    sync = Synchronizer(PLACEMENTS, SynchronizerSettings(rate_hz=100.0, max_wait_s=0.5))
    for placement, t, seq, acc in _stepping_back():
        sync.push(placement, t, seq, acc, -acc)
        sync.pull(now_s=t[-1] + 0.01)
    assert sync.wait_s == 0.5


def test_sensors_starting_one_after_another_keep_the_wait_small():
    sync = Synchronizer(PLACEMENTS, SynchronizerSettings(rate_hz=100.0, max_wait_s=0.5))
    # The lumbar streams from 0 s, the pelvis from 1 s on.
    blocks = [
        (p, i, i + 4) for i in range(0, 1000, 4) for p in PLACEMENTS if i >= 100 or p is Placement.LUMBAR
    ]
    frame = _stream(sync, blocks, delay_s=0.01)
    assert sync.wait_s == 0.5 and sync.late_samples == 0
    assert frame.valid[frame.time_s >= 1.0].all()


@pytest.mark.parametrize("late_burst", [False, True])
def test_the_batched_synchroniser_follows_the_live_one_where_a_clock_fit_steps_back(late_burst):
    from sensors.processing.batch_sync import ArrivalBlocks, BatchSynchronizer
    from sensors.samples import Frame

    settings = SynchronizerSettings(rate_hz=100.0, max_wait_s=0.5)
    blocks = _stepping_back()
    if late_burst:  # and the pelvis's samples of 5-6.2 s come in one burst at 6.2 s: a late sensor
        held = [b for b in blocks if b[0] is Placement.PELVIS and 500 <= b[2][0] < 620]
        blocks = [b for b in blocks if not any(b is h for h in held)]
        at = next(i for i, b in enumerate(blocks) if b[2][0] >= 620)
        blocks[at:at] = held
    live = Synchronizer(PLACEMENTS, settings)
    frames = []
    for placement, t, seq, acc in blocks:
        live.push(placement, t, seq, acc, -acc)
        frames.append(live.pull(now_s=t[-1] + 0.01))
    frames.append(live.flush())
    mine = {p: [b for b in blocks if b[0] is p] for p in PLACEMENTS}
    batch = BatchSynchronizer(
        PLACEMENTS,
        {p: np.concatenate([b[1] for b in mine[p]]) for p in PLACEMENTS},
        {p: np.concatenate([b[2] for b in mine[p]]) for p in PLACEMENTS},
        {p: np.concatenate([b[3] for b in mine[p]]) for p in PLACEMENTS},
        {p: -np.concatenate([b[3] for b in mine[p]]) for p in PLACEMENTS},
        ArrivalBlocks(
            np.array([PLACEMENTS.index(b[0]) for b in blocks]),
            np.array([len(b[1]) for b in blocks]),
            np.array([b[1][-1] + 0.01 for b in blocks]),
        ),
        settings,
    )
    expected = Frame.concatenate([f for f in frames if f is not None])
    got = Frame.concatenate(list(batch.frames()))
    np.testing.assert_array_equal(got.time_s, expected.time_s)
    np.testing.assert_array_equal(got.valid, expected.valid)
    np.testing.assert_array_equal(got.acc_m_s2, expected.acc_m_s2)
    assert batch.late_samples == live.late_samples
    assert (live.wait_s > 0.5) is late_burst


def test_sampling_equals_the_interpolation_formula_bit_for_bit():
    """`_Buffer.sample` (worked out in place) gives (1 - w) * before + w * after exactly as the
    formula written out over whole arrays, exact samples as they are and gaps across a counter
    jump, on irregular sample times."""
    from sensors.processing.synchronizer import _Buffer

    rng = np.random.default_rng(11)
    m = 3000
    buffer = _Buffer()
    buffer.t = np.cumsum(rng.uniform(0.004, 0.006, m))
    buffer.sequence = np.arange(m, dtype=np.int64) + (np.arange(m) >= 1500)  # one lost sample
    buffer.acc, buffer.gyr = rng.normal(size=(m, 3)) * 9.8, rng.normal(size=(m, 3))
    grid = np.arange(int(buffer.t[0] * 200) - 3, int(buffer.t[-1] * 200) + 3) / 200.0
    grid[10] = buffer.t[40]  # a grid point exactly on a sample
    acc, gyr, valid = buffer.sample(grid)
    k = np.clip(np.searchsorted(buffer.t, grid, side="right") - 1, 0, m - 1)
    after = np.minimum(k + 1, m - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = ((grid - buffer.t[k]) / (buffer.t[after] - buffer.t[k]))[:, None]
        for got, rows in ((acc, buffer.acc), (gyr, buffer.gyr)):
            expected = (1 - w) * rows[k] + w * rows[after]
            between = valid & (buffer.t[k] != grid)
            assert got[between].tobytes() == expected[between].tobytes()
            assert got[10].tobytes() == rows[40].tobytes()
            assert np.isnan(got[~valid]).all()
    outside = (grid < buffer.t[0]) | (grid > buffer.t[-1])
    assert outside.sum() >= 4 and not valid[outside].any()
    assert not valid[(grid > buffer.t[1499]) & (grid < buffer.t[1500])].any()  # across the jump
    assert valid.sum() > 0.99 * len(grid) - 10


def test_samples_on_the_grid_fill_every_frame_live_and_batched():
    """Samples stamped exactly on the frame grid (an imported recording: device time minus its
    origin carries ~1e-13 s of rounding, mostly early) fill every grid point, pulled block by block
    as live and batched as a replay. Each 10th point used to be a gap: its sample came out a hair
    before the point, the frontier (rounded) let the point out, and no later sample was there yet."""
    from sensors.processing.batch_sync import ArrivalBlocks, BatchSynchronizer

    n = 600
    times = (1000.0 + np.arange(n) / 100.0) - 1000.0  # as the clock mapping gives them
    assert (times < np.arange(n) / 100.0).any()
    sequence, acc = np.arange(n), np.tile([0.0, 0.0, 9.81], (n, 1))
    live = Synchronizer((Placement.PELVIS,), SynchronizerSettings(rate_hz=100.0))
    frames = []
    for start in range(0, n, 10):
        part = slice(start, start + 10)
        live.push(Placement.PELVIS, times[part], sequence[part], acc[part], acc[part])
        frames.append(live.pull(now_s=float(times[part][-1])))
    frames.append(live.flush())
    from sensors.samples import Frame

    joined = Frame.concatenate([f for f in frames if f is not None])
    assert len(joined) == n and joined.valid.all()
    blocks = ArrivalBlocks(np.zeros(n // 10, dtype=np.int64), np.full(n // 10, 10), times[9::10].copy())
    pelvis = Placement.PELVIS
    batched = BatchSynchronizer(
        (pelvis,), {pelvis: times}, {pelvis: sequence}, {pelvis: acc}, {pelvis: acc}, blocks
    )
    whole = batched.frame(0, n)
    np.testing.assert_array_equal(whole.valid, joined.valid)
    np.testing.assert_array_equal(whole.acc_m_s2, joined.acc_m_s2)
