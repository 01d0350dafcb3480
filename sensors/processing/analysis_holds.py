"""The analysis of the endurance holds (plank, side plank, bird-dog, bridge, Biering-Sørensen)."""

from __future__ import annotations

import math

import numpy as np

from sensors.placements import Placement
from sensors.processing.analysis_data import Measure, SessionData, task_window
from sensors.processing.angles import segment_orientation
from sensors.processing.hold_posture import detect_hold_start
from sensors.processing.holds import hold_analysis, hold_timing


def hold(data: SessionData) -> list[Measure]:
    """Held time on the clinician's clock (`holds.hold_timing`); drift, tremor and the IMU's own
    loss rule over the held part."""
    start, _ = task_window(data)
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
    hold_start = clock.start_s if math.isfinite(clock.start_s) else start
    # The IMU's rule may see the loss a moment after the clinician's E: look 2 s past it.
    upto = t <= clock.end_s + 2.0 if clock.phase == "ended" else np.ones(len(t), bool)
    results = [hold_analysis(t[upto], segments[upto, k], hold_start) for k in range(len(back))]
    lost = [r for r in results if r.lost]
    first = min(lost, key=lambda r: r.lost_s) if lost else results[0]
    held, position_lost = (clock.held_s, clock.lost) if clock.phase == "ended" else (first.held_s, first.lost)
    g, src = "hold", "McGill 1999; clinician's clock; stabmon tilt rule (holds.py)"
    return [
        Measure(g, "held", held, "s", src),
        Measure(g, "position_lost", float(position_lost), "1", src),
        Measure(g, "held_imu_rule", first.held_s if first.lost else math.nan, "s", src),
        Measure(g, "drift", first.drift_deg_per_min, "deg/min", src),
        Measure(g, "tremor_rms", first.tremor_rms_deg, "deg", src),
        Measure(g, "tremor_frequency", first.tremor_frequency_hz, "Hz", src),
        Measure(g, "fatigue_trend", first.fatigue_trend_deg_per_min, "deg/min", src),
    ]
