"""Scoring gait events against a reference, as mobgap's `categorize_ic_list` does, and pooling
the scores over bouts (benchmarks/gait_mobgap.py).

- Detections and reference contacts (samples) are paired when they are each other's nearest
  neighbour and at most the tolerance apart. Unpaired detections outside the bout (before its
  first or after its last reference contact) are not counted: the reference does not cover those
  moments. F1 at ±250 ms; share of reference contacts paired within 50 and 100 ms; median lag
  (detected − reference) of the ±250 ms pairs.
- An unpaired detection strictly between an untimed reference contact's timed neighbours may be
  that contact ("at_untimed", one per untimed contact; "f1_250ms_with_untimed").
- Pooled over bouts: counts summed, cadence, stride length and speed errors averaged per bout
  (bias and mean absolute), side agreements summed per side rule.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or imported from tests
from mobgap_data import Bout


def mutual_nearest_pairs(
    detected: np.ndarray, reference: np.ndarray, tolerance: float
) -> list[tuple[int, int]]:
    """(detected, reference) index pairs that are each other's nearest neighbour, ≤ tolerance apart."""
    detected, reference = np.asarray(detected, float), np.asarray(reference, float)
    if len(detected) == 0 or len(reference) == 0:
        return []
    to_ref = np.argmin(np.abs(detected[:, None] - reference[None, :]), axis=1)
    to_det = np.argmin(np.abs(reference[:, None] - detected[None, :]), axis=1)
    return [
        (i, int(j))
        for i, j in enumerate(to_ref)
        if to_det[j] == i and abs(detected[i] - reference[j]) <= tolerance
    ]


def _at_untimed(detected: np.ndarray, unpaired: set[int], bout: Bout, rate: float) -> int:
    """How many unpaired detections (samples) can stand for a contact the reference lists without
    a time: one each, strictly between that contact's timed neighbours in the list."""
    times = bout.listed_s
    found = 0
    free = set(unpaired)
    for k in np.flatnonzero(~np.isfinite(times)):
        before, after = times[:k][np.isfinite(times[:k])], times[k + 1 :][np.isfinite(times[k + 1 :])]
        if not (len(before) and len(after)):
            continue
        lo, hi = before[-1] * rate, after[0] * rate
        match = [i for i in sorted(free) if lo < detected[i] < hi]
        if match:
            free.discard(match[0])
            found += 1
    return found


def score_bout(detected: np.ndarray, bout: Bout, rate: float) -> dict:
    """Counts and lags of one bout's detections (samples) against its reference contacts."""
    ref = bout.contacts
    pairs = mutual_nearest_pairs(detected, ref, 0.25 * rate)
    paired = {i for i, _ in pairs}
    inside = (detected >= ref[0]) & (detected <= ref[-1])
    counted = np.array([i in paired or inside[i] for i in range(len(detected))], dtype=bool)
    unpaired = {i for i in range(len(detected)) if counted[i] and i not in paired}
    return {
        "reference": len(ref),
        "untimed": bout.untimed,
        "at_untimed": _at_untimed(detected, unpaired, bout, rate),
        "detected": int(counted.sum()),
        "paired": len(pairs),
        "within_50ms": len(mutual_nearest_pairs(detected, ref, 0.05 * rate)),
        "within_100ms": len(mutual_nearest_pairs(detected, ref, 0.10 * rate)),
        "lags_s": [float(detected[i] - ref[j]) / rate for i, j in pairs],
        "in_bout": np.sort(detected[counted]),
    }


def side_counts(rules: dict, pairs: list[tuple[int, int]], bout: Bout) -> dict[str, list[int]]:
    """Per side rule, [agreeing, compared] over the (detected, reference) pairs."""
    return {
        rule: [sum(bool(sides[i] == bout.sides[j]) for i, j in pairs), len(pairs)]
        for rule, sides in rules.items()
    }


def _nanmean(values: np.ndarray) -> float:
    """Mean of the finite values; NaN (without numpy's warning) when there are none: a peer that
    found no contacts in any bout."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else float("nan")


def summarise(rows: list[dict]) -> dict:
    """Pooled figures over bouts (counts summed, cadence errors averaged per bout)."""
    ref = sum(r["reference"] for r in rows)
    det = sum(r["detected"] for r in rows)
    paired = sum(r["paired"] for r in rows)
    untimed = sum(r["untimed"] for r in rows)
    lags = [x for r in rows for x in r["lags_s"]]
    cad = np.array([r["cadence_error"] for r in rows], dtype=float)
    out = {
        "bouts": len(rows),
        "reference_contacts": ref,
        "detected_contacts": det,
        "f1_250ms": round(2 * paired / (ref + det), 3) if ref + det else float("nan"),
        "within_50ms": round(sum(r["within_50ms"] for r in rows) / ref, 3),
        "within_100ms": round(sum(r["within_100ms"] for r in rows) / ref, 3),
        "median_lag_s": round(float(np.median(lags)), 3) if lags else float("nan"),
        "cadence_bias_steps_per_min": round(_nanmean(cad), 2),
        "cadence_mae_steps_per_min": round(_nanmean(np.abs(cad)), 2),
        "step_count_error": det - ref,
        "untimed_reference_contacts": untimed,
        "step_count_error_with_untimed": det - ref - untimed,
        "detections_at_untimed": sum(r["at_untimed"] for r in rows),
        "f1_250ms_with_untimed": round(
            2 * (paired + sum(r["at_untimed"] for r in rows)) / (ref + untimed + det), 3
        )
        if ref + untimed + det
        else float("nan"),
    }
    for key in ("stride_length_error_m", "speed_error_m_s"):
        values = np.array([r[key] for r in rows if key in r], dtype=float)
        if len(values):
            out[key.replace("error", "bias")] = round(_nanmean(values), 3)
            out[key.replace("error", "mae")] = round(_nanmean(np.abs(values)), 3)
    for key in ("side_agreement", "side_agreement_at_reference_contacts"):
        counts: dict[str, list[int]] = {}
        for r in rows:
            for rule, (agree, compared) in r.get(key, {}).items():
                total = counts.setdefault(rule, [0, 0])
                total[0] += agree
                total[1] += compared
        if counts:
            out[key] = {rule: round(k / n, 3) if n else float("nan") for rule, (k, n) in counts.items()}
    if any("sides_trusted" in r for r in rows):
        out["bouts_with_trusted_sides"] = sum(bool(r.get("sides_trusted")) for r in rows)
    return out


def per_bout_errors(rows: list[dict]) -> dict[str, list]:
    """Each bout's errors, in bout order: cadence, stride length and speed where measured, and a
    peer's failure messages where it failed."""
    out = {"cadence_errors_per_bout": [round(r["cadence_error"], 2) for r in rows]}
    for key in ("stride_length_error_m", "speed_error_m_s"):
        if any(key in r for r in rows):
            out[key.replace("error", "errors_per_bout")] = [round(float(r.get(key, "nan")), 3) for r in rows]
    if any("stride_cycles" in r for r in rows):  # strides timed from the pelvis' stride cycles
        out["stride_cycles_per_bout"] = [r.get("stride_cycles", 0) for r in rows]
    if any(r.get("peer_error") for r in rows):  # a peer that failed on a bout says why
        out["errors_per_bout"] = [r.get("peer_error", "") for r in rows]
    return out
