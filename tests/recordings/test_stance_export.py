"""The angles a standing-balance recording exports (CSV angles, Motion-BIDS orientations) and the
review shows are the ones its stance measures read (the gyroscope bias learned over the stance,
`recordings.derived.measured_angles`), not the live filter's."""

import csv

import numpy as np
import pytest

from recordings import read_recording
from recordings.analysis import analyze_recording, replay
from recordings.export_bids import export_bids
from recordings.export_csv import export_csv
from recordings.plot_data import TIME, TRUNK_AP, TRUNK_ML
from sensors.events import EventKind
from sensors.placements import Placement
from sensors.processing.analysis_upright import STANCE_SETTLE_S
from sensors.processing.angles import segment_inclination
from sensors.processing.sway import sway_measures
from stabmon.cli import main
from tests.cli_args import RECORD_NO_RADIO


@pytest.fixture(scope="module")
def stance_file(tmp_path_factory):
    """A 15-s simulated quiet stance (seed 21): a 12-s task."""
    folder = tmp_path_factory.mktemp("stance")
    argv = [*RECORD_NO_RADIO, "--drill", "quiet-stance", "--seconds", "15", "--seed", "21"]
    assert main([*argv, "--subject", "P-21", "--out", str(folder)]) == 0
    return next(folder.glob("*.h5"))


def _column(rows, name):
    return np.array([float(r[name]) if r[name] else np.nan for r in rows])


def test_exported_stance_angles_give_the_analysis_tilt_sway(stance_file, tmp_path):
    recording = read_recording(stance_file)
    result = analyze_recording(recording)
    files = export_csv(recording, tmp_path)
    angles = next(p for p in files if p.name.endswith("_angles.csv"))
    with angles.open() as f:
        rows = list(csv.DictReader(f))
    time_s = _column(rows, "time_s")
    trunk = np.stack([_column(rows, "trunk_sagittal_deg"), _column(rows, "trunk_frontal_deg")], axis=1)
    start = next(e.time_s for e in recording.events if e.kind is EventKind.TASK_START)
    end = next(e.time_s for e in recording.events if e.kind is EventKind.TASK_END)
    window = (time_s >= start + STANCE_SETTLE_S) & (time_s <= end)  # the rows the stance measures
    sway = sway_measures(trunk[window, 0], trunk[window, 1], recording.settings.rate_hz)
    assert sway.rms_ap == pytest.approx(result.value("angle_rms_ap"), rel=1e-9)
    assert sway.rms_ml == pytest.approx(result.value("angle_rms_ml"), rel=1e-9)
    # the lumbar angle is trunk − pelvis of the exported inclinations
    pelvis = _column(rows, "pelvis_sagittal_deg")
    lumbar = _column(rows, "lumbar_sagittal_deg")
    known = np.isfinite(lumbar)
    assert known.sum() > 0.8 * len(rows)
    np.testing.assert_allclose(lumbar[known], trunk[known, 0] - pelvis[known], atol=1e-9)


def test_exported_bids_orientation_gives_the_analysis_tilt_sway(stance_file, tmp_path):
    """Motion-BIDS carries orientations, not angles: the trunk's, as exported, is the one the
    stance measures read."""
    recording = read_recording(stance_file)
    result = analyze_recording(recording)
    session = replay(recording, running_measures=False)
    export_bids(recording, session.collector, tmp_path)
    (motion,) = tmp_path.glob("sub-*/motion/*_motion.tsv")
    values = np.genfromtxt(motion, delimiter="\t", missing_values="n/a", filling_values=np.nan)
    k = recording.placements.index(Placement.LUMBAR)
    quaternions = values[:, 10 * k + 6 : 10 * k + 10]  # per sensor: acc (3), gyr (3), quat (4)
    mount = session.collector.calibration.mount_q[Placement.LUMBAR]
    trunk = np.degrees(segment_inclination(quaternions, mount))
    time_s = session.collector.frame.time_s
    start = next(e.time_s for e in recording.events if e.kind is EventKind.TASK_START)
    end = next(e.time_s for e in recording.events if e.kind is EventKind.TASK_END)
    window = (time_s >= start + STANCE_SETTLE_S) & (time_s <= end)
    sway = sway_measures(trunk[window, 0], trunk[window, 1], recording.settings.rate_hz)
    # the file's 17 significant digits of each quaternion: the same sway to far better than 1e-9
    assert sway.rms_ap == pytest.approx(result.value("angle_rms_ap"), rel=1e-9)
    assert sway.rms_ml == pytest.approx(result.value("angle_rms_ml"), rel=1e-9)


def test_the_review_shows_the_tilt_the_analysis_measured(stance_file, tmp_path):
    """The review window's traces and sway plot (its angle rows) are the measured tilt too."""
    from gui.model.review import review  # Qt-free model of the review window

    reviewed = review(stance_file, tmp_path)
    rows = reviewed.rows
    start = next(e.time_s for e in reviewed.recording.events if e.kind is EventKind.TASK_START)
    end = next(e.time_s for e in reviewed.recording.events if e.kind is EventKind.TASK_END)
    window = (rows[:, TIME] >= start + STANCE_SETTLE_S) & (rows[:, TIME] <= end)
    sway = sway_measures(rows[window, TRUNK_AP], rows[window, TRUNK_ML], reviewed.recording.settings.rate_hz)
    assert sway.rms_ap == pytest.approx(reviewed.measures.value("angle_rms_ap"), rel=1e-9)
    assert sway.rms_ml == pytest.approx(reviewed.measures.value("angle_rms_ml"), rel=1e-9)
