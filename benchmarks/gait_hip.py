"""Contacts from the hip joints' vertical acceleration instead of the sensor's (benchmarks/RESULTS.md,
"Gait, issue 16, session 10", rules 5 and 5b; measured and not adopted): the benchmark row
`stabmon_hip` in gait_mobgap.py.

The pelvis is a rigid body: the acceleration of a point at r from the sensor is
a_P = a_S + α × r + ω × (ω × r). The point is the midpoint of the hip joint centres, r_SH = 0.12 m
anterior and 0.10 m inferior of a sensor on the skin over the sacrum (Bell, Pedersen & Brand 1990
hip joint centre with an inter-ASIS width of ~0.25 m, pelvic depth ~0.16 m, ~12° anterior pelvic
tilt). Rule 5b: ω is the gyroscope's rate smoothed by the detector's step-cycle Gaussian at the
bout's step frequency (Caramia et al. 2019's scale), α its derivative. stabmon's detector
(`initial_contacts`, its jolt rule), side labels and cadence run unchanged on that signal.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or imported from tests
from mobgap_data import Bout, Trial

from sensors import quaternion as quat
from sensors.constants import GRAVITY_M_S2
from sensors.processing.gait import GaitSettings, _caramia_sigma_samples, initial_contacts, step_frequency_hz
from sensors.processing.side import contact_sides

# Sensor → midpoint of the hip joint centres, segment frame (x anterior, y left, z superior), m.
HIP_OFFSET_M = (0.12, 0.0, -0.10)


def hip_acceleration(
    time_s: np.ndarray,
    sensor_q: np.ndarray,
    acc_earth_m_s2: np.ndarray,
    gyr_rad_s: np.ndarray,
    mount_q: np.ndarray,
    offset_m: tuple[float, float, float],
    smoothing_s: float,
) -> np.ndarray:
    """Gravity-free earth-frame acceleration (n, 3), m/s², of the point fixed to the segment at
    `offset_m` from the sensor (segment frame, m), from the sensor's (n, 3) m/s², its orientation
    sensor→earth (n, 4), its gyroscope (n, 3) rad/s smoothed by a Gaussian of `smoothing_s` s, and
    its mount sensor→segment (4,): a_P = a_S + α × r + ω × (ω × r)."""
    from scipy.ndimage import gaussian_filter1d

    t = np.asarray(time_s, dtype=float)
    rate = 1.0 / float(np.median(np.diff(t)))
    omega = gaussian_filter1d(np.asarray(gyr_rad_s, dtype=float), smoothing_s * rate, axis=0)
    alpha = np.gradient(omega, t, axis=0)
    r = quat.rotate(quat.conjugate(mount_q), np.asarray(offset_m, dtype=float))  # sensor frame
    rotational = np.cross(alpha, r) + np.cross(omega, np.cross(omega, r))
    return np.asarray(acc_earth_m_s2, dtype=float) + quat.rotate(sensor_q, rotational)


def hip_contacts(trial: Trial, q: np.ndarray, bout: Bout, margin: int, mount_q: np.ndarray) -> dict:
    """Rule 5b on the bout ± margin samples: contacts (samples of the trial) found in the hip
    joints' vertical acceleration, with stabmon's side labels; no contacts where fewer than 5 are
    found (as `gait_analysis` refuses the bout)."""
    a, b = max(0, bout.start - margin), min(len(q), bout.end + margin)
    rate = trial.rate_hz
    t = np.arange(b - a) / rate
    settings = GaitSettings()
    acc_earth = quat.rotate(q[a:b], trial.acc_m_s2[a:b]) - np.array([0.0, 0.0, GRAVITY_M_S2])
    gyr = trial.gyr_rad_s[a:b]
    frequency = step_frequency_hz(acc_earth[:, 2], rate, settings)
    smoothing_s = _caramia_sigma_samples(frequency, rate) / rate
    hip = hip_acceleration(t, q[a:b], acc_earth, gyr, mount_q, HIP_OFFSET_M, smoothing_s)
    contacts = initial_contacts(t, hip[:, 2], settings)
    if len(contacts) < 5:
        return {"contacts": np.array([], dtype=int), "sides": (), "trusted": False}
    labels = contact_sides(quat.rotate(q[a:b], gyr)[:, 2], rate, contacts, settings.side)
    return {"contacts": contacts + a, "sides": labels.sides, "trusted": labels.consistent}
