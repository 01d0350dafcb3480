"""A protocol's next repetition starts only while every sensor streams: with one known to be
reconnecting, lost or silent it waits, telling the clinician why, until the sensor streams again
(the link reconnects by itself) or the clinician skips the repetition or stops the protocol.
Recorded anyway, the repetition's measures of that sensor were "Not measured" (walkthrough s11
#6: a dual-task repetition ran its 30 s with the lumbar sensor dead)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace

from engine.messages import HealthReport, Notice, Phase, Report, RunStatus, Severity, Topic
from sensors.health import health_warnings, no_data_text
from sensors.placements import Placement
from sensors.source import LinkState, SensorHealth, Source

#: How often (s) the sensors are looked at, and status and health sent, while waiting.
POLL_S = 0.1
#: What the patient reads while the repetition waits (the clinician reads why in the notice).
PATIENT_WORDS = "Please wait a moment."


def not_streaming(health: Mapping[Placement, SensorHealth], silence_counts: bool = True) -> list[str]:
    """Why each sensor that could not record now cannot ("lumbar sensor: connection dropped,
    reconnecting…"), empty while every one streams. silence_counts: a connected sensor that has
    sent nothing for over `sensors.health.SILENCE_WARNING_S` counts (a source drawn from only
    while it records cannot tell)."""
    why = []
    for placement, h in health.items():
        if h.state in (LinkState.RECONNECTING, LinkState.LOST):
            why.extend(health_warnings(h)[:1])
        elif silence_counts and h.state is LinkState.STREAMING and (silent := no_data_text(h)):
            why.append(f"{placement.value} sensor: {silent}")
    return why


class SensorWait:
    """Holds a repetition until its sensors stream. status / send: the engine's reporting;
    stop / skip: the clinician's Stop and Skip repetition (Space; Go now at other times)."""

    def __init__(
        self,
        status: Callable[[RunStatus], None],
        send: Callable[[Report], None],
        stop: threading.Event,
        skip: threading.Event,
    ) -> None:
        self._status = status
        self._send = send
        self._stop = stop
        self._skip = skip

    def _notice(self, severity: Severity, text: str) -> None:
        self._send(Notice(severity, text, Topic.RECORDING))

    async def ready(self, source: Source, base: RunStatus, silence_counts: bool = True) -> bool:
        """True once every sensor of `source` streams (at once when they do); False when the
        clinician stopped, or skipped the repetition of `base`."""
        if self._stop.is_set():
            return False
        why = not_streaming(source.health(), silence_counts)
        if not why:
            return True
        self._skip.clear()
        repetition = f"Repetition {base.repetition}"
        self._notice(
            Severity.WARNING,
            f"{repetition} waits for the sensors ({'; '.join(why)}). It starts when every sensor "
            "streams again; Skip repetition (Space) leaves it unrecorded, Stop (Esc) ends the protocol.",
        )
        waiting = replace(base, phase=Phase.WAITING_FOR_SENSORS, instruction=PATIENT_WORDS)
        while why:
            if self._stop.is_set():
                return False
            if self._skip.is_set():
                skipped = f"{repetition} was skipped, not recorded ({'; '.join(why)})."
                self._notice(Severity.WARNING, skipped)
                return False
            self._status(waiting)
            self._send(HealthReport(dict(source.health())))
            await asyncio.sleep(POLL_S)
            why = not_streaming(source.health(), silence_counts)
        self._notice(Severity.INFO, f"The sensors stream again: {repetition.lower()} starts.")
        return True
