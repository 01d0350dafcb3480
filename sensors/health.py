"""Per-sensor health bookkeeping from delivered sample blocks (rate, loss, last packet age)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from sensors.placements import Placement
from sensors.samples import SampleBlock
from sensors.source import LinkState, SensorHealth


@dataclass
class HealthTracker:
    """Counts samples received and lost for one sensor over a sliding window of host time.

    Loss is read from jumps in the device sample counter, so it needs no knowledge of the radio.
    With the sensor's rate known (rate_hz, Hz), a jump counts no more samples lost than the host
    time since the previous block allows (plus `LOSS_SLACK_S`): a corrupt counter cannot report
    more loss than there was time for.
    """

    placement: Placement
    window_s: float = 10.0
    state: LinkState = LinkState.CONNECTING
    _recent: deque[tuple[int, int, int]] = field(default_factory=deque)  # (host ns, got, lost)
    _last_sequence: int | None = None
    _last_host_ns: int | None = None
    samples_received: int = 0
    samples_lost: int = 0
    battery_pct: float = math.nan
    rate_hz: float = math.nan

    def update(self, block: SampleBlock) -> None:
        """Account for one delivered block."""
        if len(block) == 0:
            return
        sequence = block.sequence
        host_ns = int(block.host_receive_ns[-1])
        lost = int(np.sum(np.diff(sequence) - 1))
        if self._last_sequence is not None:
            lost += max(int(sequence[0]) - self._last_sequence - 1, 0)
        if math.isfinite(self.rate_hz) and self._last_host_ns is not None:
            elapsed_s = max(host_ns - self._last_host_ns, 0) * 1e-9
            lost = min(lost, math.ceil((elapsed_s + LOSS_SLACK_S) * self.rate_hz))
        self._last_sequence = int(sequence[-1])
        self._last_host_ns = host_ns
        self.samples_received += len(block)
        self.samples_lost += lost
        self.state = LinkState.STREAMING
        self._recent.append((host_ns, len(block), lost))
        while self._recent and host_ns - self._recent[0][0] > self.window_s * 1e9:
            self._recent.popleft()

    def snapshot(self, now_ns: int, latency_s: float = math.nan, drift_ppm: float = math.nan) -> SensorHealth:
        """Health at host time `now_ns`; latency and drift come from the clock mapping."""
        got = sum(r[1] for r in self._recent)
        lost = sum(r[2] for r in self._recent)
        span_s = (self._recent[-1][0] - self._recent[0][0]) * 1e-9 if len(self._recent) > 1 else 0.0
        rate = (got - self._recent[0][1]) / span_s if span_s > 0 else 0.0
        age = (now_ns - self._last_host_ns) * 1e-9 if self._last_host_ns is not None else math.inf
        return SensorHealth(
            placement=self.placement,
            state=self.state,
            rate_hz=rate,
            loss_fraction=lost / (got + lost) if got + lost else 0.0,
            latency_s=latency_s,
            drift_ppm=drift_ppm,
            battery_pct=self.battery_pct,
            last_packet_age_s=age,
            samples_received=self.samples_received,
            samples_lost=self.samples_lost,
        )


#: Host time (s) beyond the gap between two blocks that a loss count may still cover.
LOSS_SLACK_S = 2.0

#: Thresholds for plain-language warnings.
LOSS_WARNING_FRACTION = 0.05
SILENCE_WARNING_S = 1.0
BATTERY_WARNING_PCT = 15.0
DRIFT_WARNING_PPM = 200.0


#: Below this received signal strength a BLE link starts to drop packets (typical −85 to −90 dBm).
WEAK_SIGNAL_DBM = -85.0


def health_warnings(health: SensorHealth) -> list[str]:
    """What a clinician should know about one sensor, in plain words (empty when all is well),
    e.g. "pelvis sensor: 12 % of packets lost in the last 10 s"."""
    who = f"{health.placement.value} sensor"
    if health.state is LinkState.LOST:
        return [f"{who}: lost — check it is switched on and within reach, then reconnect it"]
    if health.state is LinkState.RECONNECTING:
        return [f"{who}: connection dropped, reconnecting…"]
    warnings = []
    if health.state is LinkState.STREAMING and health.last_packet_age_s > SILENCE_WARNING_S:
        warnings.append(f"{who}: no data for {health.last_packet_age_s:.0f} s")
    if health.loss_fraction >= LOSS_WARNING_FRACTION:
        warnings.append(f"{who}: {100 * health.loss_fraction:.0f} % of packets lost in the last 10 s")
    if not math.isnan(health.battery_pct) and health.battery_pct <= BATTERY_WARNING_PCT:
        warnings.append(f"{who}: battery at {health.battery_pct:.0f} %")
    if not math.isnan(health.rssi_dbm) and health.rssi_dbm < WEAK_SIGNAL_DBM:
        warnings.append(f"{who}: weak signal ({health.rssi_dbm:.0f} dBm) — bring the computer closer")
    if not math.isnan(health.drift_ppm) and abs(health.drift_ppm) > DRIFT_WARNING_PPM:
        warnings.append(f"{who}: its clock runs {health.drift_ppm:+.0f} ppm off — timing may be unreliable")
    kept_out = ingest_problems(health)
    if kept_out:
        warnings.append(f"{who}: {kept_out}")
    return warnings


def ingest_problems(health: SensorHealth) -> str:
    """What the link kept out of the session for one sensor, in plain words ("" when nothing),
    e.g. "2 duplicated notifications dropped, restarted once (new counter epoch, gap flagged)"."""
    parts = []
    if health.decode_errors:
        parts.append(f"{health.decode_errors} malformed notifications ignored")
    if health.duplicates:
        parts.append(f"{health.duplicates} duplicated notifications dropped")
    if health.out_of_order:
        parts.append(f"{health.out_of_order} out-of-order notifications dropped")
    if health.rejected_blocks:
        parts.append(
            f"{health.rejected_blocks} implausible blocks ({health.rejected_samples} samples) "
            "rejected as gaps"
        )
    if health.restarts:
        times = "once" if health.restarts == 1 else f"{health.restarts} times"
        parts.append(f"counter restarted or jumped {times} (new counter epoch, gap flagged)")
    return ", ".join(parts)
