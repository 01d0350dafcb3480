"""Sinks that talk to the terminal: a once-a-second progress line and the end-of-session summary."""

from __future__ import annotations

import math
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import TextIO

import numpy as np

from sensors.events import Event
from sensors.health import health_warnings, ingest_problems
from sensors.placements import Placement
from sensors.processing.analysis import AnalysisResult
from sensors.processing.live_measures import RunningMeasures
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import NullSink, SessionReport
from sensors.processing.summary import AngleSummary
from sensors.samples import Frame
from sensors.source import SensorHealth, Source

#: Span (s) of a sensor's latest data its rate is measured over (at least half of it before the
#: measured rate counts; until then the nominal rate is shown).
RATE_WINDOW_S = 10.0
#: Fewest looks at a sensor (one a progress line) its rate is measured from.
RATE_LOOKS = 6
#: Relative difference from the nominal rate from which the measured rate is shown instead.
RATE_OFF_FRACTION = 0.05


class SensorRate:
    """The rate a user can trust for one sensor: the nominal rate (Hz) unless the sensor's own
    rate is steadily off it by more than RATE_OFF_FRACTION, then the measured one. Measured as the
    median of the rates between successive looks (samples received + lost, i.e. the counter's
    steps, over the host time between their latest samples) over the last RATE_WINDOW_S: a stall
    and the burst that catches up are one or two outlying steps, not the rate."""

    def __init__(self, nominal_hz: float | None) -> None:
        self.nominal_hz = nominal_hz
        self._looks: deque[tuple[float, int]] = deque()  # (host s of the latest sample, count)

    def text(self, now_s: float, health: SensorHealth) -> str:
        """E.g. "  100 Hz", or "119.8 Hz (set 100)" for a sensor steadily off; now_s: host time (s)."""
        measured = self._measured_hz(now_s, health)
        nominal = self.nominal_hz
        if nominal is None:
            return f"{measured:5.1f} Hz" if math.isfinite(measured) else "    ? Hz"
        if math.isfinite(measured) and abs(measured / nominal - 1.0) > RATE_OFF_FRACTION:
            return f"{measured:5.1f} Hz (set {nominal:g})"
        return f"{nominal:5g} Hz"

    def _measured_hz(self, now_s: float, health: SensorHealth) -> float:
        count = health.samples_received + health.samples_lost
        if count == 0 or not math.isfinite(health.last_packet_age_s):
            return math.nan
        latest_s = now_s - health.last_packet_age_s
        if not self._looks or latest_s > self._looks[-1][0]:
            self._looks.append((latest_s, count))
        while latest_s - self._looks[0][0] > RATE_WINDOW_S:
            self._looks.popleft()
        if len(self._looks) < RATE_LOOKS or latest_s - self._looks[0][0] < RATE_WINDOW_S / 2:
            return math.nan
        times, counts = np.array(self._looks).T
        return float(np.median(np.diff(counts) / np.diff(times)))


class ProgressPrinter(NullSink):
    """Prints elapsed session time, per-sensor health and the running trunk sway at most once per
    `interval_s` of wall time; nominal_rate_hz: the rate asked of the sensors (see SensorRate)."""

    def __init__(
        self,
        source: Source,
        total_s: float,
        stream: TextIO | None = None,
        interval_s: float = 1.0,
        nominal_rate_hz: float | None = None,
    ) -> None:
        self.source = source
        self.total_s = total_s
        self._rates: dict[Placement, SensorRate] = {}
        self._nominal_hz = nominal_rate_hz
        self.stream = stream if stream is not None else sys.stderr  # the one current at the call
        self.interval_s = interval_s
        self._last = 0.0
        self._sway = ""
        self._warnings: set[str] = set()

    def on_measures(self, measures: RunningMeasures) -> None:
        sway = measures.trunk_angle_sway
        self._sway = (
            f"   trunk sway (last {measures.window_s:.0f} s) AP {sway.rms_ap:.2f}° ML {sway.rms_ml:.2f}° RMS"
        )

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        now = time.monotonic()
        if now - self._last < self.interval_s:
            return
        self._last = now
        parts = [
            f"{p.value} {self._rate(p).text(now, h)} {100 * h.loss_fraction:4.1f}% lost"
            for p, h in self.source.health().items()
        ]
        line = f"  {frame.time_s[-1]:6.1f} / {self.total_s:.0f} s   " + " | ".join(parts) + self._sway
        print(line, file=self.stream, flush=True)
        warnings = {w for h in self.source.health().values() for w in health_warnings(h)}
        for warning in sorted(warnings - self._warnings):  # say each once, when it starts
            print(f"  ! {warning}", file=self.stream, flush=True)
        self._warnings = warnings

    def _rate(self, placement: Placement) -> SensorRate:
        return self._rates.setdefault(placement, SensorRate(self._nominal_hz))

    def on_event(self, event: Event) -> None:
        print(
            f"  {event.time_s:6.1f} s   event: {event.kind.value} {event.label}", file=self.stream, flush=True
        )


def format_summary(
    report: SessionReport,
    summary: AngleSummary | None,
    rate_hz: float = 100.0,
    recorded: Mapping[Placement, int] | None = None,
) -> str:
    """Human-readable end-of-session summary: sensors, clock fit, calibration and angle statistics.
    rate_hz: the session's frame rate; recorded: samples per sensor in the saved file (None:
    not checked)."""
    lines = [f"Session: {report.session_s:.1f} s, {report.frames} synchronised frames"]
    lines.append("Sensors:")
    for placement, health in report.health.items():
        total = health.samples_received + health.samples_lost
        lost = 100.0 * health.samples_lost / total if total else 0.0
        lines.append(
            f"  {placement.value:<11} {health.samples_received:7d} samples, {lost:4.1f}% lost, "
            f"clock drift {report.drift_ppm.get(placement, float('nan')):+6.1f} ppm"
            + (" (the fit's limit: its timing is doubtful)" if placement in report.clock_at_limit else "")
        )
        kept_out = ingest_problems(health)
        if kept_out:
            lines.append(f"  ! {placement.value} sensor: {kept_out}")
    if report.late_samples:
        lines.append(late_samples_text(report, rate_hz, recorded))
    if report.calibrated:
        lines.append("Calibration: neutral stance, done")
    else:
        reason = report.calibration_failures[-1] if report.calibration_failures else "no still capture"
        lines.append(f"Calibration: NOT done ({reason}); angles unavailable")
    if summary is not None and summary.statistics:
        lines.append(f"Angles after calibration (deg){'mean':>12}{'SD':>8}{'range':>8}")
        for (segment, plane), stats in summary.statistics.items():
            if stats.coverage == 0:
                continue
            label = f"  {segment:<7} {plane:<9}"
            lines.append(f"{label:<30}{stats.mean_deg:12.1f}{stats.sd_deg:8.2f}{stats.range_deg:8.1f}")
    return "\n".join(lines)


def late_samples_text(report: SessionReport, rate_hz: float, recorded: Mapping[Placement, int] | None) -> str:
    """The samples that came after their live frames had gone out, in plain words: how much of
    the live view that skipped (late samples / frame rate, s: each is one frame's gap for its
    sensor) and whether the recording still holds every sample received (`recorded` per sensor
    against the session's counts; not claimed when unchecked)."""
    skipped = f"Live view: {report.late_samples / rate_hz:.1f} s skipped (sensor data came in late)"
    if recorded is None:
        return skipped
    missing = {
        p: h.samples_received - recorded.get(p, 0)
        for p, h in report.health.items()
        if recorded.get(p, 0) < h.samples_received
    }
    if not missing:
        return f"{skipped}; the recording is complete"
    lacks = ", ".join(f"{p.value} {n} samples" for p, n in missing.items())
    return f"{skipped}; the recording lacks {lacks} that came in"


def format_measures(result: AnalysisResult, repetitions: bool = False) -> str:
    """The session-level measures as the catalogue names them (value with unit, spread over
    repetitions, "Not measured — why"), then each repetition's if asked."""
    from recordings.measure_table import repetition_label, repetition_rows, session_rows

    width = 50
    lines = [f"Measures ({result.drill}):"]
    lines += [f"  {r.name:<{width}} {r.text}" for r in session_rows(result)]
    if repetitions:
        for k, rows in repetition_rows(result).items():
            lines.append(f"  {repetition_label(result, k)}:")
            lines += [f"    {r.name:<{width - 2}} {r.text}" for r in rows]
    return "\n".join(lines)


def progress_callback(label: str, stream: TextIO | None = None) -> Callable[[float], None]:
    """A callback showing `label  42%` on one updating line of a terminal; into a file or pipe it
    writes only the finished line, so logs stay readable. stream: sys.stderr as it is now."""
    stream = sys.stderr if stream is None else stream
    interactive = stream.isatty()

    def show(fraction: float) -> None:
        if interactive:
            end = "\n" if fraction >= 1.0 else ""
            print(f"\r  {label}  {100 * fraction:3.0f}%", end=end, file=stream, flush=True)
        elif fraction >= 1.0:
            print(f"  {label}  done", file=stream, flush=True)

    return show
