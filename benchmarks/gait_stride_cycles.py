"""Bout cadence from the pelvis' stride cycles instead of single contacts (a benchmark row,
`stabmon_stride_cycles`; measured and not adopted: benchmarks/RESULTS.md, "Gait, issue 16,
session 9, gait-stride").

The pelvis rotates about the vertical towards the leading leg at each contact, so its yaw rate
band-passed to the stride band (side.py `side_evidence`, 0.5–2 Hz) swings once per stride. A
Schmitt trigger at ± half the median |evidence| at the bout's contacts times its rising and its
falling zero crossings; successive same-direction crossings between the bout's first and last
contact are stride times, and the bout cadence is `step_parameters.bout_mean` of 120 / stride
time, as the contact-based cadence takes it (choice 1). Choice 1b: the same on the heading-frame
medio-lateral acceleration (the body's sway), its trigger scaled by the median per-step peak
(`swing_scale`); choice 1c: the first and last stride from the contacts (`with_contact_edges`).

Usage: python benchmarks/gait_stride_cycles.py DIR [DIR ...] — per trial and participant/test,
the cadence errors of stabmon's cadence and of choices 1, 1c, 1b, 1b + 1c, as JSON.
"""

from __future__ import annotations

import itertools

import numpy as np

from sensors.processing.step_parameters import bout_mean


def stride_events(evidence: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Rising and falling stride events, fractional sample indices ((r,), (f,)), of the
    stride-periodic evidence (n,) by a Schmitt trigger at ±threshold: a rising event is the last
    zero crossing (linearly interpolated) before the evidence exceeds +threshold having been below
    −threshold since the previous one; falling events likewise with the signs swapped."""
    e = np.asarray(evidence, dtype=float)
    level = np.where(e > threshold, 1, np.where(e < -threshold, -1, 0))
    marked = np.flatnonzero(level)
    if len(marked) < 2 or threshold <= 0:
        return np.zeros(0), np.zeros(0)
    held = level[marked]  # the trigger's state at each sample beyond a threshold
    flips = marked[1:][held[1:] != held[:-1]]  # first sample beyond the opposite threshold
    rising, falling = [], []
    for j in flips:
        up = e[j] > 0
        k = j - 1  # back to the last zero crossing: e[k] on the far side of zero, e[k + 1] not
        while k > 0 and (e[k] > 0) == up:
            k -= 1
        event = k + (0.0 - e[k]) / (e[k + 1] - e[k]) if e[k + 1] != e[k] else float(k)
        (rising if up else falling).append(event)
    return np.array(rising), np.array(falling)


def contact_scale(evidence: np.ndarray, contacts: np.ndarray) -> float:
    """Choice 1's trigger scale: the median |evidence| (n,) at the contacts (indices (c,))."""
    return float(np.median(np.abs(np.asarray(evidence, dtype=float)[np.asarray(contacts, dtype=int)])))


def swing_scale(evidence: np.ndarray, contacts: np.ndarray) -> float:
    """Choice 1b's trigger scale: the median over the step intervals between consecutive contacts
    (indices (c,), sorted) of the largest |evidence| (n,) in each, contacts included."""
    e = np.abs(np.asarray(evidence, dtype=float))
    idx = np.asarray(contacts, dtype=int)
    peaks = [e[i : j + 1].max() for i, j in itertools.pairwise(idx)]
    return float(np.median(peaks)) if peaks else 0.0


def stride_cycle_times_s(
    evidence: np.ndarray, rate_hz: float, contacts: np.ndarray, scale: float | None = None
) -> np.ndarray:
    """Stride times (k,), s, of a bout from its stride-periodic evidence (n,) (`side_evidence`)
    and its sorted contacts (indices (c,)): intervals between successive rising and between
    successive falling stride events (`stride_events`, threshold half of `scale`, by default
    `contact_scale`) between the first and the last contact, in order of their start."""
    e = np.asarray(evidence, dtype=float)
    idx = np.asarray(contacts, dtype=int)
    if len(idx) < 2:
        return np.zeros(0)
    rising, falling = stride_events(e, 0.5 * (contact_scale(e, idx) if scale is None else scale))
    starts: list[float] = []
    times: list[float] = []
    for events in (rising, falling):
        inside = events[(events >= idx[0]) & (events <= idx[-1])]
        starts.extend(inside[:-1])
        times.extend(np.diff(inside) / rate_hz)
    order = np.argsort(starts, kind="stable")
    return np.asarray(times, dtype=float)[order]


def with_contact_edges(stride_times_s: np.ndarray, contacts_s: np.ndarray) -> np.ndarray:
    """Choice 1c: the cycles' stride times (k,) s between the first stride (first → third
    contact) and the last (third-last → last) of the sorted contacts (c,) s; as given for fewer
    than three contacts."""
    t = np.asarray(contacts_s, dtype=float)
    if len(t) < 3:
        return np.asarray(stride_times_s, dtype=float)
    return np.concatenate([[t[2] - t[0]], stride_times_s, [t[-1] - t[-3]]])


def stride_cycle_cadence_steps_per_min(stride_times_s: np.ndarray) -> float:
    """Bout cadence, steps/min: `bout_mean` of 120 / stride time over stride times (k,) s; NaN
    for fewer than two."""
    times = np.asarray(stride_times_s, dtype=float)
    return bout_mean(120.0 / times) if len(times) >= 2 else float("nan")


def _heading_frame_ml(q: np.ndarray, acc_m_s2: np.ndarray, mount_q: np.ndarray) -> np.ndarray:
    """Medio-lateral (leftward) acceleration (n,) m/s² in the heading frame, as `gait_analysis`
    takes it: the earth-frame acceleration across the segment's horizontal anterior axis."""
    from sensors import quaternion as quat
    from sensors.processing.angles import segment_orientation

    acc_earth = quat.rotate(q, acc_m_s2)
    anterior = quat.rotate(segment_orientation(q, mount_q), np.array([1.0, 0.0, 0.0]))
    heading = np.arctan2(anterior[:, 1], anterior[:, 0])
    return np.cos(heading) * acc_earth[:, 1] - np.sin(heading) * acc_earth[:, 0]


def main(argv: list[str] | None = None) -> int:
    """Per participant/test and per bout, cadence error (steps/min) of stabmon's contact-based
    cadence and of choices 1, 1c, 1b and 1b+1c on stabmon's contacts in each bout."""
    import argparse
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gait_mobgap import MOBILISED_MOUNT, _stabmon
    from gait_scoring import score_bout
    from mobgap_data import load_participant

    from sensors import quaternion as quat
    from sensors.constants import GRAVITY_M_S2
    from sensors.processing.orientation import OrientationEstimator, OrientationSettings
    from sensors.processing.side import side_evidence
    from sensors.processing.step_parameters import bout_cadence_steps_per_min

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folders", nargs="+", type=Path, help="Mobilise-D participant folders")
    parser.add_argument("--margin-s", type=float, default=0.5, help="data given beyond each bout, s")
    args = parser.parse_args(argv)
    variants = ("contacts", "1_yaw", "1c_yaw_edges", "1b_ml", "1b_1c_ml_edges")
    per_trial: dict[str, dict[str, list[float]]] = {}
    for folder in args.folders:
        for trial in load_participant(folder):
            rate = trial.rate_hz
            q = OrientationEstimator(OrientationSettings(rate_hz=rate)).step(
                trial.gyr_rad_s, trial.acc_m_s2, np.ones(len(trial.acc_m_s2), bool)
            )
            vertical = quat.rotate(q, trial.acc_m_s2)[:, 2] - GRAVITY_M_S2
            yaw = quat.rotate(q, trial.gyr_rad_s)[:, 2]
            ml = _heading_frame_ml(q, trial.acc_m_s2, MOBILISED_MOUNT)
            margin = round(args.margin_s * rate)
            rows = per_trial.setdefault(trial.name, {v: [] for v in variants})
            for bout in trial.bouts:
                ours = _stabmon(trial, q, vertical, bout, margin)
                in_bout = score_bout(ours["contacts"], bout, rate)["in_bout"]
                sides = dict(zip(ours["contacts"].tolist(), ours["sides"], strict=True))
                base = bout_cadence_steps_per_min(
                    in_bout / rate, [sides[int(c)] for c in in_bout], ours["trusted"]
                )
                a, b = max(0, bout.start - margin), min(len(q), bout.end + margin)
                idx = in_bout - a
                e_yaw, e_ml = side_evidence(yaw[a:b], rate), side_evidence(ml[a:b], rate)
                cycles = {
                    "1_yaw": stride_cycle_times_s(e_yaw, rate, idx),
                    "1b_ml": stride_cycle_times_s(e_ml, rate, idx, swing_scale(e_ml, idx)),
                }
                cycles["1c_yaw_edges"] = with_contact_edges(cycles["1_yaw"], in_bout / rate)
                cycles["1b_1c_ml_edges"] = with_contact_edges(cycles["1b_ml"], in_bout / rate)
                rows["contacts"].append(base - bout.cadence_steps_per_min)
                for name, times in cycles.items():
                    cadence = stride_cycle_cadence_steps_per_min(times)
                    cadence = cadence if np.isfinite(cadence) else base
                    rows[name].append(cadence - bout.cadence_steps_per_min)
    grouped: dict[str, dict[str, list[float]]] = {}
    for name, rows in per_trial.items():
        group = name.rsplit("/", 1)[0]
        for v, errors in rows.items():
            grouped.setdefault(group, {}).setdefault(v, []).extend(errors)
    out = {
        "per_trial_cadence_errors_per_bout": {
            n: {v: [round(x, 2) for x in e] for v, e in rows.items()}
            for n, rows in per_trial.items()
            if rows["contacts"]
        },
        "per_participant_test_cadence_bias_mae": {
            g: {
                v: [round(float(np.mean(e)), 2), round(float(np.mean(np.abs(e))), 2)] for v, e in rows.items()
            }
            for g, rows in grouped.items()
            if rows["contacts"]
        },
    }
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
