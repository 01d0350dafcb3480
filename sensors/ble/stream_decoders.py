"""Per-sensor, stateful: notification bytes → samples in SI units with device times and sample
counters, whatever the protocol gives. Runs after the queue, never in the BLE callback.

Each protocol reaches the common form differently:
- stabmon profile: device time and a 32-bit sample counter in every packet (unwrapped here).
- Movella DOT: a 32-bit µs timestamp per sample (wraps after 71.6 min, unwrapped here); the
  counter is the timestamp in sample periods, so a lost notification shows as a jump.
- Polar PMD: ACC and GYRO arrive as separate frames stamped with their last sample's time
  (ns); samples are spaced by the sample period back from it, paired ACC with GYRO by time.
- WitMotion: no time and no counter. Samples are counted; a silence longer than the nominal
  spacing allows (host time) advances the counter by the samples it must have held, so losses
  still appear as gaps. Times are the counter over the nominal rate: the crystal's error then
  shows as clock drift, which the clock mapping fits like any other.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sensors.ble.codecs import movella_dot as dot
from sensors.ble.codecs import polar_pmd as pmd
from sensors.ble.codecs import stabmon as profile
from sensors.ble.codecs import witmotion as wit
from sensors.constants import GRAVITY_M_S2

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
    def decode(self, characteristic: str, data: bytes, host_ns: int) -> Decoded | None:
        """Samples carried by this notification (None when it completes nothing yet); raises
        DecodeError on malformed bytes, leaving the decoder's state unchanged."""
        ...


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


class DotDecoder:
    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        self._time = _Unwrap(32)
        self._first_us: int | None = None

    def decode(self, characteristic: str, data: bytes, host_ns: int) -> Decoded | None:
        payload = dot.RateQuantities.from_bytes(data)
        time_us = self._time(payload.timestamp_us)
        if self._first_us is None:
            self._first_us = time_us
        sequence = round((time_us - self._first_us) * 1e-6 * self.rate_hz)
        return Decoded(
            np.array([time_us * 1e-6]),
            np.array([payload.acc_m_s2], dtype=float),
            np.radians(np.array([payload.gyr_deg_s], dtype=float)),
            np.array([sequence], dtype=np.int64),
        )


class PolarDecoder:
    """Pairs ACC and GYRO frames with the same last-sample timestamp and sample count."""

    def __init__(self, rate_hz: float, acc_factor: float, gyr_factor: float) -> None:
        self.rate_hz = rate_hz
        self.acc_factor = acc_factor
        self.gyr_factor = gyr_factor
        self._pending: dict[pmd.MeasurementType, pmd.DataFrame] = {}
        self._first_ns: int | None = None
        self.unpaired_frames = 0

    def decode(self, characteristic: str, data: bytes, host_ns: int) -> Decoded | None:
        frame = pmd.DataFrame.from_bytes(data)
        if frame.measurement not in (pmd.MeasurementType.ACC, pmd.MeasurementType.GYRO):
            return None
        other_kind = (
            pmd.MeasurementType.GYRO
            if frame.measurement is pmd.MeasurementType.ACC
            else pmd.MeasurementType.ACC
        )
        other = self._pending.pop(other_kind, None)
        if (
            other is None
            or other.timestamp_ns != frame.timestamp_ns
            or len(other.samples) != len(frame.samples)
        ):
            if other is not None:
                self.unpaired_frames += 1  # its partner was lost: those samples are a gap
            if frame.measurement in self._pending:
                self.unpaired_frames += 1
            self._pending[frame.measurement] = frame
            return None
        acc, gyr = (frame, other) if frame.measurement is pmd.MeasurementType.ACC else (other, frame)
        n = len(acc.samples)
        period_ns = 1e9 / self.rate_hz
        times_ns = acc.timestamp_ns - period_ns * np.arange(n - 1, -1, -1)
        if self._first_ns is None:
            self._first_ns = int(times_ns[0])
        relative_ns = times_ns - self._first_ns
        return Decoded(
            relative_ns * 1e-9,
            acc.samples * (self.acc_factor * GRAVITY_M_S2 / 1000.0),
            np.radians(gyr.samples * self.gyr_factor),
            np.round(relative_ns / period_ns).astype(np.int64),
        )


class WitDecoder:
    """Counts packets; a silence long enough to have held samples advances the counter."""

    def __init__(self, rate_hz: float, slack_samples: float = 3.0) -> None:
        self.rate_hz = rate_hz
        self.slack = slack_samples
        self._count = -1
        self._first_host_ns: int | None = None

    def decode(self, characteristic: str, data: bytes, host_ns: int) -> Decoded | None:
        packets = wit.split_notification(data)
        n = len(packets)
        if self._first_host_ns is None:
            self._first_host_ns = host_ns
        expected_last = (host_ns - self._first_host_ns) * 1e-9 * self.rate_hz
        if expected_last - (self._count + n) > self.slack:
            self._count = math.floor(expected_last) - n  # samples were lost in the silence
        sequence = self._count + 1 + np.arange(n, dtype=np.int64)
        self._count += n
        return Decoded(
            sequence / self.rate_hz,
            np.array([p.acc_m_s2 for p in packets]),
            np.array([p.gyr_rad_s for p in packets]),
            sequence,
        )
