"""Make one sensor's raw rows consistent, as an older writer may have left them.

Before the link checked counters, a duplicated notification, a counter stepping back, a counter
jump of 2^31 or a sensor reboot (counter and clock restarting) were stored as received. Such rows
break the rule that a sensor's sequence numbers strictly increase. This module decides, row by
row, what is consistent and keeps that, so the reader opens the file and says what it left out:

- rows with a non-finite device time, or an acceleration or angular rate that is not finite or
  beyond what any IMU measures, are dropped (unusable);
- the rows are cut into runs wherever the counter does not step forward plausibly (by at least 1,
  and by no more than the host clock allows) or the device clock jumps against the host clock;
- a run that repeats counters already kept, a little back (a duplicate or re-sent block), loses
  those repeated rows;
- a run that leaves the timeline and the next run comes back to it (one block with a wild
  counter or time) is dropped as implausible;
- any other discontinuity (a reboot, a jump the counter then keeps) starts a new epoch, spliced on
  after the previous one: its device times are shifted so device-minus-host time is continuous,
  and its counters continue from the previous epoch by the samples time allows (never more).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: A device clock that moves this much (s) against the host clock between two rows has jumped.
DEVICE_JUMP_S = 5.0
#: Beyond these no IMU measures (1000 g; about 57 000 °/s): such values are damage, not data.
MAX_ACC_M_S2 = 1e4
MAX_GYR_RAD_S = 1e3
#: Counter steps a run may go back and still count as duplicates: this many seconds of samples.
DUPLICATE_WINDOW_S = 10.0


@dataclass
class RepairReport:
    """What was left out or changed in one placement's rows (counts of rows / events)."""

    non_finite: int = 0
    duplicates: int = 0
    implausible: int = 0
    epochs: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.non_finite or self.duplicates or self.implausible or self.epochs)

    def describe(self, placement: str) -> str:
        parts = []
        if self.duplicates:
            parts.append(f"{self.duplicates} repeated or out-of-order samples left out")
        if self.implausible:
            parts.append(f"{self.implausible} samples with an implausible counter or clock jump left out")
        if self.non_finite:
            parts.append(
                f"{self.non_finite} samples with non-finite or physically impossible values left out"
            )
        if self.epochs:
            parts.append(
                f"the sensor's counter or clock restarted {self.epochs} time(s); "
                "the later data were spliced on by host time"
            )
        return f"{placement}: " + "; ".join(parts)


@dataclass(frozen=True)
class RepairedRows:
    """keep (n,) bool over the stored rows; sequence and device_time_s (k,) of the kept rows
    (changed only for spliced epochs); whether the sequence was renumbered."""

    keep: np.ndarray
    sequence: np.ndarray
    device_time_s: np.ndarray
    report: RepairReport


def estimate_rate_hz(device_time_s: np.ndarray, sequence: np.ndarray, fallback_hz: float) -> float:
    """Samples per second of the sensor, from rows whose counter steps by one; `fallback_hz` when
    there are too few."""
    step = np.diff(sequence)
    dt = np.diff(device_time_s)
    good = (step == 1) & np.isfinite(dt) & (dt > 0)
    if good.sum() >= 3:
        rate = 1.0 / float(np.median(dt[good]))
        if np.isfinite(rate):
            return float(np.clip(rate, 1.0, 10_000.0))
    return float(np.clip(fallback_hz, 1.0, 10_000.0)) if np.isfinite(fallback_hz) else 100.0


def repair_rows(
    device_time_s: np.ndarray,
    sequence: np.ndarray,
    host_receive_ns: np.ndarray,
    acc_m_s2: np.ndarray,
    gyr_rad_s: np.ndarray,
    rate_hz: float,
) -> RepairedRows:
    """Decide which of one sensor's stored rows (each (n,) or (n, 3)) are consistent (see the
    module docstring); `rate_hz` is the session's nominal rate, used when the data cannot tell."""
    report = RepairReport()
    device = np.asarray(device_time_s, dtype=np.float64)
    seq = np.asarray(sequence, dtype=np.int64)
    host_s = np.asarray(host_receive_ns, dtype=np.int64).astype(np.float64) * 1e-9
    finite = (
        np.isfinite(device)
        & np.all(np.abs(acc_m_s2) <= MAX_ACC_M_S2, axis=1)
        & np.all(np.abs(gyr_rad_s) <= MAX_GYR_RAD_S, axis=1)
        & np.isfinite(host_s)
    )
    report.non_finite = int((~finite).sum())
    rows = np.flatnonzero(finite)
    keep = np.zeros(len(seq), dtype=bool)
    if len(rows) == 0:
        return RepairedRows(keep, seq[:0], device[:0], report)
    d_all = device - host_s
    # Fast path: nothing to repair.
    s, d, h = seq[rows], d_all[rows], host_s[rows]
    rate = estimate_rate_hz(device[rows], s, rate_hz)
    step, dh = np.diff(s), np.abs(np.diff(h))
    broken = (step <= 0) | (step > _allowed_steps(dh, rate)) | (np.abs(np.diff(d)) > DEVICE_JUMP_S)
    if not broken.any():
        keep[rows] = True
        return RepairedRows(keep, s, device[rows], report)
    starts = np.concatenate([[0], np.flatnonzero(broken) + 1])
    ends = np.concatenate([starts[1:], [len(rows)]])
    runs = [rows[a:b] for a, b in zip(starts, ends, strict=True)]
    new_seq = seq.copy()
    new_dev = device.copy()
    kept_any = False
    last_seq, last_d, last_h, last_dev = 0, 0.0, 0.0, 0.0
    for k, run in enumerate(runs):
        state = (last_seq, last_d, last_h, rate)
        if not kept_any or _continues(seq[run[0]], d_all[run[0]], host_s[run[0]], *state):
            chosen = run
        elif _repeats(seq[run], d_all[run], last_seq, last_d, rate):
            chosen = run[seq[run] > last_seq]
            report.duplicates += len(run) - len(chosen)
        elif k + 1 < len(runs) and _continues(
            seq[runs[k + 1][0]], d_all[runs[k + 1][0]], host_s[runs[k + 1][0]], last_seq, last_d, last_h, rate
        ):
            report.implausible += len(run)
            continue
        elif not report.epochs and _came_late(
            seq[run[0]], device[run[0]], host_s[run[0]], last_seq, last_dev, last_h, rate
        ):  # (after a splice the clocks are shifted: a late run then starts an epoch of its own)
            chosen = run  # the same stream, received seconds late: nothing lost, nothing restarted
        else:
            # A new epoch: align its clock to the previous one through host time, then number
            # its samples on from the previous epoch by what that time allows.
            report.epochs += 1
            shift = last_d - float(np.median(d_all[run]))
            new_dev[run] = device[run] + shift
            gap = new_dev[run[0]] - (last_d + last_h)
            advance = max(1, round(float(gap) * rate)) if np.isfinite(gap) else 1
            new_seq[run] = seq[run] - seq[run[0]] + last_seq + advance
            d_all[run] = new_dev[run] - host_s[run]
            seq = new_seq
            chosen = run
        if len(chosen) == 0:
            continue
        keep[chosen] = True
        kept_any = True
        last_seq, last_d, last_h, last_dev = (
            int(new_seq[chosen[-1]]),
            float(d_all[chosen[-1]]),
            float(host_s[chosen[-1]]),
            float(new_dev[chosen[-1]]),
        )
    return RepairedRows(keep, new_seq[keep], new_dev[keep], report)


def _allowed_steps(host_step_s: np.ndarray, rate_hz: float) -> np.ndarray:
    """Largest plausible counter step across a host-time step (s): twice what the rate allows in
    it plus 5 s, so a sensor that buffered during a disconnection still fits."""
    return 2.0 * rate_hz * (host_step_s + 5.0)


def _continues(
    seq: int, d: float, h: float, last_seq: int, last_d: float, last_h: float, rate: float
) -> bool:
    step = seq - last_seq
    return bool(
        0 < step <= _allowed_steps(np.array(abs(h - last_h)), rate) and abs(d - last_d) <= DEVICE_JUMP_S
    )


def _came_late(
    seq: int, device: float, h: float, last_seq: int, last_device: float, last_h: float, rate: float
) -> bool:
    """A run whose counter and device clock carry on from the newest kept row together (the
    clock moved by what the counter says) while the host received it seconds later than that:
    data delivered late (a receiving process stalled on a busy computer, a link that held its
    notifications), not a restart. A spike that comes back (a corrupt stamp) is caught before."""
    step = seq - last_seq
    return bool(
        0 < step <= _allowed_steps(np.array(abs(h - last_h)), rate)
        and h > last_h
        and abs((device - last_device) - step / rate) <= DEVICE_JUMP_S
    )


def _repeats(seq: np.ndarray, d: np.ndarray, last_seq: int, last_d: float, rate: float) -> bool:
    """A run that starts at or a little before the newest kept counter, on the same clock."""
    back = last_seq - int(seq[0])
    return bool(0 <= back <= rate * DUPLICATE_WINDOW_S and abs(float(d[0]) - last_d) <= DEVICE_JUMP_S)
