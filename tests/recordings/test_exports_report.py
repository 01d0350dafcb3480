"""CSV and Motion-BIDS exports and the clinical report, checked against the recording itself."""

import csv
import dataclasses
import html.parser
import json
from pathlib import Path

import numpy as np
import pytest

from recordings import read_recording
from recordings.analysis import analyze_recording, replay
from recordings.export_bids import BidsLabelError, export_bids
from recordings.export_csv import export_csv
from sensors.placements import Placement
from stabmon.cli import main
from tests.cli_args import RECORD_SIMULATED

BIDS_CHANNEL_COLUMNS = ["name", "component", "type", "tracked_point", "units"]
BIDS_TYPES = {"ACCEL", "ANGACCEL", "GYRO", "JNTANG", "LATENCY", "MAGN", "MISC", "ORNT", "POS", "VEL"}


@pytest.fixture(scope="module")
def bend_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lib")
    argv = [*RECORD_SIMULATED, "--drill", "forward-bend", "--seconds", "25"]
    assert main([*argv, "--subject", "P-07", "--seed", "4", "--out", str(folder)]) == 0
    return next(folder.glob("*.h5"))


def test_csv_export_holds_every_raw_sample_and_the_measures(bend_file, tmp_path):
    rec = read_recording(bend_file)
    result = analyze_recording(rec)
    files = {p.name.removeprefix(bend_file.stem + "_"): p for p in export_csv(rec, tmp_path, result)}
    assert set(files) == {"raw_lumbar.csv", "raw_pelvis.csv", "angles.csv", "events.csv", "measures.csv"}
    with files["raw_pelvis.csv"].open() as f:
        rows = list(csv.DictReader(f))
    samples = rec.samples[rec.placements[1]]
    assert len(rows) == len(samples)
    np.testing.assert_array_equal([float(r["acc_z_m_s2"]) for r in rows], samples.acc_m_s2[:, 2])  # lossless
    np.testing.assert_array_equal([int(r["sequence"]) for r in rows], samples.sequence)
    with files["angles.csv"].open() as f:
        header = next(csv.reader(f))
        f.seek(0)
        angles = list(csv.DictReader(f))
    assert len(header) == len(set(header))  # each signal named once
    assert len(angles) == len(rec.processing.time_s)
    k = len(angles) // 2
    lumbar_sensor = rec.placements.index(Placement.LUMBAR)
    assert float(angles[k]["lumbar_sagittal_deg"]) == pytest.approx(
        np.degrees(rec.processing.lumbar_rad[k, 0])
    )
    assert float(angles[k]["trunk_sagittal_deg"]) == pytest.approx(
        np.degrees(rec.processing.inclination_rad[k, lumbar_sensor, 0])
    )
    assert {"trunk_valid", "pelvis_valid", "pelvis_frontal_deg", "trunk_axial_deg"} <= set(header)
    with files["measures.csv"].open() as f:
        rows = list(csv.DictReader(f))
    measures = {r["key"]: float(r["value"]) for r in rows if r["value"]}
    assert measures["mean_trunk_flexion"] == result.value("mean_trunk_flexion")
    by_key = {r["key"]: r for r in rows}
    shown = by_key["mean_trunk_flexion"]
    assert (shown["measure"], shown["unit"]) == ("Trunk flexion range, mean of bends", "°")
    assert shown["repetition"] == "" and by_key["trunk_flexion#2"]["repetition"] == "bend 2"


def test_motion_bids_export_is_structurally_valid(bend_file, tmp_path):
    rec = read_recording(bend_file)
    session = replay(rec)
    export_bids(rec, session.collector, tmp_path)
    first = {p.name: p.read_bytes() for p in (tmp_path / "sub-P07" / "motion").iterdir()}
    export_bids(rec, session.collector, tmp_path)  # the same recording again: replaces its run
    assert {p.name: p.read_bytes() for p in (tmp_path / "sub-P07" / "motion").iterdir()} == first
    later = dataclasses.replace(
        rec, attributes={**rec.attributes, "created_utc": "2026-02-03T04:05:06.789000"}
    )
    export_bids(later, session.collector, tmp_path)  # another recording of the task becomes run 2
    export_bids(later, session.collector, tmp_path)
    description = json.loads((tmp_path / "dataset_description.json").read_text())
    assert {"Name", "BIDSVersion"} <= description.keys()
    with (tmp_path / "participants.tsv").open() as f:
        participants = list(csv.reader(f, delimiter="\t"))
    assert participants == [["participant_id", "stabmon_subject_id"], ["sub-P07", "P-07"]]
    motion = tmp_path / "sub-P07" / "motion"
    for run in (1, 2):
        stem = motion / f"sub-P07_task-forwardbend_tracksys-imu_run-{run}"
        with open(f"{stem}_channels.tsv") as f:
            channels = list(csv.reader(f, delimiter="\t"))
        assert channels[0][:5] == BIDS_CHANNEL_COLUMNS
        assert {row[2] for row in channels[1:]} <= BIDS_TYPES
        sidecar = json.loads(Path(f"{stem}_motion.json").read_text())
        assert sidecar["SamplingFrequency"] == 100.0 and sidecar["TaskName"] == "forward-bend"
        assert sidecar["ACCELChannelCount"] == 6 and sidecar["ORNTChannelCount"] == 8
        data = np.genfromtxt(f"{stem}_motion.tsv", delimiter="\t", missing_values="n/a")
        assert data.shape == (len(rec.processing.time_s), len(channels) - 1)  # no header row
        assert sidecar["RecordingDuration"] == pytest.approx(len(data) / 100.0)
        lumbar_acc_z = next(k for k, row in enumerate(channels[1:]) if row[0] == "lumbar_acc_z")
        frame_acc = session.collector.frames[0].acc_m_s2[0, 0, 2]
        assert data[0, lumbar_acc_z] == frame_acc
        with open(f"{stem}_events.tsv") as f:
            events = list(csv.DictReader(f, delimiter="\t"))
        assert events and {"onset", "duration"} <= events[0].keys()
    with (tmp_path / "sub-P07" / "sub-P07_scans.tsv").open() as f:
        scans = list(csv.reader(f, delimiter="\t"))
    assert [row[0] for row in scans] == [
        "filename",
        "motion/sub-P07_task-forwardbend_tracksys-imu_run-1_motion.tsv",
        "motion/sub-P07_task-forwardbend_tracksys-imu_run-2_motion.tsv",
    ]
    assert not list(motion.glob("*_run-3_*"))


def test_bids_refuses_two_subject_ids_with_the_same_label(bend_file, tmp_path):
    rec = read_recording(bend_file)
    session = replay(rec)
    export_bids(rec, session.collector, tmp_path)
    before = sorted(p for p in tmp_path.rglob("*"))
    other = dataclasses.replace(rec, attributes={**rec.attributes, "subject_id": "P07"})
    with pytest.raises(
        BidsLabelError, match=r"subject ids 'P-07' .* and 'P07' both become the BIDS label sub-P07"
    ):
        export_bids(other, session.collector, tmp_path)
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing written


class _Table(html.parser.HTMLParser):
    """Collects the data-* attributes of the rows of table#measures and table#repetitions."""

    def __init__(self):
        super().__init__()
        self.rows, self._inside = [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._inside = attrs.get("id") in ("measures", "repetitions")
        elif tag in ("tr", "td") and self._inside and "data-name" in attrs:
            self.rows.append(attrs)


def test_report_html_measures_table_equals_analyze_and_pdf_renders(bend_file, tmp_path, capsys):
    html_path, pdf_path = tmp_path / "r.html", tmp_path / "r.pdf"
    assert main(["report", str(bend_file), "--baseline", str(bend_file), "-o", str(html_path)]) == 0
    assert main(["report", str(bend_file), "-o", str(pdf_path), "--data-dir", str(tmp_path)]) == 0
    text = html_path.read_text()
    parser = _Table()
    parser.feed(text)
    expected = analyze_recording(read_recording(bend_file)).measures
    shown = {(r["data-name"], r["data-repetition"]): float(r["data-value"]) for r in parser.rows}
    assert len(shown) == len(parser.rows) == len(expected)
    for m in expected:
        key = (m.name, "" if m.repetition is None else str(m.repetition))
        assert shown[key] == pytest.approx(m.value, nan_ok=True), key
    assert "id='comparison'" in text and text.count("data:image/png;base64,") >= 2
    assert "P-07" in text
    pdf = pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 3
    assert main(["report", str(bend_file), "-o", str(tmp_path / "r.docx")]) == 2
    assert "must end in .html or .pdf" in capsys.readouterr().err
