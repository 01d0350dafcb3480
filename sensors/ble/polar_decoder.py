"""Polar PMD (Verity Sense, H10): ACC and GYRO frames decoded independently and paired by time.

ACC and GYRO arrive as separate, independently timed frames stamped with their last sample's time
(ns); each stream is timed as the Polar SDK does (PmdTimeStampUtils) and counts its own losses,
and the two are paired by time (see PolarDecoder). Split from `stream_decoders` (its common form,
`Decoded`, is there)."""

from __future__ import annotations

import logging
from collections import deque

import numpy as np

from sensors.ble.codecs import polar_delta as delta
from sensors.ble.codecs import polar_pmd as pmd
from sensors.ble.errors import BleError, DecodeError, StaleNotificationError
from sensors.ble.stream_decoders import Decoded, Drained
from sensors.constants import GRAVITY_M_S2

log = logging.getLogger(__name__)

#: A PMD frame time at most this far (s), or two frames, behind the stream's latest is a copy or a
#: late frame (dropped and counted); further back the sensor's clock was reset (a new epoch).
PMD_STALE_WINDOW_S = 2.0
#: How many later frames of one stream may arrive before the slots of its earlier frame that the
#: other stream has not reached are given up (a stream's frame covering the same samples comes
#: at most a frame or two after the other's: they are framed independently).
PMD_PATIENCE_FRAMES = 3


class _PmdClockResetError(BleError):
    """A frame time that no loss, copy or delay explains: the sensor's clock was reset."""


class _PmdStream:
    """One PMD stream (ACC or GYRO): sample times by the SDK's rule and a sample counter that
    advances by the samples a late frame must have held (lost notifications)."""

    def __init__(self, period_ns: float, first_slot: int = 0, epoch: int = 0) -> None:
        self.period_ns = period_ns  # refined by lossless frames: the device's real sample period
        self.first_slot = first_slot  # where a stream not anchored on the other one starts
        self.epoch = epoch  # clock epochs begun (the sensor's clock was reset)
        self.last_ns = 0
        self.lead_ns: int | None = None  # the most a frame time has led its host arrival time
        self.last_slot: int | None = None
        self.largest_frame = 1  # samples in the largest frame seen
        self.recent_ns: deque[int] = deque(maxlen=16)  # frame times lately placed
        self.ends: deque[int] = deque(maxlen=PMD_PATIENCE_FRAMES + 1)  # last slots of those frames
        self.arrivals: deque[int] = deque(maxlen=PMD_PATIENCE_FRAMES + 1)  # and their host times, ns
        self._span_ns = 0
        self._span_samples = 0

    def stale_window_ns(self) -> float:
        return max(PMD_STALE_WINDOW_S * 1e9, 2 * self.largest_frame * self.period_ns)

    def place(
        self, frame_ns: int, count: int, anchor: tuple[int, int] | None, host_ns: int
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """(times ns (count,), slots (count,), lost samples) of a frame's samples; `anchor` (slot,
        ns) of the other stream's latest sample places this stream's first frame on its count.
        Raises StaleNotificationError for a copy or a late frame, _PmdClockResetError for a frame time
        that stepped back beyond them, or ahead by more than host time allows."""
        lost = 0
        if self.last_slot is None:
            times = delta.sample_times_ns(0, frame_ns, count, 1e9 / self.period_ns)
            if anchor is None:
                first_slot = self.first_slot
            else:
                first_slot = anchor[0] + round((int(times[0]) - anchor[1]) / self.period_ns)
        else:
            window_ns = self.stale_window_ns()
            if frame_ns <= self.last_ns:
                if self.last_ns - frame_ns > window_ns:
                    raise _PmdClockResetError(
                        f"frame time stepped back {(self.last_ns - frame_ns) * 1e-9:.4g} s"
                    )
                duplicate = frame_ns in self.recent_ns
                what = "came twice" if duplicate else "came after its successor"
                raise StaleNotificationError(
                    pmd.PROTOCOL, f"a frame of {count} samples {what} ({frame_ns} ns)", duplicate=duplicate
                )
            # A frame arrives after it was made, so its time leads its arrival by the clocks'
            # offset less its latency: the lead never grows beyond the offset unless the clock
            # jumped ahead (frames held back and delivered together do not make it grow).
            ahead_ns = frame_ns - host_ns - (self.lead_ns if self.lead_ns is not None else frame_ns - host_ns)
            if ahead_ns > window_ns:
                raise _PmdClockResetError(f"frame time jumped {ahead_ns * 1e-9:.4g} s ahead of host time")
            lost = max(round((frame_ns - self.last_ns) / self.period_ns) - count, 0)
            previous = 0 if lost else self.last_ns  # after a loss: spaced back from this frame
            times = delta.sample_times_ns(previous, frame_ns, count, 1e9 / self.period_ns)
            first_slot = self.last_slot + 1 + lost
        return times, first_slot + np.arange(count, dtype=np.int64), lost

    def commit(self, frame_ns: int, count: int, last_slot: int, lost: int, host_ns: int) -> None:
        if self.last_slot is not None and not lost:
            self._span_ns += frame_ns - self.last_ns
            self._span_samples += count
            if self._span_samples >= 4 * count:
                self.period_ns = self._span_ns / self._span_samples
        self.last_ns, self.last_slot = frame_ns, last_slot
        lead = frame_ns - host_ns
        self.lead_ns = lead if self.lead_ns is None else max(self.lead_ns, lead)
        self.largest_frame = max(self.largest_frame, count)
        self.recent_ns.append(frame_ns)
        self.ends.append(last_slot)
        self.arrivals.append(host_ns)

    def given_up_until(self) -> int | None:
        """The last slot of the frame PMD_PATIENCE_FRAMES frames before this stream's latest: the
        other stream has had those frames' time to reach it (None before that many)."""
        return self.ends[0] if len(self.ends) == self.ends.maxlen else None


class PolarDecoder:
    """Decodes ACC and GYRO frames independently (each stream timed by the SDK's rule, its
    losses counted from its own timestamps) and pairs their samples by time: a sample of one
    stream meets the other stream's sample of the same slot (sample period on the device clock).

    A slot is settled once both streams have passed it (a later frame of each has arrived):
    paired if both hold it, else dropped (the sequence skips it: a gap). A stream that has not
    reached a slot PMD_PATIENCE_FRAMES frames of the other stream later (or is never heard) is
    waited for no longer. A real Verity Sense sends ~71-sample frames 1–2 s apart, so the wait
    follows the frames that arrive, not a fixed time. A pair is complete when the later of its
    two frames arrives, so its host receive time is that frame's; the clock fit's latency floor
    is right where frame ends meet now and then.

    A frame time a little behind the stream's latest is a copy or a late frame: StaleNotificationError
    (the gate counts it). Further back, or ahead of what host time allows, the sensor's clock was
    reset (a reboot, a time set by the phone app): that stream starts a new clock epoch, the other
    joins it with its own next reset frame, and `restarts` counts it when the new epoch's first
    samples are emitted (the gate then splices them in after a flagged gap)."""

    _KINDS = (pmd.MeasurementType.ACC, pmd.MeasurementType.GYRO)
    #: How late (s) a block may reach the gate after its samples (SensorIngest widens the gate's
    #: arrival slack to it): frames come up to 2 s apart and a pair completes with its later
    #: frame, so a block can be a few frames late; a counter jump is judged against host time.
    arrival_slack_s = 6.0

    def __init__(self, rate_hz: float, acc_factor: float, gyr_factor: float) -> None:
        self.rate_hz = rate_hz
        self.factors = {pmd.MeasurementType.ACC: acc_factor, pmd.MeasurementType.GYRO: gyr_factor}
        self._streams = {kind: _PmdStream(1e9 / rate_hz) for kind in self._KINDS}
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 3)))
        self._pending = dict.fromkeys(self._KINDS, empty)  # slots, times ns, values (n, 3)
        self._origin_ns: int | None = None
        self._emitted_until = -1
        self._reset_pending = False
        self.unpaired_samples = 0  # samples dropped because the other stream lacked them
        self.lost_samples = dict.fromkeys(self._KINDS, 0)
        self.restarts = 0  # clock epochs begun after the first (SensorIngest passes them on)
        self.restart_reason = ""

    def decode(self, characteristic: str, data: bytes, host_ns: int) -> Decoded | None:
        if data and data[0] & pmd.MEASUREMENT_TYPE_MASK not in self._KINDS:
            return None  # another PMD stream (PPG, MAG…) someone else started: not ours
        frame = pmd.DataFrame.from_bytes(data)
        if frame.timestamp_ns >= 1 << 63:
            raise DecodeError(pmd.PROTOCOL, f"timestamp {frame.timestamp_ns} ns is beyond any clock", data)
        values = frame.values(self.factors[frame.measurement])
        if not np.isfinite(values).all():
            raise DecodeError(pmd.PROTOCOL, f"{frame.measurement.name} values that are not finite", data)
        kind = frame.measurement
        try:
            times, slots, lost = self._place(kind, frame.timestamp_ns, len(values), host_ns)
        except _PmdClockResetError as reset:
            # Placeable on a fresh clock (its samples after time 0), or malformed: checked before
            # the new epoch begins, so a malformed frame changes nothing.
            self._check_placeable(kind, frame.timestamp_ns, len(values), data)
            self._new_epoch(kind, str(reset))
            times, slots, lost = self._place(kind, frame.timestamp_ns, len(values), host_ns)
        except StaleNotificationError as stale:  # a copy or a late frame: the gate counts it
            raise StaleNotificationError(
                pmd.PROTOCOL, f"{kind.name}: {stale.problem}", data, duplicate=stale.duplicate
            ) from None
        except ValueError as error:
            raise DecodeError(pmd.PROTOCOL, f"{kind.name}: {error}", data) from None
        # Nothing above changed any state: a malformed frame leaves the decoder as it was.
        self._streams[kind].commit(frame.timestamp_ns, len(values), int(slots[-1]), lost, host_ns)
        self.lost_samples[kind] += lost
        keep = slots > self._emitted_until  # a slot already emitted or dropped stays so
        self.unpaired_samples += int((~keep).sum())
        old_slots, old_times, old_values = self._pending[kind]
        self._pending[kind] = (
            np.concatenate([old_slots, slots[keep]]),
            np.concatenate([old_times, times[keep]]),
            np.concatenate([old_values, values[keep]]),
        )
        if self._origin_ns is None:
            self._origin_ns = int(times[0])
        return self._pair()

    def _place(
        self, kind: pmd.MeasurementType, frame_ns: int, count: int, host_ns: int
    ) -> tuple[np.ndarray, np.ndarray, int]:
        stream, other = self._streams[kind], self._streams[self._other(kind)]
        joined = other.last_slot is not None and other.epoch == stream.epoch
        anchor = (other.last_slot, other.last_ns) if joined else None
        return stream.place(frame_ns, count, anchor, host_ns)  # type: ignore[arg-type]

    def _check_placeable(self, kind: pmd.MeasurementType, frame_ns: int, count: int, data: bytes) -> None:
        """DecodeError when a frame's `count` samples at the stream's period cannot end at
        `frame_ns` on a clock that starts at 0."""
        try:
            delta.sample_times_ns(0, frame_ns, count, 1e9 / self._streams[kind].period_ns)
        except ValueError as error:
            raise DecodeError(pmd.PROTOCOL, f"{kind.name}: {error}", data) from None

    def _new_epoch(self, kind: pmd.MeasurementType, why: str) -> None:
        """Start `kind`'s stream afresh on its new clock, after every slot used so far (the gate
        splices the epoch in by host time); the other stream joins it at its own reset."""
        stream = self._streams[kind]
        other = self._streams[self._other(kind)]
        if other.epoch <= stream.epoch:  # the first of the two to see the reset
            self._reset_pending = True
            self.restart_reason = f"the sensor's clock was reset ({kind.name} {why})"
            self._origin_ns = None  # the new epoch's times count from its own first sample
            log.warning("Polar sensor: %s", self.restart_reason)
        ends = [s.last_slot for s in self._streams.values() if s.last_slot is not None]
        next_slot = max([self._emitted_until, *ends]) + 2  # one free slot: the gap stays visible
        self._streams[kind] = _PmdStream(stream.period_ns, next_slot, stream.epoch + 1)
        dropped = self._pending[kind][0]
        self.unpaired_samples += len(dropped)
        self._pending[kind] = (dropped[:0], self._pending[kind][1][:0], self._pending[kind][2][:0])

    @staticmethod
    def _other(kind: pmd.MeasurementType) -> pmd.MeasurementType:
        return pmd.MeasurementType.GYRO if kind is pmd.MeasurementType.ACC else pmd.MeasurementType.ACC

    def awaits_frames(self, arrived_by_ns: int) -> bool:
        """Whether samples of one stream that arrived by host time `arrived_by_ns` wait for the
        other's frame (still on its way: worth reading on for when the session stops then)."""
        for kind in self._KINDS:
            slots = self._pending[kind][0]
            if len(slots):
                stream, first = self._streams[kind], int(slots.min())
                came = next(
                    (ns for end, ns in zip(stream.ends, stream.arrivals, strict=True) if end >= first), 0
                )
                if came <= arrived_by_ns:
                    return True
        return False

    def drain(self) -> Drained:
        """Every pair still held, and the samples of one stream whose partner never came given up
        (counted in `unpaired_samples` and said in `unsure`): the stream ends."""
        unpaired = self.unpaired_samples
        slots = np.concatenate([self._pending[kind][0] for kind in self._KINDS])
        decoded = self._pair(int(slots.max())) if len(slots) else None
        left = self.unpaired_samples - unpaired
        alone = f"{left} samples of one stream (ACC or GYRO) whose partner frame had not come" if left else ""
        return Drained(decoded, f"{alone} were left out at the end of the stream" if alone else "")

    def _pair(self, until: int = -1) -> Decoded | None:
        """The pairs settled by now, or every slot up to `until` (the stream ends)."""
        acc, gyr = (self._pending[kind] for kind in self._KINDS)
        streams = list(self._streams.values())
        heard = [s.last_slot for s in streams if s.last_slot is not None]
        waited = [s.given_up_until() for s in streams]
        ready = max([until, *(w for w in waited if w is not None)])  # not waited for beyond that
        if len(heard) == len(streams) and streams[0].epoch == streams[1].epoch:
            ready = max(ready, min(heard))  # every slot up to here has had its chance in both
        if ready <= self._emitted_until:
            return None
        both, in_acc, in_gyr = np.intersect1d(acc[0], gyr[0], assume_unique=True, return_indices=True)
        take = both <= ready
        if streams[0].epoch != streams[1].epoch:
            take[:] = False  # never a pair of samples from two clock epochs
        in_acc, in_gyr = in_acc[take], in_gyr[take]
        for kind, pending in zip(self._KINDS, (acc, gyr), strict=True):
            later = pending[0] > ready
            self.unpaired_samples += int((~later).sum()) - int(take.sum())
            self._pending[kind] = (pending[0][later], pending[1][later], pending[2][later])
        self._emitted_until = ready
        if not len(in_acc):
            return None
        assert self._origin_ns is not None
        if self._reset_pending:
            # The first samples of a new clock epoch: their times carry on from the origin of the
            # old one only through the gate's splice, which `restarts` asks for.
            self._reset_pending = False
            self.restarts += 1
        relative_ns = (acc[1][in_acc] - self._origin_ns).astype(np.float64)
        return Decoded(
            relative_ns * 1e-9,
            acc[2][in_acc] * (GRAVITY_M_S2 / 1000.0),
            np.radians(gyr[2][in_gyr]),
            acc[0][in_acc],
        )
