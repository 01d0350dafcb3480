"""One sensor's path after the notification queue: stream decoder → `SampleGate` → health
(`SensorIngest`), and at the end of its stream what the decoder still holds (`drain`)."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace

from sensors.ble.admission import GateSettings, SampleGate
from sensors.ble.errors import DecodeError, StaleNotificationError
from sensors.ble.stream_decoders import Decoded, Drained, StreamDecoder
from sensors.health import HealthTracker
from sensors.placements import Placement
from sensors.samples import SampleBlock
from sensors.source import SensorHealth

log = logging.getLogger(__name__)


class SensorIngest:
    """One sensor's notifications after the queue: stream decoder → `SampleGate` → health.

    A decoder may raise only `DecodeError`; anything else it raises (a decoder bug met by bytes
    nobody foresaw) is counted and logged as a malformed notification too, so no notification
    can end a session. Logging is rate-limited to one line per `log_interval_s`."""

    def __init__(
        self,
        placement: Placement,
        decoder: StreamDecoder,
        settings: GateSettings,
        tracker: HealthTracker | None = None,
        log_interval_s: float = 10.0,
    ) -> None:
        self.placement = placement
        self.decoder = decoder
        slack_s = getattr(decoder, "arrival_slack_s", 0.0)  # a decoder whose blocks come late
        if slack_s > settings.arrival_slack_s:
            settings = replace(settings, arrival_slack_s=slack_s)
        self.gate = SampleGate(placement, settings)
        self.tracker = tracker if tracker is not None else HealthTracker(placement)
        self.tracker.rate_hz = settings.rate_hz
        self.tracker.loss_slack_s = max(self.tracker.loss_slack_s, self.gate.settings.arrival_slack_s)
        self.log_interval_s = log_interval_s
        self.decode_errors = 0
        self._last_log = -math.inf
        self._last_host_ns: int | None = None  # arrival of the last notification taken, ns

    def notification(self, characteristic: str, data: bytes, host_ns: int) -> SampleBlock | None:
        """The block this notification completes, in session order, or None."""
        restarts = getattr(self.decoder, "restarts", 0)
        duplicates = getattr(self.decoder, "duplicates", 0)
        skipped = getattr(self.decoder, "skipped_bytes", 0)
        self._last_host_ns = host_ns
        try:
            decoded = self.decoder.decode(characteristic, data, host_ns)
        except StaleNotificationError as stale:
            self.gate.drop(stale.duplicate)
            return None
        except DecodeError as error:
            self._malformed(str(error))
            return None
        except Exception as error:  # only DecodeError may leave a decoder: anything else is one too
            self._malformed(
                f"{type(error).__name__} decoding {len(data)} bytes {data[:24].hex(' ')}: {error}"
            )
            return None
        # A decoder that reads a byte stream (WitMotion) skips stray bytes and drops repeated
        # notifications itself: counted and said as the gate does for the others.
        for _ in range(getattr(self.decoder, "duplicates", 0) - duplicates):
            self.gate.note_duplicate()
        if getattr(self.decoder, "skipped_bytes", 0) != skipped:
            self._malformed(str(getattr(self.decoder, "last_skipped", "stray bytes skipped")))
        return self._admit(decoded, host_ns, restarts)

    def drain(self) -> tuple[SampleBlock | None, str]:
        """What the decoder still holds, given up at the end of the stream (the session stops, the
        sensor went away): (the block it makes, in session order, or None; what could not be
        judged or was left out, in words, "" when nothing). Its samples are stamped with the
        arrival of the last notification the decoder took (when they were all known)."""
        drain = getattr(self.decoder, "drain", None)
        if drain is None or self._last_host_ns is None:
            return None, ""
        restarts, state = getattr(self.decoder, "restarts", 0), self.tracker.state
        drained: Drained = drain()
        block = self._admit(drained.decoded, self._last_host_ns, restarts)
        self.tracker.state = state  # samples it held back are no sign that the sensor streams
        return block, drained.unsure

    def _admit(self, decoded: Decoded | None, host_ns: int, restarts: int) -> SampleBlock | None:
        """Decoded samples through the gate into health; `restarts`: the decoder's count before."""
        if decoded is None or len(decoded.sequence) == 0:
            return None
        block = self.gate.admit(
            decoded.device_time_s,
            decoded.acc_m_s2,
            decoded.gyr_rad_s,
            decoded.sequence,
            host_ns,
            restarted=getattr(self.decoder, "restarts", 0) != restarts,
            why=getattr(self.decoder, "restart_reason", "") or "the sensor reports it restarted",
            clock_reset=bool(getattr(self.decoder, "restart_reason", "")),
        )
        if block is not None:
            self.tracker.update(block)
        return block

    def health(self, health: SensorHealth, origin_ns: int | None = None) -> SensorHealth:
        """`health` with what this path kept out of the session filled in; clock resets at
        session times when `origin_ns` (host ns of session time 0) is given."""
        counts = self.gate.counts
        resets_s = tuple(
            math.nan if origin_ns is None else (ns - origin_ns) * 1e-9 for ns in counts.clock_resets_ns
        )
        return replace(
            health,
            decode_errors=self.decode_errors,
            duplicates=counts.duplicates,
            out_of_order=counts.out_of_order,
            rejected_blocks=counts.rejected,
            rejected_samples=counts.rejected_samples,
            restarts=counts.restarts,
            clock_resets_s=resets_s,
        )

    def _malformed(self, problem: str) -> None:
        self.decode_errors += 1
        now = time.monotonic()
        if now - self._last_log >= self.log_interval_s:
            self._last_log = now
            log.warning(
                "%s sensor: malformed notification #%d: %s", self.placement.value, self.decode_errors, problem
            )
