"""Gait from a lower-back sensor on Mobilise-D lab data: stabmon beside mobgap's own algorithms.

Each participant folder holds `data.mat` and `infoForAlgo.mat` in the Mobilise-D layout (as
mobgap's example data, e.g. ../shared/data/mobgap_lab_HA001). For every INDIP walking bout
(`ContinuousWalkingPeriod`, mobgap's "wb" level) of every test and trial:

- Reference contacts follow mobgap's convention: sample = round(time · rate) − 1 (the MATLAB
  references index from 1), duplicates dropped, those after the bout's end dropped; the bout spans
  samples [round(Start · rate) − 1, round(End · rate)).
- Every algorithm gets the same data: the bout with `--margin-s` (default 0.5 s) on each side, as a
  bout detector or a task marker would give it. stabmon runs `gait_analysis` on it with the
  Mobilise-D sensor's mount (`MOBILISED_MOUNT`: x superior, y right, z anterior); mobgap runs
  IcdShinImproved, IcdIonescu and IcdHKLeeImproved on the sensor's own axes (x vertical).
  scikit-digital-health (gait_skdh.py) runs its own bout pipeline with its defaults, by each of its
  two event methods: "skdh_ap_cwt" / "skdh_vertical_cwt" are its contacts after its stride QC (what
  it reports; cadence by mobgap's CadFromIc, stride length and speed by SlZijlstra / WsNaive as
  for mobgap's detectors), "…_stabmon_cadence" the same contacts with stabmon's robust cadence rule
  (no sides), "…_raw" its contacts before the QC (CadFromIc), and "skdh_vertical_cwt_stabmon_f"
  (and "…_raw") its McCamley events and QC given stabmon's step frequency instead of its own. A
  bout skdh fails on gets no contacts; its message is in the trial's "errors_per_bout".
- Scoring (gait_scoring.py) as mobgap's `categorize_ic_list`: mutual nearest neighbours at most
  the tolerance apart; unpaired detections outside the bout not counted. F1 at ±250 ms; share of
  reference contacts paired within 50 and 100 ms; median lag (detected − reference).
- Cadence of a bout from the algorithm's contacts in it: stabmon's robust cadence
  (step_parameters.py), mobgap's CadFromIc on the bout (mean of its per-second values); against
  the INDIP bout cadence ("cadence_errors_per_bout" per trial, in bout order; stride length and
  speed likewise where measured: "stride_length_errors_per_bout_m", "speed_errors_per_bout_m_s").
  Step-count error: contacts counted in the bout − reference contacts.
  The INDIP lists some contacts without a time (NaN, in turns and shuffles): mobgap's loaders
  drop them, and so does the scoring here (a detection there counts as extra), but their number
  is reported ("untimed_reference_contacts") with the step-count error against all contacts.
  An unpaired detection strictly between an untimed contact's timed neighbours may be that
  contact: "detections_at_untimed" counts them (one per untimed contact), and
  "f1_250ms_with_untimed" counts them as found and the untimed contacts as reference contacts.
  "reference_contacts" feeds the reference's own contacts to stabmon's cadence: the INDIP bout
  cadence (a mean of per-stride values over strides it kept) differs from any cadence of its
  contacts where it left steps out (turns), and that row shows by how much.
  "reference_filled" feeds the reference's timed contacts and INDIP's sides to stabmon's cadence
  with missed steps counted (step_parameters.fill_missed_steps): an untimed contact between two
  timed ones of the same foot is then a missed step, as a detector's would be.
  "reference_per_foot" is INDIP's own stride rule (each contact to the same foot's next,
  step_parameters.per_foot_cadence_steps_per_min) on its listed contacts and sides, untimed ones
  included; "stabmon_per_foot" the same rule on stabmon's contacts and sides, plain and ungated
  (stabmon's own cadence goes per foot only in bouts whose sides it trusts: "bouts_with_trusted_sides").
  "stabmon_stride_cycles" times the strides from the pelvis' stride cycles instead (rising and
  falling zero crossings of the band-passed yaw rate between stabmon's first and last contact,
  gait_stride_cycles.py; "stride_cycles_per_bout"), the contact-based cadence where it finds
  fewer than two; a measured alternative, not stabmon's cadence. "stabmon_sway" also counts
  missed steps where an interior interval of ≥ 1.5 typical steps whose sides alternate holds two
  or more half-cycles of the body's ML sway (gait_sway_steps.py; "sway_half_cycles" per interval);
  measured and not adopted. "stabmon_hip" finds the contacts in the vertical acceleration of the
  hip joints' midpoint instead of the sensor's (the pelvis' rotation about them taken out at the
  step cycle's time scale, gait_hip.py; stabmon's sides and cadence on them); measured in session
  10 and not adopted.
- Sides: "side_agreement" is the share of stabmon's contacts paired with a reference contact
  (±250 ms) whose side agrees with INDIP's, per side rule: stabmon's (side.py), the sign rule
  alone (stabmon before session 6), and mobgap's LrcMcCamley and LrcUllrich (defaults, sensor
  axes) on the same contacts; "side_agreement_at_reference_contacts" the same on the reference's
  own timed contacts.
- Stride length and gait speed against the INDIP bout means (AverageStrideLength, WalkingSpeed:
  plain means of its per-stride values), sensor height from infoForAlgo.mat: stabmon's
  (gait_speed.py) and, on each mobgap detector's contacts, mobgap's SlZijlstra and WsNaive (means
  of their per-second values).

Usage: python benchmarks/gait_mobgap.py DIR [DIR ...] [--margin-s 0.5] [--stabmon-only]
Prints one JSON object: per trial, per participant and test, and pooled per test, per algorithm.
Per trial also each bout's F1 at ±250 ms, share within 100 ms and cadence error, in bout order
("f1_250ms_per_bout", "within_100ms_per_bout", "cadence_errors_per_bout"); per participant and
test and pooled, how many bouts meet each of issue 16's per-bout targets and all three
("bouts_meeting_targets", gait_scoring.py). `benchmarks/gait_targets.py RESULT.json` prints them as
Markdown tables.
mobgap and skdh are needed only for their algorithms: `pip install -e '.[bench]'`. Its example participants
are found with `mobgap.data.get_all_lab_example_data_paths()`.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy.integrate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gait_hip import hip_contacts
from gait_scoring import (
    bouts_meeting_targets,
    mutual_nearest_pairs,
    per_bout_errors,
    score_bout,
    side_counts,
    summarise,
)
from gait_skdh import SKDH_METHODS, skdh_contacts
from gait_stride_cycles import _heading_frame_ml, stride_cycle_cadence_steps_per_min, stride_cycle_times_s
from gait_sway_steps import half_cycles_per_step, sway_cadence_steps_per_min
from mobgap_data import Bout, Trial, load_participant

from sensors import quaternion as quat
from sensors.constants import GRAVITY_M_S2
from sensors.processing.errors import ProcessingError
from sensors.processing.gait import GaitSettings, gait_analysis, step_frequency_hz
from sensors.processing.gait_speed import step_lengths
from sensors.processing.orientation import OrientationEstimator, OrientationSettings
from sensors.processing.side import alternating_sides, side_evidence
from sensors.processing.step_parameters import (
    bout_cadence_steps_per_min,
    per_foot_cadence_steps_per_min,
    robust_cadence_steps_per_min,
)

MOBGAP_ALGORITHMS = ("IcdShinImproved", "IcdIonescu", "IcdHKLeeImproved")
# The Mobilise-D lower-back sensor frame (mobgap's `INITIAL_MOBILISED_ORIENTATION`): x superior,
# y to the right, z anterior. Sensor→segment (segment x anterior, y left, z superior): columns are
# the sensor's axes in the segment frame. The heading frame's AP axis needs it.
MOBILISED_MOUNT = quat.from_matrix(np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]]))


def _stabmon(trial: Trial, q: np.ndarray, vertical: np.ndarray, bout: Bout, margin: int) -> dict:
    a, b = max(0, bout.start - margin), min(len(q), bout.end + margin)
    t = np.arange(len(q)) / trial.rate_hz
    settings = GaitSettings(sensor_height_m=trial.sensor_height_m)
    try:
        acc, gyr = trial.acc_m_s2[a:b], trial.gyr_rad_s[a:b]
        r = gait_analysis(t[a:b], q[a:b], acc, gyr, MOBILISED_MOUNT, settings)
    except ProcessingError:
        return {"contacts": np.array([], dtype=int), "sides": (), "trusted": False}
    contacts = np.round(r.initial_contacts_s * trial.rate_hz).astype(int)
    return {"contacts": contacts, "sides": r.sides, "trusted": r.sides_trusted}


def _side_rules(
    trial: Trial, yaw: np.ndarray, a: int, b: int, contacts: np.ndarray, with_mobgap: bool
) -> dict[str, np.ndarray]:
    """Sides ("left"/"right", (k,)) of contacts (samples, within [a, b)) by every side rule on the
    data [a, b): stabmon's (sign of the band-passed yaw rate through the alternation model),
    the sign rule alone (stabmon before session 6), and mobgap's LrcMcCamley and LrcUllrich with
    their defaults (sensor axes)."""
    evidence = side_evidence(yaw[a:b], trial.rate_hz)[contacts - a]
    name = np.array(["left", "right"])
    rules = {
        "stabmon": name[(alternating_sides(evidence) > 0).astype(int)],
        "sign_rule": name[(evidence >= 0).astype(int)],
    }
    if not with_mobgap or len(contacts) == 0:
        return rules
    import pandas as pd  # the benchmark extra, with mobgap: the HA001 tests run without it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LrcUllrich's pickled model: an older scikit-learn
        from mobgap.laterality import LrcMcCamley, LrcUllrich

    acc, gyr = trial.acc_m_s2[a:b], np.degrees(trial.gyr_rad_s[a:b])
    frame = pd.DataFrame(
        {"acc_is": acc[:, 0], "acc_ml": acc[:, 1], "acc_pa": acc[:, 2]}
        | {"gyr_is": gyr[:, 0], "gyr_ml": gyr[:, 1], "gyr_pa": gyr[:, 2]}
    )
    ics = pd.DataFrame({"ic": contacts - a}).rename_axis(index="step_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, algorithm in (("LrcMcCamley", LrcMcCamley()), ("LrcUllrich", LrcUllrich())):
            found = algorithm.predict(frame, ics, sampling_rate_hz=trial.rate_hz).ic_lr_list_["lr_label"]
            rules[label] = np.asarray(found, dtype=str)
    return rules


def _mobgap(trial: Trial, bout: Bout, margin: int) -> dict[str, np.ndarray]:
    import pandas as pd
    from mobgap import initial_contacts

    a, b = max(0, bout.start - margin), min(len(trial.acc_m_s2), bout.end + margin)
    acc, gyr = trial.acc_m_s2[a:b], np.degrees(trial.gyr_rad_s[a:b])
    frame = pd.DataFrame(
        {"acc_is": acc[:, 0], "acc_ml": acc[:, 1], "acc_pa": acc[:, 2]}
        | {"gyr_is": gyr[:, 0], "gyr_ml": gyr[:, 1], "gyr_pa": gyr[:, 2]}
    )
    out = {}
    for name in MOBGAP_ALGORITHMS:
        algorithm = getattr(initial_contacts, name)()
        ics = algorithm.detect(frame, sampling_rate_hz=trial.rate_hz).ic_list_["ic"].to_numpy()
        out[name] = np.asarray(ics, dtype=int) + a
    return out


def _mobgap_parameters(trial: Trial, contacts: np.ndarray, bout: Bout) -> dict[str, float]:
    """mobgap's cadence (`CadFromIc`), stride length (`SlZijlstra`, its default: the MS scaling
    factor, sensor axes, the participant's sensor height) and speed (`WsNaive`: stride length ×
    cadence / 120) of one bout from an algorithm's contacts in it: means of the per-second values,
    as mobgap's aggregation takes them."""
    import pandas as pd
    from mobgap.cadence import CadFromIc
    from mobgap.stride_length import SlZijlstra
    from mobgap.walking_speed import WsNaive

    rate = trial.rate_hz
    nan = {"cadence": float("nan"), "stride_length": float("nan"), "speed": float("nan")}
    inside = np.unique(np.clip(contacts, bout.start, bout.end - 1) - bout.start)
    if len(inside) < 2:
        return nan
    acc = trial.acc_m_s2[bout.start : bout.end]
    gyr = np.degrees(trial.gyr_rad_s[bout.start : bout.end])
    data = pd.DataFrame(
        {"acc_is": acc[:, 0], "acc_ml": acc[:, 1], "acc_pa": acc[:, 2]}
        | {"gyr_is": gyr[:, 0], "gyr_ml": gyr[:, 1], "gyr_pa": gyr[:, 2]}
    )
    ics = pd.DataFrame({"ic": inside}).rename_axis(index="step_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cadence = CadFromIc().calculate(data, initial_contacts=ics, sampling_rate_hz=rate).cadence_per_sec_
        lengths = SlZijlstra()
        try:
            lengths.calculate(
                data, initial_contacts=ics, sampling_rate_hz=rate, sensor_height_m=trial.sensor_height_m
            )
        except ValueError:  # a bout too short for its filters
            return nan | {"cadence": float(np.nanmean(cadence["cadence_spm"]))}
        stride = lengths.stride_length_per_sec_
        walking = WsNaive().calculate(
            data,
            initial_contacts=ics,
            cadence_per_sec=cadence,
            stride_length_per_sec=stride,
            sampling_rate_hz=rate,
        )
        speed = walking.walking_speed_per_sec_
        return {
            "cadence": float(np.nanmean(cadence["cadence_spm"])),
            "stride_length": float(np.nanmean(stride["stride_length_m"])),
            "speed": float(np.nanmean(speed["walking_speed_mps"])),
        }


def _reference_sides(bout: Bout, contacts: np.ndarray) -> list[str]:
    """INDIP's sides of some of a bout's reference contacts (samples)."""
    where = {int(c): side for c, side in zip(bout.contacts, bout.sides, strict=True)}
    return [where[int(c)] for c in contacts]


def evaluate_trial(trial: Trial, margin_s: float = 0.5, with_mobgap: bool = True) -> dict[str, list[dict]]:
    """Per algorithm, one row per bout of the trial."""
    rate = trial.rate_hz
    q = OrientationEstimator(OrientationSettings(rate_hz=rate)).step(
        trial.gyr_rad_s, trial.acc_m_s2, np.ones(len(trial.acc_m_s2), bool)
    )
    vertical = quat.rotate(q, trial.acc_m_s2)[:, 2] - GRAVITY_M_S2
    t = np.arange(len(q)) / rate
    yaw = quat.rotate(q, trial.gyr_rad_s)[:, 2]
    ml = _heading_frame_ml(q, trial.acc_m_s2, MOBILISED_MOUNT)
    heading = scipy.integrate.cumulative_trapezoid(yaw, t, initial=0.0)
    margin = round(margin_s * rate)
    rows: dict[str, list[dict]] = {}
    for k, bout in enumerate(trial.bouts):
        ours = _stabmon(trial, q, vertical, bout, margin)
        detections = {
            name: ours["contacts"]
            for name in ("stabmon", "stabmon_per_foot", "stabmon_stride_cycles", "stabmon_sway")
        }
        hip = hip_contacts(trial, q, bout, margin, MOBILISED_MOUNT)
        detections["stabmon_hip"] = hip["contacts"]
        detections |= {
            name: bout.contacts for name in ("reference_contacts", "reference_filled", "reference_per_foot")
        }
        detections |= _mobgap(trial, bout, margin) if with_mobgap else {}
        peer_errors = {}
        for name, method in SKDH_METHODS.items() if with_mobgap else ():
            found, error = skdh_contacts(trial, bout, margin, method)
            detections |= {
                name: found["qc"],
                f"{name}_stabmon_cadence": found["qc"],
                f"{name}_raw": found["raw"],
            }
            peer_errors |= {key: error for key in (name, f"{name}_stabmon_cadence", f"{name}_raw")}
        if with_mobgap:  # skdh's McCamley events and QC at stabmon's step frequency
            a, b = max(0, bout.start - margin), min(len(q), bout.end + margin)
            f = step_frequency_hz(vertical[a:b], rate)
            found, error = skdh_contacts(trial, bout, margin, SKDH_METHODS["skdh_vertical_cwt"], f)
            detections |= {
                "skdh_vertical_cwt_stabmon_f": found["qc"],
                "skdh_vertical_cwt_stabmon_f_raw": found["raw"],
            }
            peer_errors |= dict.fromkeys(
                ("skdh_vertical_cwt_stabmon_f", "skdh_vertical_cwt_stabmon_f_raw"), error
            )
        for name, contacts in detections.items():
            row = score_bout(contacts, bout, rate) | {"bout": k, "turning": bout.turning}
            if peer_errors.get(name):
                row["peer_error"] = peer_errors[name]
            in_bout = row.pop("in_bout")
            if name == "stabmon":
                sides = dict(zip(contacts.tolist(), ours["sides"], strict=True))
                cadence = bout_cadence_steps_per_min(
                    in_bout / rate, [sides[int(c)] for c in in_bout], ours["trusted"]
                )
                row["sides_trusted"] = ours["trusted"]
                a, b = max(0, bout.start - margin), min(len(q), bout.end + margin)
                pairs = mutual_nearest_pairs(contacts, bout.contacts, 0.25 * rate)
                rules = _side_rules(trial, yaw, a, b, contacts, with_mobgap)
                row["side_agreement"] = side_counts(rules, pairs, bout)
                at_reference = _side_rules(trial, yaw, a, b, bout.contacts, with_mobgap)
                every = [(j, j) for j in range(len(bout.contacts))]
                row["side_agreement_at_reference_contacts"] = side_counts(at_reference, every, bout)
                if len(in_bout) >= 2:
                    lengths = step_lengths(
                        t[a:b], vertical[a:b], in_bout - a, trial.sensor_height_m, heading_rad=heading[a:b]
                    )
                    row["stride_length_error_m"] = lengths.stride_length_m - bout.stride_length_m
                    row["speed_error_m_s"] = lengths.gait_speed_m_s - bout.speed_m_s
            elif name == "stabmon_hip":  # contacts from the hip joints' acceleration (rule 5b)
                sides = dict(zip(contacts.tolist(), hip["sides"], strict=True))
                cadence = bout_cadence_steps_per_min(
                    in_bout / rate, [sides[int(c)] for c in in_bout], hip["trusted"]
                )
            elif name == "stabmon_per_foot":  # INDIP's per-foot strides on stabmon's contacts and sides
                sides = dict(zip(contacts.tolist(), ours["sides"], strict=True))
                cadence = per_foot_cadence_steps_per_min(in_bout / rate, [sides[int(c)] for c in in_bout])
            elif name == "stabmon_stride_cycles":  # the pelvis' stride cycles between stabmon's contacts
                sides = dict(zip(contacts.tolist(), ours["sides"], strict=True))
                a, b = max(0, bout.start - margin), min(len(q), bout.end + margin)
                times = stride_cycle_times_s(side_evidence(yaw[a:b], rate), rate, in_bout - a)
                cadence = stride_cycle_cadence_steps_per_min(times)
                row["stride_cycles"] = len(times)
                if not np.isfinite(cadence):  # fewer than two strides: the contact-based cadence
                    cadence = bout_cadence_steps_per_min(
                        in_bout / rate, [sides[int(c)] for c in in_bout], ours["trusted"]
                    )
            elif name == "stabmon_sway":  # missed steps also from the body's sway half-cycles
                sides = dict(zip(contacts.tolist(), ours["sides"], strict=True))
                a, b = max(0, bout.start - margin), min(len(q), bout.end + margin)
                half_cycles = half_cycles_per_step(side_evidence(ml[a:b], rate), in_bout - a)
                cadence = sway_cadence_steps_per_min(
                    in_bout / rate, [sides[int(c)] for c in in_bout], ours["trusted"], half_cycles
                )
                row["sway_half_cycles"] = half_cycles.tolist()
            elif name == "reference_contacts" or name.endswith(
                "_stabmon_cadence"
            ):  # stabmon's rule, no sides
                cadence = robust_cadence_steps_per_min(in_bout / rate)
            elif name == "reference_filled":  # the same with INDIP's sides: missed steps counted
                cadence = bout_cadence_steps_per_min(in_bout / rate, _reference_sides(bout, in_bout), False)
            elif name == "reference_per_foot":  # INDIP's rule on its own contacts, untimed ones too
                cadence = per_foot_cadence_steps_per_min(bout.listed_s, bout.listed_sides)
            else:
                mobgap = _mobgap_parameters(trial, in_bout, bout)
                cadence = mobgap["cadence"]
                row["stride_length_error_m"] = mobgap["stride_length"] - bout.stride_length_m
                row["speed_error_m_s"] = mobgap["speed"] - bout.speed_m_s
            row["cadence_error"] = cadence - bout.cadence_steps_per_min
            rows.setdefault(name, []).append(row)
    return rows


def _targets(rows: list[dict], test: str) -> dict[str, dict[str, int]]:
    """Issue 16's per-bout targets: how many of the bouts meet each and all three (none for a test
    without a cadence target)."""
    counts = bouts_meeting_targets(rows, test)
    return {} if counts is None else {"bouts_meeting_targets": counts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", nargs="+", type=Path, help="Mobilise-D participant folders")
    parser.add_argument("--margin-s", type=float, default=0.5, help="data given beyond each bout, s")
    parser.add_argument("--stabmon-only", action="store_true", help="skip mobgap's algorithms")
    args = parser.parse_args(argv)
    per_trial: dict[str, dict] = {}
    pooled: dict[str, dict[str, list[dict]]] = {}
    per_participant: dict[str, dict[str, dict[str, list[dict]]]] = {}
    for folder in args.folders:
        for trial in load_participant(folder):
            rows = evaluate_trial(trial, args.margin_s, with_mobgap=not args.stabmon_only)
            per_trial[trial.name] = {name: summarise(r) | per_bout_errors(r) for name, r in rows.items()}
            participant = per_participant.setdefault(trial.name.rsplit("/", 2)[0], {})
            for name, r in rows.items():
                pooled.setdefault(trial.test, {}).setdefault(name, []).extend(r)
                participant.setdefault(trial.test, {}).setdefault(name, []).extend(r)
    result = {
        "margin_s": args.margin_s,
        "reference": "INDIP ContinuousWalkingPeriod; contacts at round(t*rate)-1 (mobgap convention)",
        "per_trial": per_trial,
        "per_participant_per_test": {
            who: {
                test: {n: summarise(r) | _targets(r, test) for n, r in algs.items()}
                for test, algs in tests.items()
            }
            for who, tests in per_participant.items()
        },
        "pooled_per_test": {
            test: {n: summarise(r) | _targets(r, test) for n, r in algs.items()}
            for test, algs in pooled.items()
        },
    }
    json.dump(result, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
