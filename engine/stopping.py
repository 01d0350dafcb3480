"""Waiting for a session runner asked to stop, in the engine: the runner stops at its next block
and then reads on for what its sensors still owe (`sensors.processing.session_end`); a runner
whose sensors are all silent never sees a block, so its source is ended for it."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from sensors.processing.session import SessionRunner

log = logging.getLogger(__name__)


#: How long (s) a stopped runner may take to see its next block before its source is ended.
STOP_GRACE_S = 0.5


async def runner_stopped(
    task: asyncio.Task[Any], runner: SessionRunner, timeout_s: float | None = None
) -> None:
    """Wait for a runner asked to stop (at its next block; then it reads on, `SessionEnd`). When
    its sensors are silent (all lost: no block comes), its source is ended so that it sees it."""
    done, _ = await asyncio.wait([task], timeout=STOP_GRACE_S)
    if not done and math.isnan(runner.stopped_at_s):
        log.info("no data for the stopped runner: ending its source")
        await runner.source.stop()
    if timeout_s is None:
        await task
    else:
        await asyncio.wait([task], timeout=timeout_s)
