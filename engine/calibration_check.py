"""The calibration step's verdict: what a short still-stance (and forward-bend) session showed,
in words for the clinician."""

from __future__ import annotations

from engine.messages import CalibrationCheck
from sensors.processing.calibration import calibrate_functional
from sensors.processing.collector import SessionCollector
from sensors.samples import Frame


def judge_calibration(collector: SessionCollector, failures: list[str], with_bend: bool) -> CalibrationCheck:
    """What the calibration step found, in words for the clinician."""
    if collector.calibration is None:
        reason = failures[-1] if failures else "no still capture was received from every sensor"
        return CalibrationCheck(False, (f"Calibration failed: {reason}",))
    lines = [f"Neutral stance calibrated ({', '.join(p.value for p in collector.calibration.mount_q)})."]
    if not with_bend:
        return CalibrationCheck(True, tuple(lines))
    frame = Frame.concatenate(collector.frames)
    after = frame.time_s > collector.calibration.time_s
    bend_acc = {}
    for placement in collector.calibration.mount_q:
        column = frame.index(placement)
        ok = after & frame.valid[:, column]
        bend_acc[placement] = frame.acc_m_s2[ok, column]
    if any(len(a) == 0 for a in bend_acc.values()):
        return CalibrationCheck(False, (*lines, "No data arrived during the bend; do it again."))
    functional = calibrate_functional(collector.calibration, bend_acc, float(frame.time_s[-1]))
    tilts = ", ".join(f"{p.value} {t:.0f}°" for p, t in functional.bend_tilt_deg.items())
    lines.append(f"Forward bend: deepest tilt {tilts}.")
    lines += list(functional.warnings)
    return CalibrationCheck(not functional.warnings, tuple(lines))
