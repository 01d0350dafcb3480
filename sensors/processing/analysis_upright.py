"""The analyses of upright balance: quiet stance, single-leg stance and perturbation responses."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from sensors.events import EventKind
from sensors.placements import Placement
from sensors.processing.analysis_data import (
    Measure,
    SessionData,
    repetition_means,
    task_window,
)
from sensors.processing.angles import lumbar_angles, segment_frame, segment_inclination
from sensors.processing.errors import ProcessingError
from sensors.processing.filters import LowPassSettings, lowpass_zero_phase
from sensors.processing.foot_down import FootDownSettings, foot_down_rule, time_to_foot_down
from sensors.processing.orientation_stance import stance_inclination, stance_orientation
from sensors.processing.perturbation import (
    DETECTED_SOURCE,
    NoResponseError,
    PerturbationInstant,
    detect_perturbation_instants,
    merge_perturbation_marks,
    perturbation_response,
)
from sensors.processing.pipeline import AngleBlock
from sensors.processing.sway import sway_measures

#: Said when a stance window holds no synchronised frame.
NO_STANCE_FRAMES = "no synchronised frames in the stance window (a sensor's data stop early?)"

#: ISway low-pass for trunk acceleration, Hz (Mancini et al. 2012).
ISWAY_CUTOFF_HZ = 3.5


def _trunk_acceleration(data: SessionData, window: np.ndarray) -> np.ndarray:
    """Lumbar sensor acceleration in the trunk segment frame (n, 3), ISway-filtered, over window."""
    acc = data.frame.acc(Placement.LUMBAR)[window]
    filtered = lowpass_zero_phase(acc, LowPassSettings(data.frame.rate_hz, ISWAY_CUTOFF_HZ))
    return segment_frame(filtered, data.mount_q[Placement.LUMBAR])


def _stance_measures(
    data: SessionData, window: np.ndarray, tilt_deg: np.ndarray, repetition: int | None = None
) -> list[Measure]:
    """Trunk sway over the frames selected by `window` (n,) bool; tilt_deg (n, 2): the trunk's
    [sagittal, frontal] inclination over the whole frame (`_trunk_tilt`)."""
    if not np.any(window):
        raise ProcessingError(NO_STANCE_FRAMES)
    acc = _trunk_acceleration(data, window)
    isway = sway_measures(acc[:, 0], acc[:, 1], data.frame.rate_hz, acceleration=True)
    angles = tilt_deg[window]
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
        Measure(g, "angle_mean_velocity", angle_sway.mean_velocity, "deg/s", src_prieto, k),
        Measure(g, "angle_ellipse_area_95", angle_sway.ellipse_area_95, "deg^2", src_prieto, k),
    ]


#: Stance is also measured in consecutive windows of this length, s: their spread is the
#: within-session measurement error a re-test comparison needs.
STANCE_WINDOW_S = 10.0
#: Stance is measured from this long after the task's start, s (the patient settles).
STANCE_SETTLE_S = 1.0


def stance_rows(data: SessionData) -> np.ndarray:
    """The rows (n,) bool of the frame the stance measures cover: from the settling second after
    the task's start to its end."""
    start, end = task_window(data)
    t = data.frame.time_s
    return (t >= start + STANCE_SETTLE_S) & (t <= end)


def _trunk_tilt(data: SessionData, stance: np.ndarray) -> np.ndarray:
    """The trunk's [sagittal, frontal] inclination (n, 2), deg, over the whole frame, with the
    lumbar sensor's gyroscope bias learned over the stance rows (n,) bool rather than by vqf, whose
    bias estimation takes slow sway for bias (`orientation_stance`)."""
    mount = data.mount_q[Placement.LUMBAR]
    return np.degrees(stance_inclination(data.frame, Placement.LUMBAR, mount, stance))


def stance_angles(data: SessionData) -> AngleBlock:
    """The session's angles with every sensor's orientation and inclination as the stance
    measures see the trunk's (`_trunk_tilt`: the gyroscope bias learned over `stance_rows`, not
    by vqf) and the lumbar sagittal and frontal angles from them (the axial rotations stay the
    session's); NaN wherever the session's are (before the calibration, in gaps).
    ProcessingError when the stance holds no frame."""
    stance = stance_rows(data)
    if not np.any(stance):
        raise ProcessingError(NO_STANCE_FRAMES)
    angles = data.angles
    orientation = np.full_like(angles.orientation, np.nan)
    inclination = np.full_like(angles.inclination_rad, np.nan)
    for k, placement in enumerate(angles.placements):
        q = stance_orientation(data.frame, placement, stance)
        tilt = segment_inclination(q, data.mount_q[placement])
        oriented = np.isfinite(angles.orientation[:, k]).all(axis=1)
        orientation[:, k] = np.where(oriented[:, None], q, np.nan)
        inclination[:, k] = np.where(np.isfinite(angles.inclination_rad[:, k]), tilt, np.nan)
    lumbar = angles.lumbar_rad.copy()
    if Placement.LUMBAR in angles.placements and Placement.PELVIS in angles.placements:
        trunk, pelvis = (angles.placements.index(p) for p in (Placement.LUMBAR, Placement.PELVIS))
        lumbar[:, :2] = lumbar_angles(inclination[:, trunk], inclination[:, pelvis])
    return replace(angles, orientation=orientation, inclination_rad=inclination, lumbar_rad=lumbar)


def stance(data: SessionData) -> list[Measure]:
    start, end = task_window(data)
    t = data.frame.time_s
    measured = stance_rows(data)
    if not np.any(measured):  # said before the tilt needs the stance's samples
        raise ProcessingError(NO_STANCE_FRAMES)
    tilt = _trunk_tilt(data, measured)
    rows = _stance_measures(data, measured, tilt)
    starts = np.arange(start + STANCE_SETTLE_S, end - STANCE_WINDOW_S + 1e-9, STANCE_WINDOW_S)
    if len(starts) < 2:
        return rows
    windows: list[Measure] = []
    for k, w0 in enumerate(starts, start=1):
        windows += _stance_measures(data, (t >= w0) & (t < w0 + STANCE_WINDOW_S), tilt, k)
    return rows + windows + repetition_means(windows, "trunk control", windows[0].source)


def single_leg(data: SessionData) -> list[Measure]:
    """Stance sway plus the time on one leg until the foot came down (foot_down.py)."""
    start, end = task_window(data)
    pelvis = np.degrees(data.angles.inclination(Placement.PELVIS)[:, 1])
    by_clinician = any(e.kind is EventKind.TASK_END and "clinician" in e.label for e in data.events)
    r = time_to_foot_down(data.angles.time_s, pelvis, start, end, by_clinician)
    # Beside the key, a cross-check: the rule needs its settling time after the touch-down, and a
    # clinician presses the key at it, so it looks that long past the key (as holds look past E).
    past_key = FootDownSettings().settle_s + FootDownSettings().smooth_s if by_clinician else 0.0
    rule = foot_down_rule(data.angles.time_s, pelvis, start, end + past_key)
    src = "stabmon foot-down rule (foot_down.py); clinician's end-task key"
    return [
        *stance(data),
        Measure("single-leg", "time_on_one_leg", r.time_s, "s", src),
        Measure("single-leg", "foot_down", float(r.foot_down), "1", src),
        Measure(
            "single-leg", "time_on_one_leg_imu_rule", rule.time_s if rule.foot_down else math.nan, "s", src
        ),
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


def perturbations(data: SessionData) -> list[Measure]:
    t = data.frame.time_s
    trunk = np.degrees(data.angles.inclination(Placement.LUMBAR))
    rows, g, src = [], "perturbation", "METRICS.md §3; Hodges & Bui 1996; Moorhouse & Granata 2005"
    skipped, unanswered = 0, []
    for k, push in enumerate(perturbation_events(data), start=1):
        instant = push.time_s
        near = (t > instant - 1.5) & (t < instant + 3.0)
        after = near & (t >= instant) & (t < instant + 0.5)
        if not np.isfinite(trunk[after]).any():
            skipped += 1  # no trunk data after it (a sensor's data stopped): reported, not guessed
            continue
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
        # Expected pushes (the trunk moved before them) and unexpected ones are answered by
        # different control (METRICS.md §3): their latencies are kept apart, never pooled.
        kind = "expected_latency" if r.anticipatory else "reactive_latency"
        lead = [Measure(g, "anticipatory_lead", instant - r.anticipatory_onset_s, "s", src, k)]
        rows += [
            Measure(g, kind, r.onset_latency_s, "s", src, k),
            *(lead if r.anticipatory else []),
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
        + repetition_means(rows, g, src)
        + [Measure(g, "repetitions_not_measured", float(skipped), "1", src)]
        + [Measure(g, "marks_without_response", float(len(unanswered)), "1", src)]
        + unanswered
    )
