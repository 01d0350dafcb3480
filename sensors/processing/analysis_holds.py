"""The analysis of the endurance holds (plank, side plank, bird-dog, bridge, Biering-Sørensen)."""

from __future__ import annotations

import math

import numpy as np

from sensors.placements import Placement
from sensors.processing.analysis_data import Measure, SessionData
from sensors.processing.angles import segment_orientation
from sensors.processing.hold_posture import detect_hold_start
from sensors.processing.holds import HoldResult, HoldSettings, hold_analysis, hold_timing

GROUP, SOURCE = "hold", "McGill 1999; clinician's clock; stabmon tilt rule (holds.py)"
TREMOR_WINDOW_S = HoldSettings().tremor_window_s
#: Why a hold measures nothing.
NEVER_REACHED = "the hold position was never reached (no hold start keyed or detected)"
#: Every hold measure, in the order they are reported.
HOLD_MEASURES = (
    ("held", "s"),
    ("position_lost", "1"),
    ("held_imu_rule", "s"),
    ("drift", "deg/min"),
    ("tremor_rms", "deg"),
    ("tremor_frequency", "Hz"),
    ("fatigue_trend", "deg/min"),
)


def _larger(results: list[HoldResult], value: str) -> HoldResult:
    """The segment's result whose `value` is the larger (a NaN counts as none)."""
    return max(results, key=lambda r: np.nan_to_num(getattr(r, value), nan=-math.inf))


def hold(data: SessionData) -> list[Measure]:
    """Held time on the clinician's clock (`holds.hold_timing`); drift, tremor and the IMU's own
    loss rule over the held part. When the posture was lost, of the segment that lost it first;
    when it was held to the end, of the segment that drifts (drift) or shakes (tremor, fatigue
    trend) more: the lumbar and pelvic sensors sit on different segments, and only one may move.
    A hold whose position was never reached (no start keyed or detected) measures nothing: every
    measure is NaN, never a time from the task start."""
    t = data.angles.time_s
    back = (Placement.LUMBAR, Placement.PELVIS)
    segments = np.stack(
        [
            segment_orientation(data.angles.orientation[:, data.angles.placements.index(p)], data.mount_q[p])
            for p in back
        ],
        axis=1,
    )
    clock = hold_timing(data.events)
    if clock.phase == "waiting":  # recorded without the start: detect it as the pipeline does
        clock = hold_timing(tuple(data.events) + detect_hold_start(t, segments, back))
    if not math.isfinite(clock.start_s):
        return [
            Measure(GROUP, name, math.nan, unit, SOURCE, missing=NEVER_REACHED)
            for name, unit in HOLD_MEASURES
        ]
    # The IMU's rule may see the loss a moment after the clinician's E: look 2 s past it.
    upto = t <= clock.end_s + 2.0 if clock.phase == "ended" else np.ones(len(t), bool)
    results = [hold_analysis(t[upto], segments[upto, k], clock.start_s) for k in range(len(back))]
    lost = [r for r in results if r.lost]
    first = min(lost, key=lambda r: r.lost_s) if lost else None
    drifting = first or _larger(results, "drift_deg_per_min")
    shaking = first or _larger(results, "tremor_rms_deg")
    if clock.phase == "ended":
        held, position_lost = clock.held_s, clock.lost
    else:
        held, position_lost = (first.held_s, True) if first else (results[0].held_s, False)
    values = {
        "held": held,
        "position_lost": float(position_lost),
        "held_imu_rule": first.held_s if first else math.nan,
        "drift": drifting.drift_deg_per_min,
        "tremor_rms": shaking.tremor_rms_deg,
        "tremor_frequency": shaking.tremor_frequency_hz,
        "fatigue_trend": shaking.fatigue_trend_deg_per_min,
    }
    missing = {
        "held_imu_rule": "the sensors' tilt rule did not see the posture lost",
        "drift": f"the {held:.1f} s hold was too short to fit a drift (under about a second of steady hold)",
        "tremor_rms": _too_short_for_tremor(held),
        "tremor_frequency": _too_short_for_tremor(held),
        "fatigue_trend": f"the {held:.1f} s hold was too short for a trend (needs at least "
        f"{2 * TREMOR_WINDOW_S:.0f} s: two {TREMOR_WINDOW_S:.0f} s tremor windows)",
    }
    return [
        Measure(
            GROUP,
            name,
            values[name],
            unit,
            SOURCE,
            missing=missing.get(name, "") if math.isnan(values[name]) else "",
        )
        for name, unit in HOLD_MEASURES
    ]


def _too_short_for_tremor(held_s: float) -> str:
    window = f"{TREMOR_WINDOW_S:.0f} s"
    return f"the {held_s:.1f} s hold was too short for tremor (under one {window} tremor window)"
