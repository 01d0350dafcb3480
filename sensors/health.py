"""Per-sensor health bookkeeping from delivered sample blocks (rate, loss, last packet age).

The one place a sensor's rate is worked out: `SensorRate` here, reported in `SensorHealth.rate_hz`
and shown as it is by the dashboard and `stabmon record`."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from sensors.placements import Placement
from sensors.samples import SampleBlock
from sensors.source import LinkState, SensorHealth

#: Span (s) of a sensor's latest data its rate is measured over (at least half of it before the
#: measured rate counts; until then the nominal rate is reported).
RATE_WINDOW_S = 10.0
#: The sample counter is looked at once per this much host time (s) of arriving data.
RATE_LOOK_S = 1.0
#: Fewest looks at the counter the rate is measured from.
RATE_LOOKS = 6
#: Relative difference from the nominal rate from which the measured rate is reported instead.
RATE_OFF_FRACTION = 0.05


class SensorRate:
    """The rate a user can trust for one sensor: its nominal rate (Hz) unless its own rate is
    steadily off it by more than RATE_OFF_FRACTION, then the measured one. Measured from the
    steps between successive looks at the counter (samples received + lost, i.e. the counter's
    steps, over the host time between them; one look per RATE_LOOK_S) over the last
    RATE_WINDOW_S: all the counter's steps over all their time, leaving out the steps whose rate
    is more than twice or less than half their median (a stall and the burst that catches up are
    one or two outlying steps, not the rate). Not the median itself: a sensor that delivers in
    frames of varying size (a Polar's paired ACC/GYRO blocks, ~1.4 s apart: 48, 83, 82 samples
    of a 52-Hz sensor) steps at 35, 61 and 60 Hz, whose median is 60."""

    def __init__(self) -> None:
        self._looks: deque[tuple[float, int]] = deque()  # (host s of a block's latest sample, count)

    def look(self, host_s: float, count: int) -> None:
        """The counter stood at `count` (samples received + lost) at host time `host_s` (s)."""
        if self._looks and host_s - self._looks[-1][0] < RATE_LOOK_S:
            return
        self._looks.append((host_s, count))
        while host_s - self._looks[0][0] > RATE_WINDOW_S:
            self._looks.popleft()

    def measured_hz(self) -> float:
        """The rate between looks over the window, outlying steps left out (Hz); NaN before
        RATE_LOOKS looks over half of RATE_WINDOW_S."""
        looks = self._looks
        if len(looks) < RATE_LOOKS or looks[-1][0] - looks[0][0] < RATE_WINDOW_S / 2:
            return math.nan
        times, counts = np.array(looks).T
        steps, spans = np.diff(counts), np.diff(times)
        rates = steps / spans
        median = float(np.median(rates))
        usual = (rates >= median / 2) & (rates <= median * 2)
        return float(steps[usual].sum() / spans[usual].sum())

    def rate_hz(self, nominal_hz: float) -> float:
        """`nominal_hz` unless the measured rate is steadily off it, then the measured rate; with
        no nominal rate (NaN) the measured one (NaN until measured)."""
        measured = self.measured_hz()
        if not math.isfinite(nominal_hz):
            return measured
        if math.isfinite(measured) and abs(measured / nominal_hz - 1.0) > RATE_OFF_FRACTION:
            return measured
        return nominal_hz


@dataclass
class HealthTracker:
    """Counts samples received and lost for one sensor over a sliding window of host time.

    Loss is read from jumps in the device sample counter, so it needs no knowledge of the radio.
    With the sensor's rate known (rate_hz, Hz), a jump counts no more samples lost than the host
    time since the previous block allows (plus `loss_slack_s`): a corrupt counter cannot report
    more loss than there was time for. The rate it reports is `SensorRate`'s, with rate_hz as the
    nominal rate (NaN: unknown, the measured rate is reported); NaN before any data.
    """

    placement: Placement
    window_s: float = 10.0
    state: LinkState = LinkState.CONNECTING
    _recent: deque[tuple[int, int, int, int]] = field(default_factory=deque)  # (host ns, got, lost, span)
    _last_sequence: int | None = None
    _last_host_ns: int | None = None
    samples_received: int = 0
    samples_lost: int = 0
    #: Host time (s) beyond the gap between two blocks that a loss count may still cover (more
    #: for sensors whose blocks come late: SensorIngest sets the gate's arrival slack).
    loss_slack_s: float = 2.0
    battery_pct: float = math.nan
    rate_hz: float = math.nan
    _rate: SensorRate = field(default_factory=SensorRate)

    def update(self, block: SampleBlock) -> None:
        """Account for one delivered block."""
        if len(block) == 0:
            return
        sequence = block.sequence
        host_ns = int(block.host_receive_ns[-1])
        lost = int(np.sum(np.diff(sequence) - 1))
        span = len(block)  # counter steps the block covers: the sensor's own framing
        if self._last_sequence is not None:
            lost += max(int(sequence[0]) - self._last_sequence - 1, 0)
            span = int(sequence[-1]) - self._last_sequence
        if math.isfinite(self.rate_hz) and self._last_host_ns is not None:
            elapsed_s = max(host_ns - self._last_host_ns, 0) * 1e-9
            lost = min(lost, math.ceil((elapsed_s + self.loss_slack_s) * self.rate_hz))
        self._last_sequence = int(sequence[-1])
        self._last_host_ns = host_ns
        self.samples_received += len(block)
        self.samples_lost += lost
        self.state = LinkState.STREAMING
        self._recent.append((host_ns, len(block), lost, span))
        self._rate.look(host_ns * 1e-9, self.samples_received + self.samples_lost)
        while self._recent and host_ns - self._recent[0][0] > self.window_s * 1e9:
            self._recent.popleft()

    def snapshot(
        self,
        now_ns: int,
        latency_s: float = math.nan,
        drift_ppm: float = math.nan,
        origin_ns: int | None = None,
    ) -> SensorHealth:
        """Health at host time `now_ns`; latency and drift come from the clock mapping; origin_ns:
        the host time (ns) of session time 0, for `data_until_s` (None: not known, left NaN).

        Loss is what the sensor's counter says, and its silence: the time since its last block
        beyond what its own blocks span (a Polar's ~1.4-s frames are not a silence), overdue for
        more than SILENCE_WARNING_S, counted as lost at its nominal rate (not at the rate its
        blocks happen to arrive); it then says when its data stopped, whatever its link state."""
        window_ns = self.window_s * 1e9
        recent = [r for r in self._recent if now_ns - r[0] <= window_ns]
        got = sum(r[1] for r in recent)
        lost = sum(r[2] for r in recent)
        rate = self._rate.rate_hz(self.rate_hz) if self.samples_received else math.nan
        age = (now_ns - self._last_host_ns) * 1e-9 if self._last_host_ns is not None else math.inf
        own_hz = self.rate_hz if math.isfinite(self.rate_hz) else rate
        span = max((r[3] for r in recent), default=self._recent[-1][3] if self._recent else 0)
        overdue_s = age - span / own_hz if math.isfinite(own_hz) else age
        data_until_s = math.nan
        if self._last_host_ns is not None and overdue_s > SILENCE_WARNING_S:
            if math.isfinite(own_hz):
                lost += round(min(overdue_s, self.window_s) * own_hz)
            if origin_ns is not None:
                data_until_s = (self._last_host_ns - origin_ns) * 1e-9
        return SensorHealth(
            placement=self.placement,
            state=self.state,
            rate_hz=rate,
            loss_fraction=lost / (got + lost) if got + lost else 0.0,
            latency_s=latency_s,
            drift_ppm=drift_ppm,
            battery_pct=self.battery_pct,
            last_packet_age_s=age,
            overdue_s=overdue_s,
            samples_received=self.samples_received,
            samples_lost=self.samples_lost,
            data_until_s=data_until_s,
        )


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
    silence = no_data_text(health)
    if health.state is LinkState.STREAMING and silence:
        warnings.append(f"{who}: {silence}")
    if health.loss_fraction >= LOSS_WARNING_FRACTION and not silence:  # its silence says it all
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
    reset = clock_reset_text(health)
    if reset:
        warnings.append(reset)
    return warnings


def clock_reset_text(health: SensorHealth) -> str:
    """When a sensor's clock was reset (a reboot, a clock set), in plain words ("" if never), e.g.
    "pelvis sensor's clock was reset at 10.0 s (new clock epoch, gap flagged)"."""
    if not health.clock_resets_s:
        return ""
    when = " and ".join(f"{t:.1f} s" for t in health.clock_resets_s if math.isfinite(t))
    return (
        f"{health.placement.value} sensor's clock was reset{' at ' + when if when else ''}"
        f"{'' if len(health.clock_resets_s) == 1 else f' ({len(health.clock_resets_s)} times)'}"
        " (new clock epoch, gap flagged)"
    )


def no_data_text(health: SensorHealth) -> str:
    """How long a sensor has sent nothing, when that is more than SILENCE_WARNING_S: "no data
    since 12.0 s" (session time, when the source knows it) or "no data for 3 s"; "" otherwise.
    The one wording the progress line, the dashboard's sensor table and the summary use."""
    if math.isfinite(health.data_until_s):
        return f"no data since {health.data_until_s:.1f} s"
    silent_s = health.overdue_s if not math.isnan(health.overdue_s) else health.last_packet_age_s
    if math.isfinite(health.last_packet_age_s) and silent_s > SILENCE_WARNING_S:
        return f"no data for {health.last_packet_age_s:.0f} s"
    return ""


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
    others = health.restarts - len(health.clock_resets_s)  # resets: `clock_reset_text`
    if others > 0:
        times = "once" if others == 1 else f"{others} times"
        parts.append(f"counter restarted or jumped {times} (new counter epoch, gap flagged)")
    return ", ".join(parts)


def silent_spans(
    time_s: np.ndarray, start_s: float, end_s: float, min_s: float = SILENCE_WARNING_S
) -> list[tuple[float, float]]:
    """The spans (from, to), s, of the session span [start_s, end_s] longer than `min_s` in which
    a sensor whose samples are at session times `time_s` (n,) s sent nothing."""
    inside = time_s[(time_s >= start_s) & (time_s <= end_s)]
    edges = np.concatenate([[start_s], inside, [end_s]])
    return [(float(edges[i]), float(edges[i + 1])) for i in np.flatnonzero(np.diff(edges) > min_s)]


def silence_text(placement: Placement, spans: list[tuple[float, float]], start_s: float, end_s: float) -> str:
    """A recording's spans without data from one sensor (`silent_spans`), in plain words ("" for
    none): when, how much of the session, and that what uses the sensor covers only the rest."""
    if not spans:
        return ""
    missing = sum(b - a for a, b in spans)
    if spans[0][0] <= start_s and spans[0][1] >= end_s - SILENCE_WARNING_S:
        return (
            f"{placement.value} sensor: sent no data in the whole session ({missing:.1f} s, counted as "
            f"lost); measures that use the {placement.value} sensor are not measured"
        )
    when = ", ".join(
        f"since {a:.1f} s" if b >= end_s - SILENCE_WARNING_S else f"from {a:.1f} to {b:.1f} s"
        for a, b in spans
    )
    share = 100 * missing / (end_s - start_s) if end_s > start_s else 100.0
    share_text = "< 1 %" if round(share) == 0 else f"{share:.0f} %"  # never "0 %" of a real gap
    return (
        f"{placement.value} sensor: no data {when} ({missing:.1f} s, {share_text} of the session, "
        f"counted as lost); measures that use the {placement.value} sensor cover only the rest"
    )
