"""How a session ends without losing what its source holds back: at the stop it reads on for the
frames that complete samples which arrived before it (a Polar's ACC waiting for its GYRO frame),
and once the source is stopped it reads the source's stream to its end and takes what the
source's decoders still hold (`sensors.source.drain`: a WitMotion decoder's packets held to judge
a delay). Everything goes through the runner's own path (clock mapping, sinks, the file)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from sensors.source import Source, SourceItem, awaits_frames, drain, drains

if TYPE_CHECKING:  # asyncio is imported where a session runs: `stabmon analyze` never loads it
    import asyncio

#: Longest (s) a stopped session reads on for frames that complete samples its source holds (a
#: Polar Verity Sense sends its ACC and GYRO frames 1–2 s apart, independently).
READ_ON_S = 3.0
#: Longest (s) a stopped source's stream may take to end.
STOP_READ_S = 1.0


class SessionEnd:
    """The end of one session's `stream` (an iterator over `source.stream()`): `read_on` at the
    stop, `finish` once the source is stopped; `on_item` takes every item as the session does."""

    def __init__(
        self, source: Source, stream: AsyncIterator[SourceItem], on_item: Callable[[SourceItem], None]
    ) -> None:
        self.source = source
        self.stream = stream
        self.on_item = on_item
        self._reading: asyncio.Future[SourceItem] | None = None  # a read left waiting

    async def read_on(self, stop_ns: int) -> None:
        """At the stop (host time stop_ns), read on while the source holds samples that arrived
        by then and that a frame on its way completes, for at most READ_ON_S. A read still
        waiting when the time is up is left to `finish` (not cancelled: its item is not lost)."""
        import asyncio

        deadline = time.monotonic() + READ_ON_S
        while awaits_frames(self.source, stop_ns) and (left := deadline - time.monotonic()) > 0:
            reading = asyncio.ensure_future(anext(self.stream))
            done, _ = await asyncio.wait([reading], timeout=left)
            if not done:
                self._reading = reading
                return
            if isinstance(reading.exception(), StopAsyncIteration):
                return
            self.on_item(reading.result())

    async def finish(self) -> None:
        """Once the source is stopped, if it drains: its stream to its end (what was queued, and
        what a wrapper held between its yields; at most STOP_READ_S), then what it holds."""
        if not drains(self.source):
            return
        import asyncio

        reading, self._reading = self._reading, None
        deadline = time.monotonic() + STOP_READ_S
        while (left := deadline - time.monotonic()) > 0:
            reading = reading or asyncio.ensure_future(anext(self.stream))
            done, _ = await asyncio.wait([reading], timeout=left)
            if not done or isinstance(reading.exception(), StopAsyncIteration):
                break
            self.on_item(reading.result())
            reading = None
        if reading is not None and not reading.done():
            reading.cancel()
        for item in drain(self.source):
            self.on_item(item)
