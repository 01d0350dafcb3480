"""A stall in the middle of a session (a host or radio busy for 3 s, which then delivers what
queued at once): the start hold (`sensors.processing.start_hold`) protects only the start, so
this checks that the clock fit keeps mapping a late burst by the sensor's own clock later on too.
The recording's arrival log is re-timed as the stall would have delivered it, and the replay (the
live runner's mapping and synchroniser, block by block in arrival order) runs on it."""

import asyncio
import dataclasses

import numpy as np
import pytest

from engine.factory import record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from recordings.replay import recorded_stream
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.processing.batch_session import RecordedStream, run_batched

SECONDS, STALL = 12.0, (4.0, 7.0)
#: One queued packet (4 samples) delivered every this many s once the stall ends.
DRAIN_S = 0.0005


@pytest.fixture(scope="module")
def stream(tmp_path_factory) -> RecordedStream:
    path = tmp_path_factory.mktemp("stall") / "s.h5"
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=7, realtime=False),
        processing=SessionSettings(rate_hz=100.0, duration_s=SECONDS),
    )
    asyncio.run(record(spec, "R1", path, "quiet-stance", SECONDS + 1.0, delivery_s=0.0004))
    return recorded_stream(read_recording(path))


def _stalled(
    stream: RecordedStream, who: tuple[Placement, ...]
) -> tuple[RecordedStream, dict[Placement, int]]:
    """The stream as a stall of `who` delivers it: every sample received in STALL arrives at its
    end, a packet every DRAIN_S, blocks in arrival order; and how many samples each held."""
    start_ns, end_ns = (stream.host_origin_ns + round(s * 1e9) for s in STALL)
    host, held = {}, {}
    for p in stream.placements:
        h = np.asarray(stream.host_receive_ns[p]).copy()
        queued = (h >= start_ns) & (h < end_ns) if p in who else np.zeros(len(h), bool)
        h[queued] = end_ns + (np.cumsum(queued)[queued] - 1) // 4 * round(DRAIN_S * 1e9)
        host[p], held[p] = h, int(queued.sum())
    blocks, done = [], dict.fromkeys(stream.placements, 0)
    for k, rows in zip(np.asarray(stream.placement_index), np.asarray(stream.rows), strict=True):
        p = stream.placements[k]
        done[p] += int(rows)
        blocks.append((int(host[p][done[p] - 1]), len(blocks), int(k), int(rows)))
    blocks.sort()  # by arrival; a sensor's own blocks keep their order
    index = np.array([b[2] for b in blocks])
    rows = np.array([b[3] for b in blocks])
    return dataclasses.replace(
        stream, host_receive_ns=host, placement_index=index, rows=rows, session_time_s=None
    ), held


@pytest.mark.parametrize(
    "who", [(Placement.LUMBAR, Placement.PELVIS), (Placement.PELVIS,)], ids=["host", "one-radio"]
)
def test_a_mid_session_stall_is_mapped_by_the_sensor_clock_and_every_sample_accounted_for(stream, who):
    stalled, held = _stalled(stream, who)
    assert all(held[p] > 250 for p in who)  # ~3 s of 100 Hz samples came late
    frames = []
    session = run_batched(
        stalled, SessionSettings(rate_hz=100.0, duration_s=SECONDS), lambda f, a: frames.append(f)
    )
    for p in stream.placements:
        device = np.asarray(stream.device_time_s[p], float)
        mapped = session.session_time_s[p]
        # The burst keeps the sensor clock's spacing: not squeezed into its arrival.
        np.testing.assert_allclose(mapped - mapped[0], device - device[0], atol=0.003)
        received = (np.asarray(stalled.host_receive_ns[p]) - stream.host_origin_ns) * 1e-9
        assert np.all(mapped <= received + 1e-9)  # nothing placed after it arrived
    valid, t = np.concatenate([f.valid for f in frames]), np.concatenate([f.time_s for f in frames])
    ends = [session.session_time_s[p][[0, -1]] for p in stream.placements]
    valid = valid[(t >= max(e[0] for e in ends)) & (t <= min(e[1] for e in ends))]  # where both sampled
    missing = {p: int((~valid[:, k]).sum()) for k, p in enumerate(frames[0].placements)}
    if len(who) == 2:  # the host stalled: nothing came for anyone, nothing was late
        assert missing == dict.fromkeys(stream.placements, 0) and session.late_samples == 0
    else:  # the others' frames went on after the synchroniser's wait: the burst came too late
        assert missing[Placement.LUMBAR] == 0 and 0 < missing[Placement.PELVIS] < held[Placement.PELVIS]
        # ... each such sample is counted late (said in the summary), none silently lost.
        assert session.late_samples == pytest.approx(missing[Placement.PELVIS], abs=2)
