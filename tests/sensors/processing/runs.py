"""The runner by hand over a source a test made (a synthetic one, a faulty simulator): for tests
of the runner, the synchroniser and the processing themselves. Sessions of a whole drill go
through engine.factory (`tests.conftest.simulate`)."""

from __future__ import annotations

import asyncio

from sensors.processing import SessionRunner, SessionSettings
from sensors.processing.session import SessionReport
from sensors.source import Source
from tests.conftest import CollectingSink


def run_session(
    source: Source, settings: SessionSettings | None = None
) -> tuple[CollectingSink, SessionReport]:
    """Run `source` through a `SessionRunner` with `settings` to its end; returns (sink, report)."""
    sink = CollectingSink()
    report = asyncio.run(SessionRunner(source, [sink], settings).run())
    return sink, report
