"""A stall in the middle of a recording (notifications sent between 4 and 7 s queue and all
arrive at 7 s, as from a host or radio busy for 3 s): the start hold
(`sensors.processing.start_hold`) protects only the start, so this checks that the clock fit
keeps mapping a late burst by the sensor's own clock later on too; that every sample reaches the
frames or is counted late; and that `analyze` says how much came too late for the frames.
(Before: nothing said it.)

The live clock mapping runs under the simulated radio's `stall_s` and is read back with h5py.
The fast simulated source hands over its sensors' blocks in the order they were made, not the
order they arrived, so the frames part re-times a recording's arrival log as an in-order link
would have delivered the stall (the arrival times and the block order, written into a copy
with h5py), and replays and analyses that copy as it stands."""

import asyncio
import re
import shutil

import h5py
import numpy as np
import pytest

from engine.factory import Impairments, record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from recordings.analysis import replay
from sensors.placements import Placement
from sensors.processing import SessionSettings
from sensors.simulator import RadioSettings
from sensors.simulator.radio import BACKLOG_DRAIN_S
from stabmon.cli import main

SECONDS, STALL = 14.5, (4.0, 7.0)  # a task (3 s on) as long as the stance measures need
BOTH, ONE = (Placement.LUMBAR, Placement.PELVIS), (Placement.PELVIS,)


def _record(path, radio: dict[Placement, RadioSettings]):
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=7, realtime=False),
        processing=SessionSettings(rate_hz=100.0, duration_s=SECONDS),
    )
    asyncio.run(record(spec, "R1", path, "quiet-stance", SECONDS + 1.0, impairments=Impairments(radio=radio)))
    return path


@pytest.fixture(scope="module")
def stalled(tmp_path_factory):
    """A recording whose pelvis radio stalled (`RadioSettings.stall_s`), and one without a stall."""
    out = tmp_path_factory.mktemp("stall")
    radio = _record(
        out / "radio.h5",
        {
            Placement.LUMBAR: RadioSettings(),
            Placement.PELVIS: RadioSettings(host_stalls=((STALL[0], STALL[1] - STALL[0]),)),
        },
    )
    return radio, _record(out / "plain.h5", dict.fromkeys(BOTH, RadioSettings()))


def _retimed(plain, who: tuple[Placement, ...], out):
    """A copy of `plain` as an in-order link delivers a stall of `who`: their notifications
    received in STALL arrive at its end, one every BACKLOG_DRAIN_S, and every block in the
    arrival log is where its (new) arrival puts it; how many samples were held, per sensor."""
    shutil.copyfile(plain, out)
    held = {}
    with h5py.File(out, "r+") as f:
        arrival = f["acquisition/arrival"]
        origin = int(arrival["host_origin_ns"][0])
        start_ns, end_ns = (origin + round(s * 1e9) for s in STALL)
        host = {}
        for p in BOTH:
            h = f[f"acquisition/{p.value}/host_receive_ns"][:]
            queued = (h >= start_ns) & (h < end_ns) if p in who else np.zeros(len(h), bool)
            h[queued] = end_ns + (np.cumsum(queued)[queued] - 1) // 4 * round(BACKLOG_DRAIN_S * 1e9)
            f[f"acquisition/{p.value}/host_receive_ns"][:] = h
            host[p], held[p] = h, int(queued.sum())
        names = [Placement(p) for p in f.attrs["placements"]]
        index, rows = arrival["placement_index"][:], arrival["rows"][:]
        done, blocks = dict.fromkeys(names, 0), []
        for n, (k, r) in enumerate(zip(index, rows, strict=True)):
            p = names[k]
            done[p] += int(r)
            blocks.append((int(host[p][done[p] - 1]), n))
        order = [n for _, n in sorted(blocks)]  # by arrival; a sensor's own blocks keep their order
        arrival["placement_index"][:], arrival["rows"][:] = index[order], rows[order]
    return out, held


def test_a_mid_session_stall_is_mapped_by_the_sensor_clock(stalled):
    with h5py.File(stalled[0], "r") as f:
        origin = int(f["acquisition/arrival/host_origin_ns"][0])
        for placement in BOTH:
            g = f[f"acquisition/{placement.value}"]
            device = g["device_time_s"][:] - g["device_time_s"][0]
            session = g["session_time_s"][:]
            received = (g["host_receive_ns"][:] - origin) * 1e-9
            if placement is Placement.PELVIS:  # the stall did hold its notifications back
                assert np.all(received[(device > STALL[0] + 0.1) & (device < STALL[1] - 0.1)] >= STALL[1])
            # ... but they are placed where the sensor sampled them, not where they arrived.
            np.testing.assert_allclose(session - session[0], device, atol=0.003)
            assert np.all(session <= received + 1e-9)


@pytest.mark.parametrize("who", [BOTH, ONE], ids=["host", "one-radio"])
def test_every_sample_reaches_the_frames_or_is_counted_late_and_said(stalled, who, tmp_path, capsys):
    path, held = _retimed(stalled[1], who, tmp_path / "retimed.h5")
    assert all(held[p] > 250 for p in who)  # ~3 s of 100 Hz samples came late
    recording = read_recording(path)
    session = replay(recording, running_measures=False)
    frame = session.collector.frame
    ends = [recording.session_time_s[p][[0, -1]] for p in BOTH]
    both = (frame.time_s >= max(e[0] for e in ends)) & (frame.time_s <= min(e[1] for e in ends))
    missing = {p: int((~frame.valid[both, frame.index(p)]).sum()) for p in BOTH}
    late = session.report.late_samples
    capsys.readouterr()
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    said = re.search(r"(\d+\.\d) s of sensor data came in after their frames had gone out live", out)
    if who == BOTH:  # nothing came for anyone: the frames waited, none is missing
        assert missing == dict.fromkeys(BOTH, 0) and late == 0 and said is None, out
    else:  # the lumbar's frames went on after the synchroniser's wait: the pelvis burst came late
        assert missing[Placement.LUMBAR] == 0 and 100 < missing[Placement.PELVIS] < held[Placement.PELVIS]
        assert late == pytest.approx(missing[Placement.PELVIS], abs=2)
        assert said is not None and float(said.group(1)) == pytest.approx(late / 100, abs=0.05), out
