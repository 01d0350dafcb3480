"""Trunk inclination for standing-balance analysis: vqf with the gyroscope bias of a bounded posture.

Why not the session's angles. vqf learns the gyroscope bias two ways, and quiet stance fools both:
- rest: "rest" is the rate staying within 2 °/s of its own 0.5-s low-pass for 1.5 s, and the bias
  is then pulled to that low-pass. Sway at 0.1–1 Hz changes its rate slowly enough to pass, so the
  sway's own angular velocity is learned as bias (simulated single-task stance: rest 20–45 % of
  the time; at twice the sway, almost never);
- motion: the bias is pulled towards the disagreement between the gyroscope and the
  accelerometer's inclination, and in sway the accelerometer carries the trunk's linear
  acceleration h·θ'' (at 0.5 Hz as large as g·θ itself), so it disagrees at the sway's
  frequencies.
Either way a bias error of a few tenths of °/s comes and goes with the sway and is integrated into
a slow inclination error as large as the sway (12 simulated stances, seeds 3 5 7 11 14 21 ×
sway scale 1 and 2: lumbar tilt error 0.33° RMS on average, up to 0.87°; sway RMS read up to
1.4× sagittal, 1.6× frontal).

What is used instead. A standing person's posture is bounded, so over a stance of T seconds the
mean angular rate is the gyroscope bias to within (net change of posture) / T: 0.01–0.03 °/s over
20–35 s of simulated stance, where the first 2 s (the calibration capture) are off by up to
0.5 °/s. The analysis has the whole stance, so it takes that mean as the bias and runs vqf with both
bias estimators off (vqf's documented `motionBiasEstEnabled` / `restBiasEstEnabled`): a constant
bias error then only shifts the inclination by tau_acc × error, which the sway measures remove
with the mean. The same 12 stances: error 0.02–0.03° RMS, the true bias giving the same.

Live, only the stance so far is known: quiet stance's filters take the mean rate since the
calibration capture began as the bias, set again every second, vqf's estimators off
(`learns_bias_from_mean_rate`, `OrientationSettings.mean_rate_bias`). The live tilt card then
reads the true sway's RMS to within a few per cent once its window is 10 s into the task
(benchmarks/live_tilt_sway.py; RESULTS.md). The export of a stance recording gives the
analysis' angles (`recordings.derived.exported_processing`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sensors.drills import DrillFamily, drill_family
from sensors.errors import UnknownDrillError
from sensors.placements import Placement
from sensors.processing.angles import segment_inclination
from sensors.processing.errors import ProcessingError
from sensors.processing.orientation import OrientationEstimator, OrientationSettings
from sensors.samples import Frame


def bounded_posture_bias(gyr_rad_s: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Gyroscope bias (3,), rad/s: the mean rate (n, 3) over the rows where valid (n,) is True, of
    a stretch in which the posture returns to where it was (quiet or single-leg stance). Its error
    is the net change of posture over the stretch divided by its length."""
    rows = np.asarray(gyr_rad_s, dtype=float)[np.asarray(valid, dtype=bool)]
    rows = rows[np.isfinite(rows).all(axis=1)]
    if len(rows) == 0:
        raise ProcessingError("no valid gyroscope samples in the stance to learn the sensor's bias from")
    return rows.mean(axis=0)


def stance_orientation(
    frame: Frame, placement: Placement, stance: np.ndarray, settings: OrientationSettings | None = None
) -> np.ndarray:
    """Sensor→earth orientation (n, 4) of one placement over the whole frame (NaN where it has no
    sample), with the gyroscope bias learned over the rows where stance (n,) bool is True
    (`bounded_posture_bias`) and vqf's own bias estimation off. settings: the session's
    orientation settings (their tau_acc and gap handling; default: `OrientationSettings` at the
    frame's rate)."""
    k = frame.index(placement)
    gyr, acc, valid = frame.gyr_rad_s[:, k], frame.acc_m_s2[:, k], frame.valid[:, k]
    base = settings or OrientationSettings(rate_hz=frame.rate_hz)
    fixed = replace(
        base,
        rate_hz=frame.rate_hz,
        motion_bias_estimation=False,
        rest_bias_estimation=False,
        mean_rate_bias=False,
    )
    estimator = OrientationEstimator(fixed)
    estimator.set_gyr_bias(bounded_posture_bias(gyr, valid & np.asarray(stance, dtype=bool)))
    return estimator.step(gyr, acc, valid)


def stance_inclination(
    frame: Frame,
    placement: Placement,
    mount_q: np.ndarray,
    stance: np.ndarray,
    settings: OrientationSettings | None = None,
) -> np.ndarray:
    """Segment [sagittal, frontal] inclination (n, 2), rad, of `stance_orientation`; mount_q (4,)
    is the sensor→segment calibration."""
    return segment_inclination(stance_orientation(frame, placement, stance, settings), mount_q)


def learns_bias_from_mean_rate(drill: str) -> bool:
    """Whether a drill's live orientation takes the mean rate so far as the gyroscope bias, vqf's
    own estimators off (`OrientationSettings.mean_rate_bias`): quiet stance, whose posture is
    bounded from the calibration on."""
    try:
        return drill_family(drill) is DrillFamily.QUIET_STANCE
    except UnknownDrillError:
        return False
