"""Orientation accuracy on the BROAD dataset: stabmon's live and offline estimators against vqf's
own real-time and offline filters on the same trials.

Error as the dataset defines it: q_e = q_est ⊗ q_true⁻¹ (earth frame), inclination error
2·acos(√(w² + z²)) of q_e, RMSE in degrees over samples where `movement` is true and the
optical truth is not NaN; the filters start from the first sample with no other help.

Usage: python benchmarks/broad_orientation.py DIR      (DIR holds the BROAD .mat trials)
Prints JSON: per trial and mean inclination RMSE, deg, for each estimator.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import scipy.io
import vqf

from sensors import quaternion as quat
from sensors.processing.orientation import (
    OrientationEstimator,
    OrientationSettings,
    estimate_orientation_offline,
)


def inclination_rmse_deg(q_est: np.ndarray, q_true: np.ndarray, counted: np.ndarray) -> float:
    """BROAD inclination RMSE, deg, of estimates (n, 4) against truth (n, 4) over `counted` (n,)."""
    error = quat.multiply(q_est, quat.conjugate(q_true))
    incl = 2 * np.arccos(np.clip(np.sqrt(error[:, 0] ** 2 + error[:, 3] ** 2), 0.0, 1.0))
    keep = counted & np.isfinite(incl)
    return float(np.degrees(np.sqrt(np.mean(incl[keep] ** 2))))


def evaluate_trial(path: Path) -> dict[str, float]:
    data = scipy.io.loadmat(path, squeeze_me=True)
    gyr = np.ascontiguousarray(data["imu_gyr"], dtype=float)
    acc = np.ascontiguousarray(data["imu_acc"], dtype=float)
    truth = np.asarray(data["opt_quat"], dtype=float)
    counted = np.asarray(data["movement"]).astype(bool) & np.isfinite(truth).all(axis=1)
    rate = float(data["sampling_rate"])
    settings = OrientationSettings(rate_hz=rate)
    live = OrientationEstimator(settings).step(gyr, acc, np.ones(len(gyr), bool))
    offline = estimate_orientation_offline(gyr, acc, settings)
    vqf_live = vqf.VQF(1.0 / rate).updateBatch(gyr, acc)["quat6D"]
    vqf_offline = vqf.offlineVQF(gyr, acc, None, 1.0 / rate)["quat6D"]
    return {
        "stabmon_live": inclination_rmse_deg(live, truth, counted),
        "stabmon_offline": inclination_rmse_deg(offline, truth, counted),
        "vqf_realtime": inclination_rmse_deg(vqf_live, truth, counted),
        "vqf_offline": inclination_rmse_deg(vqf_offline, truth, counted),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", type=Path, help="folder with BROAD trial .mat files")
    args = parser.parse_args()
    trials = sorted(args.folder.glob("*.mat"))
    if not trials:
        print(f"broad_orientation: no .mat trials in {args.folder}", file=sys.stderr)
        return 2
    per_trial = {path.stem: evaluate_trial(path) for path in trials}
    names = next(iter(per_trial.values())).keys()
    mean = {name: float(np.mean([r[name] for r in per_trial.values()])) for name in names}
    rounded = {trial: {k: round(v, 3) for k, v in r.items()} for trial, r in per_trial.items()}
    print(
        json.dumps(
            {"trials": rounded, "mean_inclination_rmse_deg": {k: round(v, 3) for k, v in mean.items()}},
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
