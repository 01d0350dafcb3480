"""Per-sensor, stateful: notification bytes → samples in SI units with device times and sample
counters, whatever the protocol gives. Runs after the queue, never in the BLE callback.

Each protocol reaches the common form differently:
- stabmon profile: device time and a 32-bit sample counter in every packet (unwrapped here).
- Movella DOT: a 32-bit µs timestamp per sample (wraps after 71.6 min, unwrapped here); the
  counter is the timestamp in sample periods, so a lost notification shows as a jump.
- Polar PMD: ACC and GYRO arrive as separate, independently timed frames stamped with their
  last sample's time (ns); each stream is timed as the Polar SDK does (PmdTimeStampUtils) and
  counts its own losses, and the two are paired by time (`sensors.ble.polar_decoder`).
- WitMotion: no time and no counter. Each packet is the next sample; samples are counted lost
  only when the packet rate falls short of the nominal rate for a long time (`wit_timing`), so
  a late burst adds no gap. Times are the counter over the nominal rate: the crystal's error then
  shows as clock drift, which the clock mapping fits like any other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sensors.ble.codecs import movella_dot as dot
from sensors.ble.codecs import stabmon as profile
from sensors.ble.codecs import witmotion as wit
from sensors.ble.errors import StaleNotificationError
from sensors.ble.wit_timing import PacketTiming, PacketTimingSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decoded:
    """Samples from one or more notifications: device_time_s (n,), acc_m_s2 (n, 3),
    gyr_rad_s (n, 3), sequence (n,) int64."""

    device_time_s: np.ndarray
    acc_m_s2: np.ndarray
    gyr_rad_s: np.ndarray
    sequence: np.ndarray


class StreamDecoder(Protocol):
    """Decodes one sensor's notifications. A decoder that holds samples back (to judge a delay,
    to pair two streams) also has `drain() -> Drained`, what it holds given up at the end of
    its stream (`SensorIngest.drain` calls it when it is there)."""

    def decode(self, characteristic: str, data: bytes, host_ns: int) -> Decoded | None:
        """Samples carried by this notification (None when it completes nothing yet); raises
        DecodeError on malformed bytes, leaving the decoder's state unchanged."""
        ...


@dataclass(frozen=True)
class Drained:
    """What a decoder held, given up when its stream ends: the samples it can still time
    (None: none), and `unsure`: what it could not judge or had to leave out, in words ("" when
    nothing), for the recording's link events."""

    decoded: Decoded | None
    unsure: str = ""


class _Unwrap:
    """Unwraps a counter of `bits` bits into a monotonic int."""

    def __init__(self, bits: int) -> None:
        self.modulus = 1 << bits
        self.offset = 0
        self.last: int | None = None

    def __call__(self, value: int) -> int:
        if self.last is not None and value + self.offset < self.last - self.modulus // 2:
            self.offset += self.modulus
        self.last = value + self.offset
        return self.last


class StabmonDecoder:
    def __init__(self) -> None:
        self._sequence = _Unwrap(32)
        self.restarts = 0

    def decode(self, characteristic: str, data: bytes, host_ns: int) -> Decoded | None:
        packet = profile.ImuPacket.from_bytes(data)
        if packet.flags & profile.FLAG_CLOCK_RESTARTED and self._sequence.last is not None:
            # The sensor rebooted: its counter and clock start again. Counted and logged; the
            # clock fit then re-converges (a session-level restart is left to the operator).
            self.restarts += 1
            log.warning("stabmon sensor restarted mid-session (restart %d)", self.restarts)
        first = self._sequence(packet.first_sequence)
        n = len(packet.acc_counts)
        return Decoded(
            packet.device_time_s, packet.acc_m_s2, packet.gyr_rad_s, first + np.arange(n, dtype=np.int64)
        )


#: A DOT notification that comes after its successor, by up to this many notifications, is put
#: back in its place: BLE delivers in order within a connection, but a host stack's queue can
#: swap two. Only after a gap in the counter are later samples held (for at most this many
#: notifications), so a stream in order is never delayed.
DOT_REORDER_PACKETS = 3


class DotDecoder:
    """Movella DOT: one sample a notification, its counter the µs timestamp in sample periods.
    After a gap the later samples wait (DOT_REORDER_PACKETS notifications at most) for the
    missing ones to come late; a copy of a waiting one is a StaleNotificationError."""

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        self._time = _Unwrap(32)
        self._first_us: int | None = None
        self._expected: int | None = None  # the counter of the next sample in order
        self._waiting: dict[int, tuple[float, np.ndarray, np.ndarray]] = {}  # after a gap, by counter
        self._behind: int | None = None  # the last counter seconds behind the expected one

    def decode(self, characteristic: str, data: bytes, host_ns: int) -> Decoded | None:
        payload = dot.RateQuantities.from_bytes(data)
        time_us = self._time(payload.timestamp_us)
        if self._first_us is None:
            self._first_us = time_us
        sequence = round((time_us - self._first_us) * 1e-6 * self.rate_hz)
        sample = (time_us * 1e-6, np.array(payload.acc_m_s2, float), np.radians(payload.gyr_deg_s))
        expected = self._expected
        if expected is not None and sequence < expected:
            # Too late to put back, a copy, or the clock stepped back: the gate judges it. Two in
            # a row seconds back, one after the other: the clock stepped back, in order from here.
            if expected - sequence > 2 * self.rate_hz:
                if self._behind == sequence - 1 and not self._waiting:
                    self._expected = sequence + 1
                self._behind = sequence
            return self._samples({sequence: sample})
        if sequence in self._waiting:
            raise StaleNotificationError(dot.PROTOCOL, f"sample {sequence} came twice", data, duplicate=True)
        self._waiting[sequence] = sample
        return self._release(everything=len(self._waiting) > DOT_REORDER_PACKETS)

    def drain(self) -> Drained:
        """The samples waiting after a gap, released: the stream ends."""
        return Drained(self._release(everything=True))

    def _release(self, everything: bool) -> Decoded | None:
        """The waiting samples that follow on in order; `everything`: all of them (the gap is a
        loss)."""
        if not self._waiting:
            return None
        expected = self._expected if self._expected is not None else min(self._waiting)
        out = {}
        while expected in self._waiting:
            out[expected] = self._waiting.pop(expected)
            expected += 1
        if everything:
            out.update(self._waiting)
            self._waiting.clear()
            expected = max(out) + 1
        self._expected = expected
        return self._samples(dict(sorted(out.items())))

    @staticmethod
    def _samples(samples: dict[int, tuple[float, np.ndarray, np.ndarray]]) -> Decoded | None:
        """{counter: (device time s, acc m/s² (3,), gyr rad/s (3,))} in counter order as samples."""
        if not samples:
            return None
        times, acc, gyr = zip(*samples.values(), strict=True)
        return Decoded(np.array(times), np.array(acc), np.array(gyr), np.array(list(samples), dtype=np.int64))


class WitDecoder:
    """WitMotion: the characteristic read as a byte stream (`wit.PacketStream`: packets cut across
    notifications joined, register replies stepped over, stray bytes skipped and counted in
    `skipped_bytes`); a notification that repeats the one before byte for byte is a duplicate
    (`duplicates`, see `_duplicate`); every other packet is the next sample, losses inferred from
    the packet rate (`sensors.ble.wit_timing`)."""

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        self.duplicates = 0  # notifications dropped as copies of the one before
        self.skipped_bytes = 0  # bytes that were no packet
        self.last_skipped = ""  # what the latest of them were, for the log
        self.register_replies = 0
        self._stream = wit.PacketStream()
        self._timing: PacketTiming[wit.ImuPacket] = PacketTiming(PacketTimingSettings(rate_hz))
        self._previous = b""
        self._repeats = 0

    @property
    def lost_samples(self) -> int:
        return self._timing.lost_samples

    def decode(self, characteristic: str, data: bytes, host_ns: int) -> Decoded | None:
        if self._duplicate(bytes(data)):
            return None
        piece = self._stream.feed(data)
        self.register_replies += piece.register_replies
        if piece.skipped:
            self.skipped_bytes += len(piece.skipped)
            shown = piece.skipped[:24].hex(" ")
            self.last_skipped = f"{wit.PROTOCOL}: {len(piece.skipped)} bytes that are no packet ({shown})"
        return self._samples(*self._timing.arrive(piece.packets, host_ns))

    def _samples(self, sequence: np.ndarray, packets: list[wit.ImuPacket]) -> Decoded | None:
        """Packets (m,) with their counters (m,) as samples timed by counter / rate (None: none)."""
        if not packets:
            return None
        return Decoded(
            sequence / self.rate_hz,
            np.array([p.acc_m_s2 for p in packets]),
            np.array([p.gyr_rad_s for p in packets]),
            sequence,
        )

    def drain(self) -> Drained:
        """The packets held to judge a delay, released at the end of the stream (`PacketTiming.drain`)."""
        decoded = self._samples(*self._timing.drain())
        if decoded is None:
            return Drained(None)
        unsure = (
            f"{len(decoded.sequence)} samples held back to judge a delay were released at the end of "
            "the stream, before it was confirmed (a loss before them is judged by their delay alone)"
        )
        return Drained(decoded, unsure)

    def _duplicate(self, data: bytes) -> bool:
        """Whether this notification is a copy of the one before: the same bytes, holding at least
        one whole packet. A still sensor does not send that: its accelerometer's last bits are
        noise (a real BWT901BLE at rest reads several counts apart from one packet to the next,
        its gyroscope 0), so nine identical int16 back to back are a delivery repeated. Only the
        second of a run is dropped: a third alike is the sensor's own output (stuck or saturated),
        kept as it is."""
        same = len(data) >= wit.PACKET_BYTES and data == self._previous
        self._previous = data
        self._repeats = self._repeats + 1 if same else 0
        if self._repeats == 1:
            self.duplicates += 1
            return True
        return False
