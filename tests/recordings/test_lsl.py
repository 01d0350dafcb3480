"""Lab Streaming Layer with the real liblsl on this host: our outlets' samples and metadata
arrive intact in an inlet; markers from another program's outlet become session events."""

import asyncio
from dataclasses import replace

import numpy as np
import pytest

pylsl = pytest.importorskip("pylsl")
pytestmark = pytest.mark.xdist_group("lsl")  # one worker: LSL stream names are network-wide

from engine.factory import open_source, session_runner  # noqa: E402
from engine.spec import LslSpec  # noqa: E402
from recordings.lsl import LslError, LslMarkerInlet, LslOutletSink, marker_event  # noqa: E402
from sensors.events import EventKind  # noqa: E402
from sensors.processing import SessionSettings  # noqa: E402
from sensors.simulator import DrillOptions, make_drill  # noqa: E402
from tests.conftest import CollectingSink, simulated_spec  # noqa: E402


def _inlet(name: str):
    found = pylsl.resolve_byprop("name", name, 1, 5.0)
    assert found, f"stream {name} not visible"
    inlet = pylsl.StreamInlet(found[0], max_buflen=360)
    inlet.open_stream(timeout=5.0)
    return inlet


def _pull_all(inlet, expected: int, timeout_s: float = 10.0):
    samples, stamps = [], []
    loop_end = pylsl.local_clock() + timeout_s
    while len(stamps) < expected and pylsl.local_clock() < loop_end:
        chunk, times = inlet.pull_chunk(timeout=0.2)
        samples += chunk
        stamps += times
    return np.array(samples), np.array(stamps)


def test_outlets_carry_frames_angles_markers_and_metadata():
    drill = make_drill("forward-bend", DrillOptions(duration_s=8.0, seed=3))
    spec = simulated_spec(3, SessionSettings(rate_hz=100.0))
    collected = CollectingSink()

    async def run() -> tuple[LslOutletSink, int]:  # the outlets under test, named apart from a session's
        async with open_source(spec, drill, keep_sampling_s=0.0) as opened:  # to the drill's end
            sink = LslOutletSink(opened.source.sensors, 100.0, prefix="stabmon-test1")
            runner = session_runner(spec, opened.source, [collected, sink])
            inlets.extend(_inlet(f"stabmon-test1-{n}") for n in ("lumbar", "angles", "markers"))
            await runner.run()
            return sink, opened.source.host_origin_ns

    inlets: list = []
    _outlets, origin_ns = asyncio.run(run())  # kept: the outlets live while the inlets read
    imu, angles, markers = inlets
    info = imu.info()
    desc = info.desc()
    assert info.type() == "IMU" and info.channel_count() == 6
    assert desc.child_value("placement") == "lumbar" and desc.child_value("family") == "simulated"
    first = desc.child("channels").child("channel")
    assert (first.child_value("label"), first.child_value("unit")) == ("acc_x", "m/s^2")
    frame, all_angles = collected.frame, collected.all_angles
    values, stamps = _pull_all(imu, len(frame))
    assert len(stamps) == len(frame)
    np.testing.assert_allclose(values[:, :3], frame.acc_m_s2[:, 0], equal_nan=True)
    np.testing.assert_allclose(values[:, 3:], frame.gyr_rad_s[:, 0], equal_nan=True)
    np.testing.assert_allclose(stamps - origin_ns * 1e-9, frame.time_s, atol=1e-6)
    angle_values, _ = _pull_all(angles, len(frame))
    np.testing.assert_allclose(
        angle_values[:, 0], np.degrees(all_angles.inclination_rad[:, 0, 0]), equal_nan=True
    )
    np.testing.assert_allclose(angle_values[:, -3], np.degrees(all_angles.lumbar_rad[:, 0]), equal_nan=True)
    texts, _ = _pull_all(markers, len(collected.events))
    assert [t[0] for t in texts] == [f"{e.kind.value}:{e.label}" for e in collected.events]


def test_external_markers_become_events_at_the_right_session_time():
    """A stimulus program's outlet pushes markers during a real-time session; measured: the
    recorded event time equals the marker's LSL time mapped to session time to within 2 ms."""
    info = pylsl.StreamInfo("test-platform", "Markers", 1, pylsl.IRREGULAR_RATE, "string", "platform-1")
    platform = pylsl.StreamOutlet(info)
    drill = make_drill("quiet-stance", DrillOptions(duration_s=4.0, seed=1))
    spec = replace(
        simulated_spec(1, SessionSettings(rate_hz=100.0), realtime=True),
        lsl=LslSpec(markers="test-platform"),  # the factory resolves the inlet and wraps the source
    )
    pushed = []

    async def push_markers():
        await asyncio.sleep(1.0)
        for text in ("perturbation:platform tilt", "dual task start"):
            stamp = pylsl.local_clock()
            platform.push_sample([text], stamp)
            pushed.append(stamp)
            await asyncio.sleep(1.0)

    async def run():
        collected = CollectingSink()
        async with open_source(spec, drill, keep_sampling_s=0.0) as opened:  # to the drill's end
            pusher = asyncio.create_task(push_markers())
            await session_runner(spec, opened.source, [collected]).run()
            await pusher
            return collected, opened.source.host_origin_ns

    collected, origin_ns = asyncio.run(run())
    got = [e for e in collected.events if e.source == "lsl:test-platform"]
    assert [(e.kind, e.label) for e in got] == [
        (EventKind.PERTURBATION, "platform tilt"),
        (EventKind.ANNOTATION, "dual task start"),
    ]
    origin_s = origin_ns * 1e-9
    for event, stamp in zip(got, pushed, strict=True):
        assert event.time_s == pytest.approx(stamp - origin_s, abs=0.002)


def test_a_missing_stream_is_a_clear_error():
    with pytest.raises(LslError, match="no LSL stream named 'nobody-here' found"):
        LslMarkerInlet.resolve(name="nobody-here", timeout_s=0.5)
    assert marker_event("task_start:plank", 1.0, "s").kind is EventKind.TASK_START
    assert marker_event("hello", 1.0, "s").kind is EventKind.ANNOTATION


def test_a_missing_liblsl_is_a_clear_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pylsl", None)  # as if the library could not be loaded
    with pytest.raises(LslError, match="Lab Streaming Layer library cannot be loaded"):
        LslOutletSink({}, 100.0)
