"""Offline analysis of a session: the measures a clinician reads, as one typed table.

`analyze(data, drill)` picks the measures for the drill's family from the synchronised frames,
the angles the pipeline computed from them, the calibration and the session's events. It calls
the same pure functions a live view uses, so live and offline agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from sensors import quaternion as quat
from sensors.constants import GRAVITY_M_S2
from sensors.drills import HOLD_FAMILIES, DrillFamily, drill_family
from sensors.errors import UnknownDrillError
from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.processing.angles import segment_frame, segment_orientation
from sensors.processing.errors import ProcessingError
from sensors.processing.filters import LowPassSettings, lowpass_zero_phase
from sensors.processing.foot_down import time_to_foot_down
from sensors.processing.gait import GaitResult, GaitSettings, gait_analysis
from sensors.processing.hold_posture import detect_hold_start
from sensors.processing.holds import hold_analysis, hold_timing
from sensors.processing.perturbation import (
    DETECTED_SOURCE,
    NoResponseError,
    PerturbationInstant,
    detect_perturbation_instants,
    merge_perturbation_marks,
    perturbation_response,
)
from sensors.processing.pipeline import AngleBlock
from sensors.processing.rhythm import bend_repetitions
from sensors.processing.runs import true_runs
from sensors.processing.sit_to_stand import sit_to_stand_series
from sensors.processing.sway import sway_measures
from sensors.samples import Frame

#: ISway low-pass for trunk acceleration, Hz (Mancini et al. 2012).
ISWAY_CUTOFF_HZ = 3.5


@dataclass(frozen=True)
class SessionData:
    """What analysis needs of a session (live buffers or a replayed recording)."""

    frame: Frame
    angles: AngleBlock
    mount_q: Mapping[Placement, np.ndarray]
    events: tuple[Event, ...] = ()
    sensor_height_m: float | None = None  # pelvic sensor above the floor, standing (subject setting)


@dataclass(frozen=True)
class Measure:
    """One row of the result table. repetition is None for a session-level value."""

    group: str
    name: str
    value: float
    unit: str
    source: str
    repetition: int | None = None


@dataclass(frozen=True)
class AnalysisResult:
    drill: str
    measures: tuple[Measure, ...]

    def value(self, name: str, repetition: int | None = None) -> float:
        """The value of measure `name` (session level, or of one repetition)."""
        for m in self.measures:
            if m.name == name and m.repetition == repetition:
                return m.value
        raise KeyError(
            f"{self.drill}: no measure {name!r}" + (f" for repetition {repetition}" if repetition else "")
        )

    def rows(self) -> list[dict[str, object]]:
        """The table as plain rows, for printing and export."""
        return [m.__dict__.copy() for m in self.measures]


def task_window(data: SessionData) -> tuple[float, float]:
    """Session times (s) of the task's start and end markers, or of the first and last frame."""
    t = data.frame.time_s
    start = next((e.time_s for e in data.events if e.kind is EventKind.TASK_START), float(t[0]))
    end = next((e.time_s for e in data.events if e.kind is EventKind.TASK_END), float(t[-1]))
    return start, end


def _trunk_acceleration(data: SessionData, window: np.ndarray) -> np.ndarray:
    """Lumbar sensor acceleration in the trunk segment frame (n, 3), ISway-filtered, over window."""
    acc = data.frame.acc(Placement.LUMBAR)[window]
    filtered = lowpass_zero_phase(acc, LowPassSettings(data.frame.rate_hz, ISWAY_CUTOFF_HZ))
    return segment_frame(filtered, data.mount_q[Placement.LUMBAR])


def _stance_measures(data: SessionData, window: np.ndarray, repetition: int | None = None) -> list[Measure]:
    """Trunk sway over the frames selected by `window` (n,) bool."""
    if not np.any(window):
        raise ProcessingError("no synchronised frames in the stance window (a sensor's data stop early?)")
    acc = _trunk_acceleration(data, window)
    isway = sway_measures(acc[:, 0], acc[:, 1], data.frame.rate_hz, acceleration=True)
    angles = np.degrees(data.angles.inclination(Placement.LUMBAR)[window])
    angle_sway = sway_measures(angles[:, 0], angles[:, 1], data.frame.rate_hz)
    src_isway, src_prieto = "Mancini 2012 (ISway), Prieto 1996", "Prieto 1996; Schubert & Kirchner 2014"
    g, k = "trunk control", repetition
    return [
        Measure(g, "acc_rms_ap", isway.rms_ap, "m/s^2", src_isway, k),
        Measure(g, "acc_rms_ml", isway.rms_ml, "m/s^2", src_isway, k),
        Measure(g, "acc_jerk", isway.jerk, "m^2/s^5", src_isway, k),
        Measure(g, "acc_mean_velocity", isway.mean_velocity, "m/s", src_isway, k),
        Measure(g, "acc_ellipse_area_95", isway.ellipse_area_95, "m^2/s^4", src_prieto, k),
        Measure(g, "acc_centroid_ap", isway.spectrum_ap.centroid_hz, "Hz", src_prieto, k),
        Measure(g, "acc_f95_ap", isway.spectrum_ap.f95_hz, "Hz", src_prieto, k),
        Measure(g, "angle_rms_ap", angle_sway.rms_ap, "deg", src_prieto, k),
        Measure(g, "angle_rms_ml", angle_sway.rms_ml, "deg", src_prieto, k),
        Measure(g, "angle_path_length", angle_sway.path_length, "deg", src_prieto, k),
        Measure(g, "angle_ellipse_area_95", angle_sway.ellipse_area_95, "deg^2", src_prieto, k),
    ]


#: Stance is also measured in consecutive windows of this length, s: their spread is the
#: within-session measurement error a re-test comparison needs.
STANCE_WINDOW_S = 10.0


def _stance(data: SessionData) -> list[Measure]:
    start, end = task_window(data)
    t = data.frame.time_s
    rows = _stance_measures(data, (t >= start + 1.0) & (t <= end))
    starts = np.arange(start + 1.0, end - STANCE_WINDOW_S + 1e-9, STANCE_WINDOW_S)
    if len(starts) < 2:
        return rows
    windows: list[Measure] = []
    for k, w0 in enumerate(starts, start=1):
        windows += _stance_measures(data, (t >= w0) & (t < w0 + STANCE_WINDOW_S), k)
    return rows + windows + _means(windows, "trunk control", windows[0].source)


def _single_leg(data: SessionData) -> list[Measure]:
    """Stance sway plus the time on one leg until the foot came down (foot_down.py)."""
    start, end = task_window(data)
    pelvis = np.degrees(data.angles.inclination(Placement.PELVIS)[:, 1])
    by_clinician = any(e.kind is EventKind.TASK_END and "clinician" in e.label for e in data.events)
    r = time_to_foot_down(data.angles.time_s, pelvis, start, end, by_clinician)
    src = "stabmon foot-down rule (foot_down.py); clinician's end-task key"
    return [
        *_stance(data),
        Measure("single-leg", "time_on_one_leg", r.time_s, "s", src),
        Measure("single-leg", "foot_down", float(r.foot_down), "1", src),
    ]


def perturbation_events(data: SessionData) -> list[PerturbationInstant]:
    """The perturbations to analyse: the session's marks merged with the detected pushes (the live
    detector's, or offline pelvic-jerk detection when it did not run), by the rule in
    `perturbation.merge_perturbation_marks`."""
    pushes = [e for e in data.events if e.kind is EventKind.PERTURBATION]
    marks = [(e.time_s, e.source) for e in pushes if e.source != DETECTED_SOURCE]
    detected = [e.time_s for e in pushes if e.source == DETECTED_SOURCE]
    if not detected:
        detected = detect_perturbation_instants(data.frame.time_s, data.frame.acc(Placement.PELVIS)).tolist()
    return merge_perturbation_marks(marks, detected)


def perturbation_instants(data: SessionData) -> list[float]:
    """Perturbation instants, s (see `perturbation_events`)."""
    return [p.time_s for p in perturbation_events(data)]


def _perturbations(data: SessionData) -> list[Measure]:
    t = data.frame.time_s
    trunk = np.degrees(data.angles.inclination(Placement.LUMBAR))
    rows, g, src = [], "perturbation", "METRICS.md §3; Hodges & Bui 1996; Moorhouse & Granata 2005"
    skipped, unanswered = 0, []
    for k, push in enumerate(perturbation_events(data), start=1):
        instant = push.time_s
        near = (t > instant - 1.5) & (t < instant + 3.0)
        after = near & (t >= instant) & (t < instant + 0.5)
        plane = int(
            np.argmax(np.nan_to_num(np.nanmax(trunk[after], axis=0) - np.nanmin(trunk[after], axis=0)))
        )
        try:
            r = perturbation_response(t[near], trunk[near, plane], instant)
        except NoResponseError:  # a mark the trunk did not answer: reported, outside the means
            unanswered.append(Measure(g, "no_response", instant, "s", src, k))
            continue
        except ProcessingError:
            skipped += 1  # data lost during it: reported, not guessed
            continue
        rows += [
            Measure(g, "onset_latency", r.onset_latency_s, "s", src, k),
            Measure(g, "peak_displacement", r.peak_displacement_deg, "deg", src, k),
            Measure(g, "time_to_peak", r.time_to_peak_s, "s", src, k),
            Measure(g, "peak_velocity", r.peak_velocity_deg_s, "deg/s", src, k),
            Measure(g, "overshoot", r.overshoot_ratio, "1", src, k),
            Measure(g, "natural_frequency", r.natural_frequency_rad_s, "rad/s", src, k),
            Measure(g, "damping_ratio", r.damping_ratio, "1", src, k),
            Measure(g, "time_to_stabilisation", r.time_to_stabilisation_s, "s", src, k),
            Measure(g, "anticipatory", float(r.anticipatory), "1", src, k),
        ]
    return (
        rows
        + _means(rows, g, src)
        + [Measure(g, "repetitions_not_measured", float(skipped), "1", src)]
        + [Measure(g, "marks_without_response", float(len(unanswered)), "1", src)]
        + unanswered
    )


def _means(rows: list[Measure], group: str, source: str) -> list[Measure]:
    """Session-level means of per-repetition measures, plus the repetition count."""
    names = dict.fromkeys(m.name for m in rows)
    out = [Measure(group, "repetitions", float(len({m.repetition for m in rows})), "1", source)]
    for name in names:
        values = [m.value for m in rows if m.name == name and math.isfinite(m.value)]
        first = next(m for m in rows if m.name == name)
        mean = float(np.mean(values)) if values else math.nan
        out.append(Measure(group, f"mean_{name}", mean, first.unit, first.source))
    return out


def _bends(data: SessionData) -> list[Measure]:
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
        + _means(rows, g, src)
        + [Measure(g, "deviation_phase", result.deviation_phase_deg, "deg", src), gaps]
    )


def _pelvis_vertical_acceleration(data: SessionData) -> np.ndarray:
    k = data.frame.index(Placement.PELVIS)
    return quat.rotate(data.angles.orientation[:, k], data.frame.acc_m_s2[:, k])[:, 2] - GRAVITY_M_S2


def _sit_to_stand(data: SessionData) -> list[Measure]:
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
    return [*rows, *_means(rows, g, src), Measure(g, "five_rise_time", five_up, "s", "Bohannon 2006"), *five]


def _longest_valid_run(valid: np.ndarray) -> slice:
    runs = true_runs(valid)
    if not runs:
        return slice(0, 0)
    start, stop = max(runs, key=lambda run: run[1] - run[0])
    return slice(start, stop)


#: Walking is also measured in consecutive windows of this length, s: their spread is the
#: within-session measurement error a re-test comparison needs (as stance's windows).
GAIT_WINDOW_S = 10.0


def _gait(data: SessionData) -> list[Measure]:
    start, end = task_window(data)
    t = data.frame.time_s
    k = data.frame.index(Placement.PELVIS)
    q = data.angles.orientation[:, k]
    usable = (t >= start) & (t <= end) & data.frame.valid[:, k] & np.isfinite(q).all(axis=1)
    run = _longest_valid_run(usable)

    def bout(part: slice) -> GaitResult:
        acc, gyr = data.frame.acc_m_s2[part, k], data.frame.gyr_rad_s[part, k]
        settings = GaitSettings(sensor_height_m=data.sensor_height_m)
        return gait_analysis(t[part], q[part], acc, gyr, data.mount_q[Placement.PELVIS], settings)

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


def _hold(data: SessionData) -> list[Measure]:
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


#: The analysis of each drill family (every hold family shares one).
_ANALYSES: dict[DrillFamily, Callable[[SessionData], list[Measure]]] = {
    DrillFamily.QUIET_STANCE: _stance,
    DrillFamily.SINGLE_LEG: _single_leg,
    DrillFamily.PERTURBATIONS: _perturbations,
    DrillFamily.FORWARD_BEND: _bends,
    DrillFamily.SIT_TO_STAND: _sit_to_stand,
    DrillFamily.GAIT: _gait,
    **dict.fromkeys(HOLD_FAMILIES, _hold),
}


def analyze(data: SessionData, drill: str) -> AnalysisResult:
    """The measures for `drill` (a catalogue name, e.g. 'forward-bend' or 'side-plank-left')."""
    try:
        family = drill_family(drill)
    except UnknownDrillError as error:
        raise ProcessingError(str(error)) from None
    return AnalysisResult(drill, tuple(_ANALYSES[family](data)))
