"""A sensor's own clock, and how its samples travel over a BLE link: packets, loss, delay."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClockSettings:
    """Device clock = (1 + drift_ppm·1e-6)·true time + offset_s."""

    offset_s: float = 0.0
    drift_ppm: float = 0.0

    def device_time(self, true_time_s: np.ndarray | float) -> np.ndarray:
        return (1.0 + self.drift_ppm * 1e-6) * np.asarray(true_time_s) + self.offset_s

    def true_time(self, device_time_s: np.ndarray) -> np.ndarray:
        return (np.asarray(device_time_s) - self.offset_s) / (1.0 + self.drift_ppm * 1e-6)


@dataclass(frozen=True)
class RadioSettings:
    """How notifications travel.

    samples_per_packet: samples grouped in one notification. A packet leaves `processing_s`
    after its last sample, waits for the next connection event (every connection_interval_s),
    then suffers an exponential host-side delay with mean jitter_mean_s. Loss follows a
    Gilbert–Elliott model: a burst starts with probability burst_start_probability per packet
    and lasts a geometric number of packets with mean mean_burst_packets. start_backlog_s: packets
    sent before this world time (s) are queued and all arrive at it (a host too busy at the start
    to read them, which then takes the backlog at once, one packet every BACKLOG_DRAIN_S).
    host_stalls: (world time s, duration s) spans in which the host reads nothing (its loop busy
    elsewhere); what arrives in one is taken at its end, as the start backlog is.
    """

    samples_per_packet: int = 4
    processing_s: float = 0.001
    connection_interval_s: float = 0.0075
    jitter_mean_s: float = 0.003
    burst_start_probability: float = 0.0
    mean_burst_packets: float = 5.0
    start_backlog_s: float = 0.0
    host_stalls: tuple[tuple[float, float], ...] = ()

    @staticmethod
    def perfect(samples_per_packet: int = 4) -> RadioSettings:
        """No loss and no delay at all."""
        return RadioSettings(samples_per_packet, 0.0, 0.0, 0.0, 0.0)


#: How fast a host drains a backlog of queued packets: one every this many seconds.
BACKLOG_DRAIN_S = 0.0005


class RadioLink:
    """Decides, packet by packet, which packets arrive and when. State carries across calls."""

    def __init__(self, settings: RadioSettings, seed: np.random.SeedSequence) -> None:
        self.settings = settings
        loss_seed, jitter_seed, phase_seed = seed.spawn(3)
        self._loss_rng = np.random.default_rng(loss_seed)
        self._jitter_rng = np.random.default_rng(jitter_seed)
        self._event_phase_s = float(
            np.random.default_rng(phase_seed).uniform(0, max(settings.connection_interval_s, 1e-9))
        )
        self._in_burst = False
        self._last_arrival_s = -np.inf
        self._queued = 0  # packets held in the start backlog so far
        self._stalled: dict[float, int] = {}  # packets held in each host stall so far

    def transmit(self, send_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For packets sent at true times send_s (m,): (delivered mask (m,), arrival times (m,) s)."""
        s = self.settings
        m = len(send_s)
        delivered = np.ones(m, dtype=bool)
        if s.burst_start_probability > 0:
            draws = self._loss_rng.random(m)
            end_probability = 1.0 / s.mean_burst_packets
            for k in range(m):
                if self._in_burst:
                    self._in_burst = draws[k] >= end_probability
                else:
                    self._in_burst = draws[k] < s.burst_start_probability
                delivered[k] = not self._in_burst
        ready = np.asarray(send_s) + s.processing_s
        if s.connection_interval_s > 0:
            ci = s.connection_interval_s
            ready = np.ceil((ready - self._event_phase_s) / ci) * ci + self._event_phase_s
        jitter = self._jitter_rng.exponential(s.jitter_mean_s, m) if s.jitter_mean_s > 0 else np.zeros(m)
        arrival = ready + jitter
        if s.start_backlog_s > 0:
            arrival, self._queued = _held(arrival, -np.inf, s.start_backlog_s, self._queued)
        for stall_s, stall_length_s in s.host_stalls:
            done = self._stalled.get(stall_s, 0)
            arrival, self._stalled[stall_s] = _held(arrival, stall_s, stall_s + stall_length_s, done)
        # A BLE link delivers in order: a packet cannot overtake the one before it.
        arrival = np.maximum.accumulate(np.concatenate([[self._last_arrival_s], arrival]))[1:]
        delivered_arrivals = arrival[delivered]
        if len(delivered_arrivals):
            self._last_arrival_s = float(delivered_arrivals[-1])
        return delivered, arrival


def _held(arrival: np.ndarray, start_s: float, end_s: float, before: int) -> tuple[np.ndarray, int]:
    """Arrival times (m,) s with those in [start_s, end_s) queued until end_s and drained one
    every BACKLOG_DRAIN_S after the `before` packets queued by earlier calls; and the new count."""
    queued = (arrival >= start_s) & (arrival < end_s)
    drained = before + np.cumsum(queued) - 1
    return np.where(queued, end_s + drained * BACKLOG_DRAIN_S, arrival), before + int(
        np.count_nonzero(queued)
    )
