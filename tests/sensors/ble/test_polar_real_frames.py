"""PolarDecoder + SampleGate on frames the size a real Verity Sense sends outside SDK mode (ACC and
GYRO at 52 Hz, ~71 samples a frame, 1–2 s apart: polar-ble-sdk issue #317), built byte by byte
from the PMD layout the SDK documents (BlePMDClient.parseDeltaFramesAll, PmdDataFrame), not with
stabmon's encoder; one stream is the SDK's own 57-sample ACC test frame. Also: a frame that comes
twice or late (a duplicate / out-of-order, not "malformed"), and a sensor clock that is reset
(a reboot, setLocalTime: documentation/TimeSystemExplained.md) or jumps ahead."""

import struct

import numpy as np
import pytest

from sensors.ble.admission import GateSettings
from sensors.ble.codecs import polar_pmd as pmd
from sensors.ble.ingest import SensorIngest
from sensors.ble.polar_decoder import PolarDecoder
from sensors.constants import GRAVITY_M_S2
from sensors.health import health_warnings
from sensors.placements import Placement
from tests.sensors.ble.vectors import polar_pmd as vectors

RATE = 52
PERIOD_NS = 1e9 / RATE
T0_NS = 820_000_000_000_000_000  # 2026 in Polar time (ns since 2000)
HOST0_NS = 5_000_000_000_000
ACC, GYRO = 0x02, 0x05
ACC_FACTOR = float(np.float32(2.44e-4))  # G a count at ±8 G (the SDK's ACC test factor)


def vendor_frame(kind: int, last_ns: int, counts: np.ndarray, width: int = 16) -> bytes:
    """A delta-compressed PMD frame (frame type 0x80: int16 reference x, y, z; one block
    [bit width, count, deltas bit-packed least significant bit first, sample by sample, channel
    by channel]) laid out by hand from the SDK's parser, independent of stabmon's encoder."""
    counts = np.asarray(counts, dtype=np.int64)
    out = struct.pack("<BQB", kind, last_ns, 0x80) + struct.pack("<3h", *map(int, counts[0]))
    deltas = np.diff(counts, axis=0).reshape(-1)
    if len(deltas):
        bits = "".join(format(int(d) & ((1 << width) - 1), f"0{width}b")[::-1] for d in deltas)
        bits += "0" * (-len(bits) % 8)
        out += bytes([width, len(counts) - 1])
        out += bytes(int(bits[i : i + 8][::-1], 2) for i in range(0, len(bits), 8))
    return out


def slot_counts(kind: int, first: int, n: int) -> np.ndarray:
    """Counts (n, 3) that name their slot: ACC (k, −k, 4000), GYRO (k, 7, −k), k = slot % 1000."""
    k = (first + np.arange(n)) % 1000
    if kind == ACC:
        return np.stack([k, -k, np.full(n, 4000)], 1)
    return np.stack([k, np.full(n, 7), -k], 1)


def stream(kind: int, sizes: list[int], lag_frames: int = 0, skip=(), first: int = 0, clock0_ns: int = T0_NS):
    """(host ns, bytes) of consecutive frames of `sizes` samples from slot `first`; each arrives
    40 ms after its last sample, or `lag_frames` frames later (framed independently); frames
    whose index is in `skip` are lost."""
    out, start, ends = [], first, []
    for size in sizes:
        ends.append(start + size - 1)
        start += size
    start = first
    for index, size in enumerate(sizes):
        stamp = clock0_ns + round(ends[index] * PERIOD_NS)
        arrive = ends[min(index + lag_frames, len(ends) - 1)]
        host = HOST0_NS + round(arrive * PERIOD_NS) + 40_000_000 + (1_000_000 if kind == GYRO else 0)
        if index not in skip:
            out.append((host, vendor_frame(kind, stamp, slot_counts(kind, start, size))))
        start += size
    return out


def ingest() -> SensorIngest:
    return SensorIngest(Placement.PELVIS, PolarDecoder(RATE, ACC_FACTOR, 1.0), GateSettings(RATE))


def feed(ingest: SensorIngest, *streams) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Notifications in arrival order; (sequence, device time s, acc counts, gyr °/s) out."""
    blocks = []
    for host, data in sorted((f for s in streams for f in s), key=lambda f: f[0]):
        block = ingest.notification(pmd.DATA_UUID, data, host)
        if block is not None:
            blocks.append(block)
    seq = np.concatenate([b.sequence for b in blocks])
    t = np.concatenate([b.device_time_s for b in blocks])
    acc = np.concatenate([b.acc_m_s2 for b in blocks]) / GRAVITY_M_S2 / ACC_FACTOR
    gyr = np.degrees(np.concatenate([b.gyr_rad_s for b in blocks]))
    assert np.all(np.diff(seq) > 0) and np.all(np.diff(t) > 0)
    return seq, t, acc, gyr


def paired_right(acc: np.ndarray, gyr: np.ndarray) -> None:
    """Every output sample's ACC and GYRO come from the same slot."""
    np.testing.assert_allclose(acc[:, 0], gyr[:, 0], atol=1e-3)
    np.testing.assert_allclose(gyr[:, 1], 7.0)


@pytest.mark.parametrize("lag_frames", [0, 1, 2])
def test_real_size_frames_lose_no_sample_on_a_perfect_radio(lag_frames):
    """71-sample frames (more than the 52 a 1-s wait covered); GYRO's frame of the same samples
    comes with ACC's frame, the next one or the one after: every sample is paired, once."""
    sizes = [71] * 30
    path = ingest()
    seq, t, acc, gyr = feed(path, stream(ACC, sizes), stream(GYRO, sizes, lag_frames))
    n = sum(sizes) - 71 * lag_frames  # the last frames' partners have not come yet
    assert len(seq) >= n
    np.testing.assert_array_equal(seq, np.arange(len(seq)))
    paired_right(acc, gyr)
    np.testing.assert_allclose(acc[:, 0], np.arange(len(seq)) % 1000, atol=1e-3)
    np.testing.assert_allclose(np.diff(t), 1 / RATE, rtol=1e-6)
    assert path.decoder.unpaired_samples == 0 and path.decode_errors == 0


def test_differently_framed_streams_of_real_size_pair_every_sample():
    """ACC in 71-sample frames, GYRO in frames of 64–78 that end elsewhere."""
    acc_sizes = [71] * 20
    gyr_sizes = [64, 78] * 10
    path = ingest()
    seq, _, acc, gyr = feed(path, stream(ACC, acc_sizes), stream(GYRO, gyr_sizes, lag_frames=1))
    assert len(seq) >= 1420 - 78
    np.testing.assert_array_equal(seq, np.arange(len(seq)))
    paired_right(acc, gyr)
    assert path.decoder.unpaired_samples == 0


def test_the_sdks_own_57_sample_acc_frame_pairs_whole():
    """The SDK's ACC test frame (57 samples: over one second at 52 Hz), re-stamped frame after
    frame, against GYRO frames of 57 that arrive one frame late: nothing is dropped."""
    body = bytes.fromhex(vectors.ACC_C0)[10:]  # after type, u64 time stamp, frame type
    frames = 12
    acc = [
        (
            HOST0_NS + round((57 * f + 56) * PERIOD_NS) + 40_000_000,
            struct.pack("<BQB", ACC, T0_NS + round((57 * f + 56) * PERIOD_NS), 0x80) + body,
        )
        for f in range(frames)
    ]
    path = SensorIngest(Placement.LUMBAR, PolarDecoder(RATE, ACC_FACTOR, 1.0), GateSettings(RATE))
    seq, _, acc_counts, gyr = feed(path, acc, stream(GYRO, [57] * frames, lag_frames=1))
    acc_mg = acc_counts * ACC_FACTOR * 1000
    assert len(seq) == 57 * frames
    np.testing.assert_array_equal(seq, np.arange(len(seq)))
    np.testing.assert_allclose(gyr[:, 0], np.arange(len(seq)))  # GYRO slot k met ACC slot k
    np.testing.assert_allclose(np.trunc(acc_mg[0]), (464, 6679, -7144))  # the SDK test's values
    assert path.decoder.unpaired_samples == 0


def test_a_lost_frame_is_a_gap_of_its_samples_and_a_missing_stream_is_not_waited_for_ever():
    sizes = [71] * 12
    path = ingest()
    seq, _, acc, gyr = feed(path, stream(ACC, sizes, skip={4}), stream(GYRO, sizes, lag_frames=1))
    missing = np.setdiff1d(np.arange(seq[0], seq[-1] + 1), seq)
    np.testing.assert_array_equal(missing, np.arange(4 * 71, 5 * 71))
    paired_right(acc, gyr)
    alone = PolarDecoder(RATE, ACC_FACTOR, 1.0)
    for host, data in stream(ACC, [71] * 20):
        assert alone.decode(pmd.DATA_UUID, data, host) is None
    assert len(alone._pending[pmd.MeasurementType.ACC][0]) <= 4 * 71  # three frames' wait, no more


def test_a_frame_that_comes_twice_or_late_is_counted_as_such_not_as_malformed():
    sizes = [71] * 10
    acc, gyr = stream(ACC, sizes), stream(GYRO, sizes)
    acc.insert(4, (acc[3][0] + 2_000_000, acc[3][1]))  # frame 3 again, just after itself
    gyr[6], gyr[7] = (gyr[7][0], gyr[6][1]), (gyr[6][0] + 1, gyr[7][1])  # frames 6, 7 swapped
    path = ingest()
    seq, _, acc_out, gyr_out = feed(path, acc, gyr)
    paired_right(acc_out, gyr_out)
    counts = path.gate.counts
    assert (counts.duplicates, counts.out_of_order, path.decode_errors) == (1, 1, 0)
    missing = np.setdiff1d(np.arange(seq[0], seq[-1] + 1), seq)
    np.testing.assert_array_equal(missing, np.arange(6 * 71, 7 * 71))  # the late frame's samples
    words = " ".join(health_warnings(path.health(path.tracker.snapshot(0))))
    assert "1 duplicated notifications dropped" in words and "1 out-of-order" in words
    assert "malformed" not in words


@pytest.mark.parametrize(
    "new_clock0_ns", [3_600_000_000_000, T0_NS + 3 * 3600 * 10**9], ids=["reset", "ahead"]
)
def test_a_clock_that_is_reset_or_jumps_starts_a_new_epoch_and_streaming_goes_on(new_clock0_ns):
    """At 10 s the sensor's clock restarts near its default (a reboot), or is set 3 h ahead
    (setLocalTime), with 20 s of host time between the epochs' starts: the stream goes on after
    a flagged gap as long as host time says (~9 s without data), and the sensor says so."""
    before, after = [71] * 8, [71] * 8  # ~10.9 s, then the same again
    acc = stream(ACC, before) + [(h + 20 * 10**9, d) for h, d in stream(ACC, after, clock0_ns=new_clock0_ns)]
    gyr = stream(GYRO, before) + [
        (h + 20 * 10**9, d) for h, d in stream(GYRO, after, clock0_ns=new_clock0_ns)
    ]
    path = ingest()
    seq, t, acc_out, gyr_out = feed(path, acc, gyr)
    paired_right(acc_out, gyr_out)
    assert len(seq) == 2 * 8 * 71 and path.decode_errors == 0
    assert path.gate.counts.restarts == 1 and path.gate.counts.rejected == 0
    jump = int(np.argmax(np.diff(seq)))
    assert jump == 8 * 71 - 1 and np.diff(seq)[jump] > 1  # a flagged gap between the epochs
    assert 8.5 < t[jump + 1] - t[jump] < 10.5  # spliced by host time
    health = path.health(path.tracker.snapshot(HOST0_NS), origin_ns=HOST0_NS)
    words = health_warnings(health)
    reset_at = (path.gate.counts.clock_resets_ns[0] - HOST0_NS) * 1e-9
    assert f"pelvis sensor's clock was reset at {reset_at:.1f} s (new clock epoch, gap flagged)" in words
    assert 20.0 < reset_at < 26.0 and not any("malformed" in w for w in words)
