"""Operator marks reach the sinks at the host time they were made, from any thread."""

import asyncio
import threading
import time

import pytest

from sensors.events import EventKind
from sensors.processing import SessionRunner, SessionSettings
from sensors.simulator import DrillOptions, SimulatedSource, make_drill
from tests.conftest import CollectingSink


def test_a_mark_from_another_thread_is_recorded_at_the_moment_it_was_made():
    source = SimulatedSource(make_drill("quiet-stance", DrillOptions(duration_s=4.0)), realtime=True)
    sink = CollectingSink()
    runner = SessionRunner(source, [sink], SessionSettings())
    with pytest.raises(RuntimeError, match="not started"):
        runner.mark(EventKind.PERTURBATION)
    made = []

    def clinician():
        while runner._origin_ns is None:  # wait for the session to start
            time.sleep(0.01)
        time.sleep(1.5)
        # Bracketed by the clock before and after: a busy computer may pause this thread anywhere.
        before_s = (time.monotonic_ns() - source.host_origin_ns) * 1e-9
        event = runner.mark(EventKind.PERTURBATION, "push forward")
        made.append((event, before_s, (time.monotonic_ns() - source.host_origin_ns) * 1e-9))

    thread = threading.Thread(target=clinician)
    thread.start()
    asyncio.run(runner.run())
    thread.join()
    ((event, before_s, after_s),) = made
    recorded = [e for e in sink.events if e.source == "operator"]
    assert recorded == [event] and event.kind is EventKind.PERTURBATION
    assert before_s - 1e-6 <= event.time_s <= after_s + 1e-6 and event.time_s >= 1.5 - 1e-6
