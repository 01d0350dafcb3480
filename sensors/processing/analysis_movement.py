"""The analyses of movement: forward bends, sit-to-stand and walking."""

from __future__ import annotations

import math

import numpy as np

from sensors import quaternion as quat
from sensors.constants import GRAVITY_M_S2
from sensors.placements import Placement
from sensors.processing.analysis_data import Measure, SessionData, repetition_means, task_window
from sensors.processing.errors import ProcessingError
from sensors.processing.gait import GaitResult, GaitSettings, gait_analysis
from sensors.processing.rhythm import bend_repetitions
from sensors.processing.runs import true_runs
from sensors.processing.sit_to_stand import sit_to_stand_series


def bends(data: SessionData) -> list[Measure]:
    t = data.angles.time_s
    trunk = np.degrees(data.angles.inclination(Placement.LUMBAR)[:, 0])
    pelvis = np.degrees(data.angles.inclination(Placement.PELVIS)[:, 0])
    result = bend_repetitions(t, trunk, pelvis)
    g, src = "pelvic rhythm", "Laird et al. 2019; Seay et al. 2011"
    rows = []
    for k, r in enumerate(result.repetitions, start=1):
        rows += [
            Measure(g, "trunk_flexion", r.trunk_flexion_deg, "deg", src, k),
            Measure(g, "lumbar_flexion", r.lumbar_flexion_deg, "deg", src, k),
            Measure(g, "pelvic_flexion", r.pelvic_flexion_deg, "deg", src, k),
            Measure(g, "lumbar_contribution_end_range", 100 * r.end_range_lumbar_contribution, "%", src, k),
            Measure(g, "lumbar_pelvic_ratio", r.lumbar_pelvic_ratio, "1", src, k),
            Measure(g, "pelvic_onset_lag", r.pelvic_onset_lag_s, "s", src, k),
            Measure(g, "flexion_duration", r.flexion_duration_s, "s", src, k),
            Measure(g, "duration", r.duration_s, "s", src, k),
            Measure(g, "trunk_peak_velocity", r.trunk_peak_velocity_deg_s, "deg/s", src, k),
            Measure(g, "marp", r.marp_deg, "deg", src, k),
        ]
    gaps = Measure(g, "repetitions_skipped_for_gaps", float(result.skipped_for_gaps), "1", src)
    return (
        rows
        + repetition_means(rows, g, src)
        + [Measure(g, "deviation_phase", result.deviation_phase_deg, "deg", src), gaps]
    )


def _pelvis_vertical_acceleration(data: SessionData) -> np.ndarray:
    k = data.frame.index(Placement.PELVIS)
    return quat.rotate(data.angles.orientation[:, k], data.frame.acc_m_s2[:, k])[:, 2] - GRAVITY_M_S2


def sit_to_stand(data: SessionData) -> list[Measure]:
    trunk = np.degrees(data.angles.inclination(Placement.LUMBAR)[:, 0])
    series = sit_to_stand_series(data.frame.time_s, trunk, _pelvis_vertical_acceleration(data))
    g, src = "sit-to-stand", "Van Lummel et al.; Zijlstra 2012"
    rows = []
    for k, r in enumerate(series.rises, start=1):
        rows += [
            Measure(g, "seat_off", r.seat_off_s, "s", "Schenkman 1990 (peak trunk flexion velocity)", k),
            Measure(g, "flexion_duration", r.flexion_duration_s, "s", src, k),
            Measure(g, "extension_duration", r.extension_duration_s, "s", src, k),
            Measure(g, "trunk_flexion", r.trunk_flexion_deg, "deg", src, k),
            Measure(g, "flexion_peak_velocity", r.flexion_peak_velocity_deg_s, "deg/s", src, k),
            Measure(g, "extension_peak_velocity", r.extension_peak_velocity_deg_s, "deg/s", src, k),
        ]
    total = series.total_time_s(5)
    five = [Measure(g, "five_times_total", total, "s", "Eurobench BENCH 5STS")] if np.isfinite(total) else []
    # Five-times sit-to-stand time, from the first rise's lean to the fifth rise's upright stance
    # (Bohannon 2006 times from "go": the reaction time before the first lean is not included).
    rises = series.rises
    five_up = rises[4].extension_end_s - rises[0].flexion_start_s if len(rises) >= 5 else math.nan
    five_rise = Measure(g, "five_rise_time", five_up, "s", "Bohannon 2006")
    return [*rows, *repetition_means(rows, g, src, instants=("seat_off",)), five_rise, *five]


def _longest_valid_run(valid: np.ndarray) -> slice:
    runs = true_runs(valid)
    if not runs:
        return slice(0, 0)
    start, stop = max(runs, key=lambda run: run[1] - run[0])
    return slice(start, stop)


#: Walking is also measured in consecutive windows of this length, s: their spread is the
#: within-session measurement error a re-test comparison needs (as stance's windows).
GAIT_WINDOW_S = 10.0


def walking_run(data: SessionData) -> slice:
    """The frames gait is measured over: the longest run within the task where the pelvic
    sensor has data and an orientation."""
    start, end = task_window(data)
    t = data.frame.time_s
    k = data.frame.index(Placement.PELVIS)
    q = data.angles.orientation[:, k]
    usable = (t >= start) & (t <= end) & data.frame.valid[:, k] & np.isfinite(q).all(axis=1)
    return _longest_valid_run(usable)


def walking_bout(data: SessionData, part: slice) -> GaitResult:
    """Gait over the frames `part` (e.g. `walking_run(data)`) from the pelvic sensor."""
    k = data.frame.index(Placement.PELVIS)
    q = data.angles.orientation[part, k]
    acc, gyr = data.frame.acc_m_s2[part, k], data.frame.gyr_rad_s[part, k]
    settings = GaitSettings(sensor_height_m=data.sensor_height_m)
    return gait_analysis(data.frame.time_s[part], q, acc, gyr, data.mount_q[Placement.PELVIS], settings)


def gait(data: SessionData) -> list[Measure]:
    run = walking_run(data)

    def bout(part: slice) -> GaitResult:
        return walking_bout(data, part)

    lengths = data.sensor_height_m is not None
    rows = _gait_rows(bout(run), None, lengths)
    window = round(GAIT_WINDOW_S * data.frame.rate_hz)
    starts = range(run.start, run.stop - window + 1, window)
    windows = []
    for n, first in enumerate(starts if len(starts) >= 2 else (), start=1):
        try:
            rows_n = _gait_rows(bout(slice(first, first + window)), n, lengths)
            windows += [m for m in rows_n if m.name != "steps"]
        except ProcessingError:
            continue  # too few steps in this window: it adds no error estimate
    return rows + windows


def _gait_rows(r: GaitResult, repetition: int | None, lengths: bool) -> list[Measure]:
    """Gait measures of one bout; `lengths`: the sensor height is known, so stride length and speed too."""
    g, src, n = "gait", "McCamley 2012; Moe-Nilssen & Helbostad 2004; Bolink 2016", repetition
    pendulum = "Zijlstra & Hof 2003 (inverted pendulum)"
    return [
        Measure(g, "steps", float(len(r.initial_contacts_s)), "1", src, n),
        Measure(g, "cadence", r.cadence_steps_per_min, "steps/min", src, n),
        Measure(g, "left_step_time", r.left_step_time_s, "s", src, n),
        Measure(g, "right_step_time", r.right_step_time_s, "s", src, n),
        Measure(g, "step_time_symmetry_index", r.step_time_symmetry_index_pct, "%", "Zifchock 2008", n),
        Measure(g, "step_regularity", r.step_regularity, "1", src, n),
        Measure(g, "stride_regularity", r.stride_regularity, "1", src, n),
        Measure(g, "stride_time", r.stride_time_s, "s", src, n),
        Measure(g, "harmonic_ratio_ap", r.harmonic_ratio_ap, "1", src, n),
        Measure(g, "harmonic_ratio_v", r.harmonic_ratio_v, "1", src, n),
        Measure(g, "harmonic_ratio_ml", r.harmonic_ratio_ml, "1", src, n),
        Measure(g, "pelvic_tilt_range", float(np.median(r.pelvic_tilt_range_deg)), "deg", src, n),
        Measure(g, "pelvic_obliquity_range", float(np.median(r.pelvic_obliquity_range_deg)), "deg", src, n),
        Measure(g, "pelvic_rotation_range", float(np.median(r.pelvic_rotation_range_deg)), "deg", src, n),
        # Only with the sensor height (a subject setting): the inverted-pendulum step length.
        *(
            [
                Measure(g, "stride_length", r.stride_length_m, "m", pendulum, n),
                Measure(g, "gait_speed", r.gait_speed_m_s, "m/s", pendulum, n),
            ]
            if lengths
            else []
        ),
    ]
