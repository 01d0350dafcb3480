"""Sinks that talk to the terminal: a once-a-second progress line and the end-of-session summary."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping
from typing import TextIO

from sensors.events import Event
from sensors.health import SILENCE_WARNING_S, clock_reset_text, health_warnings, ingest_problems, no_data_text
from sensors.placements import Placement
from sensors.processing.analysis import AnalysisResult
from sensors.processing.live_measures import RunningMeasures
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import NullSink, SessionReport
from sensors.processing.summary import AngleSummary
from sensors.samples import Frame
from sensors.source import SensorHealth, Source


def rate_text(rate_hz: float, nominal_hz: float | None) -> str:
    """A sensor's reported rate (`SensorHealth.rate_hz`, Hz) against the one asked of it: e.g.
    "  100 Hz", or "119.8 Hz (set 100)" for a sensor steadily off it, "    ? Hz" before any data."""
    if not math.isfinite(rate_hz):
        return "    ? Hz"
    if nominal_hz is None or rate_hz == nominal_hz:
        return f"{rate_hz:5g} Hz" if rate_hz == round(rate_hz) else f"{rate_hz:5.1f} Hz"
    return f"{rate_hz:5.1f} Hz (set {nominal_hz:g})"


class ProgressPrinter(NullSink):
    """Prints elapsed session time, per-sensor health and the running trunk sway at most once per
    `interval_s` of wall time; nominal_rate_hz: the rate asked of the sensors (see rate_text)."""

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
            f"{p.value}: {no_data_text(h)}"
            if no_data_text(h)
            else f"{p.value} {rate_text(h.rate_hz, self._nominal_hz)} {100 * h.loss_fraction:4.1f}% lost"
            for p, h in self.source.health().items()
        ]
        line = f"  {frame.time_s[-1]:6.1f} / {self.total_s:.0f} s   " + " | ".join(parts) + self._sway
        print(line, file=self.stream, flush=True)
        warnings = {w for h in self.source.health().values() for w in health_warnings(h)}
        for warning in sorted(warnings - self._warnings):  # say each once, when it starts
            print(f"  ! {warning}", file=self.stream, flush=True)
        self._warnings = warnings

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
        lost = samples_lost(health, report.session_s, rate_hz)
        total = health.samples_received + lost
        lines.append(
            f"  {placement.value:<11} {health.samples_received:7d} samples, "
            f"{100.0 * lost / total if total else 0.0:4.1f}% lost, "
            f"clock drift {report.drift_ppm.get(placement, float('nan')):+6.1f} ppm"
            + (" (the fit's limit: its timing is doubtful)" if placement in report.clock_at_limit else "")
        )
        missing_s = silent_end_s(health, report.session_s)
        if missing_s:
            silence = no_data_text(health) + " to the end" if health.samples_received else "sent no data"
            lines.append(
                f"  ! {placement.value} sensor: {silence} "
                f"({missing_s:.1f} s of {report.session_s:.1f} s, counted as lost)"
            )
        kept_out = ingest_problems(health)
        if kept_out:
            lines.append(f"  ! {placement.value} sensor: {kept_out}")
        if health.clock_resets_s:
            lines.append(f"  ! {clock_reset_text(health)}")
    if report.late_samples:
        lines.append(late_samples_text(report, rate_hz, recorded))
    if report.calibrated:
        lines.append("Calibration: neutral stance, done")
    else:
        reason = report.calibration_failures[-1] if report.calibration_failures else "no still capture"
        lines.append(f"Calibration: NOT done ({reason}); angles unavailable")
    if summary is not None and summary.statistics:
        lines.append(f"Angles after calibration (deg){'mean':>12}{'SD':>8}{'range':>8}")
        # A trace with markedly less than the best one's coverage lacks a sensor's data: say so.
        full = max(stats.coverage for stats in summary.statistics.values())
        for (segment, plane), stats in summary.statistics.items():
            if stats.coverage == 0:
                continue
            label = f"  {segment:<7} {plane:<9}"
            partial = (
                f"   only {100 * stats.coverage:.0f} % of the session" if stats.coverage < 0.95 * full else ""
            )
            lines.append(
                f"{label:<30}{stats.mean_deg:12.1f}{stats.sd_deg:8.2f}{stats.range_deg:8.1f}{partial}"
            )
    return "\n".join(lines)


def silent_end_s(health: SensorHealth, session_s: float) -> float:
    """How long (s) a sensor sent nothing before the end of a session of `session_s` s: from its
    `data_until_s`, when that is more than SILENCE_WARNING_S before the end (0 otherwise: a sensor
    the report was taken a while after has not stopped early)."""
    if health.samples_received == 0:  # it never sent anything: the whole session is missing
        return session_s if session_s > SILENCE_WARNING_S else 0.0
    missing_s = session_s - health.data_until_s
    return missing_s if math.isfinite(missing_s) and missing_s > SILENCE_WARNING_S else 0.0


def samples_lost(health: SensorHealth, session_s: float, rate_hz: float) -> int:
    """Samples a sensor lost in a session of `session_s` s: those its counter skipped, or, for a
    sensor whose data stopped before the end (`data_until_s`), at least the samples the session's
    length at its rate (`health.rate_hz`, else `rate_hz`, Hz) asks for less those received."""
    if not silent_end_s(health, session_s):
        return health.samples_lost
    rate = health.rate_hz if math.isfinite(health.rate_hz) and health.rate_hz > 0 else rate_hz
    return max(health.samples_lost, round(session_s * rate) - health.samples_received)


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
