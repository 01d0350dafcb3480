"""scikit-digital-health's (skdh, Pfizer) lumbar gait events on a Mobilise-D bout, as a peer of
stabmon's in benchmarks/gait_mobgap.py.

skdh's own bout pipeline with all its defaults (`skdh.gait.GaitLumbar` builds the same one):
`PreprocessGaitBout` (20 Hz low-pass, detrend, its own step frequency from the AP acceleration's
autocovariance in 5-s windows), then the initial (IC) and final contacts (FC) by one of its two
methods — "AP CWT" (`ApCwtGaitEvents`, GaitLumbar's default) or "Vertical CWT"
(`VerticalCwtGaitEvents`, McCamley et al. 2012 with Caramia et al.'s 2019 scales) — and
`CreateStridesAndQc`, which keeps an IC only when the other foot's FC follows within the initial
double support and the same foot's within the stance ("qc": what skdh reports; "raw": its ICs
before that check). It gets the bout with the same margin as every algorithm, in g, on the
sensor's own axes (Mobilise-D: x vertical, z anterior-posterior: `v_axis=0, ap_axis=2`).
GaitLumbar itself skips bouts under 8 s (`min_bout_time`); the pipeline here runs on every bout,
and a bout it fails on gets no contacts and its error message. With `step_frequency_hz` given
(stabmon's estimate), skdh's own step-frequency estimate is replaced by it and all else is
skdh's: its scales and QC windows follow the step frequency, so this separates the two.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or imported from tests
from mobgap_data import MOBILISED_G, Bout, Trial

SKDH_METHODS = {"skdh_ap_cwt": "ApCwtGaitEvents", "skdh_vertical_cwt": "VerticalCwtGaitEvents"}


def skdh_contacts(
    trial: Trial, bout: Bout, margin: int, method: str, step_frequency_hz: float | None = None
) -> tuple[dict[str, np.ndarray], str]:
    """skdh's ICs (samples of the trial) on the bout ± margin samples by one of SKDH_METHODS'
    event classes: {"qc": after its stride QC, "raw": before it}, and "" or the error it raised;
    its step frequency, Hz, replaced by `step_frequency_hz` when given."""
    from skdh.gait import substeps

    class GivenStepFrequency(substeps.PreprocessGaitBout):
        @staticmethod
        def get_step_time(fs: float, accel: np.ndarray, ap_axis: int) -> float:
            return 1.0 / float(step_frequency_hz)

    a, b = max(0, bout.start - margin), min(len(trial.acc_m_s2), bout.end + margin)
    preprocess = substeps.PreprocessGaitBout() if step_frequency_hz is None else GivenStepFrequency()
    none = np.array([], dtype=int)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = {
                "time": np.arange(b - a) / trial.rate_hz,
                "accel": trial.acc_m_s2[a:b] / MOBILISED_G,
                "fs": trial.rate_hz,
                "v_axis": 0,
                "ap_axis": 2,
            }
            for step in (preprocess, getattr(substeps, method)(), substeps.CreateStridesAndQc()):
                found |= step.predict(**found)  # each step's results are the next one's inputs
    except Exception as error:  # skdh's own failure on this bout is a result: no contacts
        return {"qc": none, "raw": none}, f"{type(error).__name__}: {error}"
    return {
        "qc": np.asarray(found["qc_initial_contacts"], dtype=int) + a,
        "raw": np.unique(np.asarray(found["initial_contacts"], dtype=int)) + a,
    }, ""
