"""The engine's outbox sends the live data of an interval as one message, in order, without the
engine waking its sender thread for every frame."""

from __future__ import annotations

import multiprocessing

from engine.messages import JobDone, Live, Notice, Severity
from engine.process import Outbox


def test_live_reports_of_an_interval_go_as_one_message_in_order():
    receive, send = multiprocessing.Pipe(duplex=False)
    outbox = Outbox(send)
    outbox.send(Notice(Severity.INFO, "first"))
    for k in range(300):
        outbox.send(Live((("frame", k),)))
    outbox.send(JobDone())
    outbox.close()
    got = []
    while receive.poll(1.0):
        got.append(receive.recv())
    assert isinstance(got[0], Notice) and isinstance(got[-1], JobDone)
    live = [r for r in got if isinstance(r, Live)]
    assert [item[1] for r in live for item in r.items] == list(range(300))
    assert len(live) < 10  # one per send interval, not one per frame (was 300)
