"""Admission of decoded samples into a session: order, counter epochs and plausibility, per sensor.

A stream decoder turns bytes into samples; what those samples *say* may still be wrong: a
notification delivered twice, one that arrives after its successor, a counter that jumps by 2^31,
a device clock 10 s back or 300 000 years ahead, a sensor that rebooted and counts from 0 again,
accelerations no sensor of ours can measure. `SampleGate` decides, block by block:

- **accepted**: the counter moves on from the last accepted block, the device time agrees with it
  (to `rate_tolerance` and a few sample periods) and the host time since that block allows it
  (plus `arrival_slack_s`). A counter jump is a loss: a flagged gap, bounded by what time allows.
- **duplicate** / **out of order**: the block's counters are at or before the last accepted one's
  (within `stale_window_s`): dropped and counted; a block that only partly overlaps is cut to its
  new samples.
- **rejected**: malformed values (NaN, beyond the configured range), device time beyond
  `max_device_time_s`, or a jump of counter or device time that the rules above do not allow.
  Counted; its samples become part of a flagged gap. The rejected block is remembered: if the next
  block carries on from it (the sensor's counter or clock really did jump) a new epoch starts there.
- **new epoch**: a sensor that reports a restart (stabmon `FLAG_CLOCK_RESTARTED`), or a jump
  confirmed by the next block. The epoch is spliced into the session: its counters are shifted
  to carry on after the last accepted sample, across a gap as long as host time says passed (at
  least one sample lost, so the gap is flagged); its device times likewise, unless only the
  counter jumped and the device clock still agrees with the host's (then they stay as they are).

So the sequence this emits is session-wide and strictly increasing, and its device time strictly
increasing, whatever arrives: no sequence of notifications can make a recording its reader
refuses. Within an epoch both equal the decoder's values plus a constant (0 in the first epoch).
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from sensors.constants import GRAVITY_M_S2
from sensors.placements import Placement
from sensors.samples import SampleBlock

log = logging.getLogger(__name__)

#: Wire counters are 32-bit (stabmon counter, DOT µs timestamp); decoders unwrap them.
WIRE_COUNTER_MODULUS = 2**32
#: Raw counters beyond this magnitude are refused (so shifting them can never overflow int64).
MAX_COUNTER = 2**62


@dataclass(frozen=True)
class GateSettings:
    """rate_hz: the sensor's nominal sample rate; acc_range_m_s2 / gyr_range_rad_s: the largest
    full scale configured (a value beyond it, per axis, cannot have been measured);
    max_device_time_s: device times beyond this are implausible (no sensor runs for 31 years);
    arrival_slack_s: how far data may come ahead of the host clock (buffered bursts);
    rate_tolerance: share by which counter, device time and host time may disagree;
    stale_window_s: a counter at most this far back is a duplicate or late block, not a jump."""

    rate_hz: float
    acc_range_m_s2: float = 16.0 * GRAVITY_M_S2
    gyr_range_rad_s: float = math.radians(2000.0)
    max_device_time_s: float = 1e9
    arrival_slack_s: float = 2.0
    rate_tolerance: float = 0.1
    stale_window_s: float = 2.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate_hz) and self.rate_hz > 0):
            raise ValueError(f"sample rate must be a positive number of Hz, got {self.rate_hz}")


@dataclass
class GateCounts:
    """What the gate kept out, per sensor: duplicates and out_of_order (blocks dropped),
    rejected (implausible blocks) and rejected_samples, restarts (counter epochs begun after
    the first), and the last reasons a block was rejected and an epoch begun; clock_resets_ns:
    host times (ns) of the epochs begun because the sensor says its clock was reset."""

    duplicates: int = 0
    out_of_order: int = 0
    rejected: int = 0
    rejected_samples: int = 0
    restarts: int = 0
    last_problem: str = ""
    last_restart: str = ""
    clock_resets_ns: list[int] = field(default_factory=list)
    by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Anchor:
    """The last sample of a block, as the decoder gave it: raw counter, device time s, host ns."""

    sequence: int
    time_s: float
    host_ns: int


class SampleGate:
    """Admits one sensor's decoded blocks (see the module docstring)."""

    def __init__(self, placement: Placement, settings: GateSettings) -> None:
        self.placement = placement
        self.settings = settings
        self.counts = GateCounts()
        self._last: _Anchor | None = None  # last accepted block, raw
        self._candidate: _Anchor | None = None  # last rejected jump, raw
        self._out_sequence = 0  # last accepted sample, spliced
        self._out_time_s = 0.0
        self._sequence_offset = 0
        self._time_offset_s = 0.0
        self._recent_firsts: deque[int] = deque(maxlen=64)  # raw first counters accepted lately

    def admit(
        self,
        device_time_s: np.ndarray,
        acc_m_s2: np.ndarray,
        gyr_rad_s: np.ndarray,
        sequence: np.ndarray,
        host_ns: int,
        restarted: bool = False,
        why: str = "the sensor reports it restarted",
        clock_reset: bool = False,
    ) -> SampleBlock | None:
        """The block to deliver (session-wide sequence and device time), or None if it is dropped.
        device_time_s (n,) s, acc_m_s2 (n, 3), gyr_rad_s (n, 3), sequence (n,) raw counters; host_ns:
        arrival; restarted: the sensor says it restarted before this block, `why` in words;
        clock_reset: the restart was its clock being reset (said as such, at its time)."""
        problem = self._malformed(device_time_s, acc_m_s2, gyr_rad_s, sequence)
        if problem:
            self._reject(len(np.atleast_1d(device_time_s)), problem, None)
            return None
        t = np.asarray(device_time_s, dtype=np.float64)
        acc = np.asarray(acc_m_s2, dtype=np.float64)
        gyr = np.asarray(gyr_rad_s, dtype=np.float64)
        seq = np.asarray(sequence, dtype=np.int64)
        last = self._last
        if last is None:
            return self._accept(t, acc, gyr, seq, host_ns)
        if restarted and not (int(seq[-1]) <= last.sequence and int(seq[0]) in self._recent_firsts):
            self._note_restart(why)
            if clock_reset:
                self.counts.clock_resets_ns.append(host_ns)
            return self._new_epoch(t, acc, gyr, seq, host_ns)
        if int(seq[0]) <= last.sequence:
            back = last.sequence - int(seq[0])
            if back < self.settings.stale_window_s * self.settings.rate_hz:
                keep = seq > last.sequence
                if not keep.any():
                    self.drop(int(seq[0]) in self._recent_firsts)
                    return None
                self.counts.out_of_order += 1  # overlaps what was accepted: keep only the new part
                t, acc, gyr, seq = t[keep], acc[keep], gyr[keep], seq[keep]
        jump = self._discontinuity(last, int(seq[0]), float(t[0]), host_ns)
        if jump is None:
            return self._accept(t, acc, gyr, seq, host_ns)
        slip = self._unwrap_slip(last, int(seq[0]), float(t[0]), host_ns)
        if slip:  # the decoder's unwrapping went astray around a glitch: take the counter back
            self._sequence_offset -= slip
            return self._accept(t, acc, gyr, seq, host_ns)
        candidate = self._candidate
        if (
            candidate is not None
            and self._discontinuity(candidate, int(seq[0]), float(t[0]), host_ns) is None
        ):
            self._note_restart(f"the jump repeated ({jump})")
            return self._new_epoch(t, acc, gyr, seq, host_ns)
        self._reject(len(t), jump, _Anchor(int(seq[-1]), float(t[-1]), host_ns))
        return None

    # Checks ---------------------------------------------------------------------------------

    def _malformed(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, seq: np.ndarray) -> str | None:
        """What makes a block unusable on its own, or None."""
        s = self.settings
        t, acc, gyr, seq = (np.asarray(x) for x in (t, acc, gyr, seq))
        n = len(t) if t.ndim == 1 else -1
        if n < 1 or acc.shape != (n, 3) or gyr.shape != (n, 3) or seq.shape != (n,):
            return f"arrays of shapes {t.shape}, {acc.shape}, {gyr.shape}, {seq.shape}"
        if not np.issubdtype(seq.dtype, np.integer) or np.any(np.abs(seq.astype(np.float64)) > MAX_COUNTER):
            return "sample counter is not an integer below 2^62"
        if not (np.all(np.isfinite(t)) and np.all(np.abs(t) <= s.max_device_time_s)):
            return f"device time {float(np.max(np.abs(t))):.4g} s is beyond {s.max_device_time_s:.3g} s"
        if not (np.all(np.isfinite(acc)) and np.all(np.isfinite(gyr))):
            return "non-finite acceleration or angular velocity"
        peak_acc, peak_gyr = float(np.max(np.abs(acc))), float(np.max(np.abs(gyr)))
        if peak_acc > s.acc_range_m_s2 * 1.001 or peak_gyr > s.gyr_range_rad_s * 1.001:
            return (
                f"|acc| {peak_acc:.4g} m/s² or |gyr| {peak_gyr:.4g} rad/s beyond the configured range "
                f"({s.acc_range_m_s2:.4g} m/s², {s.gyr_range_rad_s:.4g} rad/s)"
            )
        if n > 1:
            if np.any(np.diff(seq) <= 0) or np.any(np.diff(t) <= 0):
                return "counter or device time not increasing within the block"
            inside = self._disagreement(int(seq[-1]) - int(seq[0]), float(t[-1] - t[0]))
            if inside:
                return f"within the block, {inside}"
        return None

    def _disagreement(self, samples: int, seconds: float) -> str | None:
        """Whether `samples` counter steps and `seconds` of device time disagree."""
        s = self.settings
        expected_s = samples / s.rate_hz
        if abs(seconds - expected_s) > s.rate_tolerance * expected_s + 5.0 / s.rate_hz:
            return f"device time moved {seconds:.4g} s for {samples} counts ({expected_s:.4g} s)"
        return None

    def _discontinuity(
        self, after: _Anchor, first_sequence: int, first_time_s: float, host_ns: int
    ) -> str | None:
        """Why a block starting at (first_sequence, first_time_s) received at host_ns cannot follow
        the block ending at `after`, or None if it can."""
        s = self.settings
        steps = first_sequence - after.sequence
        if steps < 1:
            return f"counter stepped back {1 - steps} samples"
        seconds = first_time_s - after.time_s
        if seconds <= 0:
            return f"device time stepped back {-seconds:.4g} s"
        disagreement = self._disagreement(steps, seconds)
        if disagreement:
            return disagreement
        host_s = max(host_ns - after.host_ns, 0) * 1e-9
        allowed_s = host_s * (1.0 + s.rate_tolerance) + s.arrival_slack_s
        if steps / s.rate_hz > allowed_s:
            return (
                f"counter jumped {steps} samples ({steps / s.rate_hz:.4g} s) in {host_s:.4g} s of host time"
            )
        return None

    def _unwrap_slip(self, after: _Anchor, first_sequence: int, first_time_s: float, host_ns: int) -> int:
        """A multiple of the 32-bit wire counter's modulus by which a decoder's unwrapped counter
        slipped (a glitching counter makes the unwrapping add or skip a wrap), if taking it off
        makes the block follow `after`; else 0."""
        steps = first_sequence - after.sequence
        slip = steps - ((steps - 1) % WIRE_COUNTER_MODULUS + 1)
        if slip == 0 or self._discontinuity(after, first_sequence - slip, first_time_s, host_ns):
            return 0
        return slip

    # Outcomes -------------------------------------------------------------------------------

    def _accept(
        self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, seq: np.ndarray, host_ns: int
    ) -> SampleBlock:
        self._last = _Anchor(int(seq[-1]), float(t[-1]), host_ns)
        self._candidate = None
        self._recent_firsts.append(int(seq[0]))
        out_sequence = (seq - seq[0]) + (int(seq[0]) + self._sequence_offset)
        out_time = t + self._time_offset_s
        self._out_sequence, self._out_time_s = int(out_sequence[-1]), float(out_time[-1])
        return SampleBlock(
            self.placement, out_time, acc, gyr, out_sequence, np.full(len(t), host_ns, dtype=np.int64)
        )

    def _new_epoch(
        self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, seq: np.ndarray, host_ns: int
    ) -> SampleBlock:
        """Splice a new counter epoch in after the last accepted sample, across the gap host time
        shows (at least two counts, so one sample is marked lost and the gap is flagged: a
        sensor that restarts loses samples, and across a jump nothing can be known)."""
        assert self._last is not None
        rate = self.settings.rate_hz
        gap_s = max((host_ns - self._last.host_ns) * 1e-9 - (len(t) - 1) / rate, 0.0)
        device_gap_s = float(t[0]) - self._last.time_s
        if device_gap_s > 0 and abs(device_gap_s - gap_s) <= self.settings.arrival_slack_s:
            gap_s = device_gap_s  # only the counter jumped: the device clock goes on as it was
        else:
            # The device clock restarted or jumped: it carries on as host time says (the latencies
            # of the two blocks taken equal), so the clock mapping goes on across the splice.
            self._time_offset_s = self._out_time_s + max(gap_s, 1.0 / rate) - float(t[0])
        steps = max(2, round(gap_s * rate))
        self._sequence_offset = self._out_sequence + steps - int(seq[0])
        self._recent_firsts.clear()
        return self._accept(t, acc, gyr, seq, host_ns)

    def note_duplicate(self) -> None:
        """A notification its decoder found to be a copy of the one before (and dropped)."""
        self.drop(True)

    def drop(self, duplicate: bool) -> None:
        """Count a notification dropped as a copy (`duplicate`) or as one that came after its
        successor (decided here, or by a decoder that raised StaleNotificationError)."""
        if duplicate:
            self.counts.duplicates += 1
            self._log("duplicate", "a notification came twice; the copy was dropped")
        else:
            self.counts.out_of_order += 1
            self._log("out of order", "a notification came after its successor; it was dropped")

    def _reject(self, n: int, problem: str, candidate: _Anchor | None) -> None:
        self._candidate = candidate
        counts = self.counts
        counts.rejected += 1
        counts.rejected_samples += n
        counts.last_problem = problem
        self._log("rejected", f"implausible block of {n} samples rejected: {problem}")

    def _note_restart(self, why: str) -> None:
        self.counts.restarts += 1
        self.counts.last_restart = why
        self._log("restart", f"new counter epoch ({why}); spliced in after a flagged gap", force=True)

    def _log(self, kind: str, message: str, force: bool = False) -> None:
        """Warn the first few times of each kind, then every hundredth (a storm must not flood)."""
        seen = self.counts.by_reason.get(kind, 0) + 1
        self.counts.by_reason[kind] = seen
        if force or seen <= 3 or seen % 100 == 0:
            log.warning("%s sensor: %s (%s #%d)", self.placement.value, message, kind, seen)
