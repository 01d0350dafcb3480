"""What a damaged recording is missing is said inside every file made from it, in each format's
own way, so that a reader of that file alone learns that data are missing and where: `# ` comment
lines before each CSV's header, a `data_gap` event (onset, duration) and a sidecar key in the
Motion-BIDS export, a banner above the clinical report's summary. A complete recording's files
say nothing of the kind. The CSVs are read with numpy and the csv module, the BIDS export is
checked by the official validator and against its motion file's n/a. (The PDF report shows the
same lines, `ClinicalReport.missing`, as the HTML one; it is not rendered here, for time.)"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from recordings.chunk_recovery import KEPT_SUFFIX
from recordings.export_bids import EXPLAINED_WARNINGS, MISSING_DATA_KEY
from recordings.export_csv import NOTES_TITLE
from recordings.report import MISSING_TITLE
from stabmon.cli import main
from tests.recordings.corrupt_helpers import flip_in_chunk, record_simulated
from tests.recordings.test_bids_validator import validate

#: The damaged chunk's first row (chunks of 50 rows: 0.5 s at 100 Hz).
ROW = 600
RATE_HZ = 100.0


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """(complete original, a copy with one lumbar acc chunk damaged, the damage's line, its times)."""
    folder = tmp_path_factory.mktemp("damage_in_outputs")
    original = record_simulated(folder / "complete" / "original.h5")
    damaged = flip_in_chunk(original, folder / "damaged" / "damaged.h5", "acc_m_s2", ROW)
    with h5py.File(original, "r") as f:
        times = f["acquisition/lumbar/session_time_s"][ROW : ROW + 50]
    span = f"({times[0]:.2f}–{times[-1]:.2f} s of the session)"
    where = f"/acquisition/lumbar/acc_m_s2 rows {ROW}–{ROW + 49} {span}"
    return original, damaged, where, times


def _export(path: Path, out: Path, report: str = "") -> dict[str, Path]:
    """The CSV and BIDS exports of `path` into `out`, and its report (`report`: ".html", ".pdf",
    or "" for none), by file kind."""
    commands = [
        ["export", str(path), "--format", "csv", "-o", str(out / "csv")],
        ["export", str(path), "--format", "bids", "-o", str(out / "bids")],
        *([["report", str(path), "-o", str(out / f"report{report}")]] if report else []),
    ]
    for argv in commands:
        assert main(argv) == 0, argv
    found = {p.name.removeprefix(path.stem + "_"): p for p in (out / "csv").iterdir()}
    motion = out / "bids" / "sub-C01" / "motion"
    return (
        found
        | {p.name.split("_run-1_")[1]: p for p in motion.iterdir()}
        | {"report": out / f"report{report}"}
    )


def _comments(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.startswith("#")]


def test_every_file_made_from_a_damaged_recording_says_what_is_missing_and_where(files, tmp_path):
    _, damaged, where, times = files
    made = _export(damaged, tmp_path, ".html")
    # CSV: comment lines before the header, in every file; the data read as before with comment="#".
    for name in ("raw_lumbar.csv", "raw_pelvis.csv", "angles.csv", "events.csv"):
        comments = _comments(made[name])
        assert comments[0] == NOTES_TITLE and any(where in c and "left out" in c for c in comments), name
    skip = len(_comments(made["raw_lumbar.csv"]))  # (genfromtxt would take the first comment for names)
    table = np.genfromtxt(made["raw_lumbar.csv"], delimiter=",", names=True, skip_header=skip)
    assert len(table) == int(np.sum(~np.isnan(table["acc_x_m_s2"])))  # the gap is left out, not blank
    assert not np.any((table["session_time_s"] >= times[0]) & (table["session_time_s"] <= times[-1]))
    with made["raw_pelvis.csv"].open(encoding="utf-8") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    assert "sequence" in rows[0] and len(rows) > 1000
    # BIDS: a data_gap event over the span, the sidecar's key; the motion file is n/a there.
    with made["events.tsv"].open(encoding="utf-8") as f:
        events = list(csv.DictReader(f, delimiter="\t"))
    gaps = [e for e in events if e["trial_type"] == "data_gap"]
    assert len(gaps) == 1 and where in gaps[0]["label"] and gaps[0]["label"].startswith("lumbar: "), gaps
    onsets = [float(e["onset"]) for e in events]
    assert onsets == sorted(onsets)
    assert float(gaps[0]["duration"]) == pytest.approx(50 / RATE_HZ)
    described = json.loads(made["events.json"].read_text())["trial_type"]["Levels"]
    assert "data_gap" in described
    sidecar = json.loads(made["motion.json"].read_text())
    assert any(where in line for line in sidecar[MISSING_DATA_KEY])
    with made["channels.tsv"].open(encoding="utf-8") as f:
        channels = [row["name"] for row in csv.DictReader(f, delimiter="\t")]
    motion = np.genfromtxt(made["motion.tsv"], delimiter="\t", missing_values="n/a", filling_values=np.nan)
    start = round(float(gaps[0]["onset"]) * RATE_HZ)  # frames from the first, at the frame rate
    inside = motion[start + 1 : start + 49, channels.index("lumbar_acc_x")]
    assert np.all(np.isnan(inside)), inside
    assert np.all(np.isfinite(motion[start + 1 : start + 49, channels.index("pelvis_acc_x")]))
    issues = validate(tmp_path / "bids")
    assert not [key for key in issues if key[0] == "error"], issues
    assert {key[1:] for key in issues if key[0] == "warning"} <= EXPLAINED_WARNINGS
    # The report: a banner above the summary.
    page = made["report"].read_text(encoding="utf-8")
    banner = page.index("<div id='missing'")
    assert banner < page.index("<section id='page1'>") and MISSING_TITLE in page
    assert where in page[banner : page.index("</div>", banner)]


def test_a_recovered_recording_still_says_so_and_a_complete_one_says_nothing(files, tmp_path):
    original, damaged, _, _ = files
    path = tmp_path / "sub-C01" / damaged.name
    path.parent.mkdir()
    shutil.copyfile(damaged, path)
    assert main(["recover", str(path)]) == 0
    made = _export(path, tmp_path / "recovered")
    note = f"left out as a gap by stabmon recover: rows {ROW}–{ROW + 49} of /acquisition/lumbar/acc_m_s2"
    assert any(note in c for c in _comments(made["angles.csv"]))
    with made["events.tsv"].open(encoding="utf-8") as f:
        events = list(csv.DictReader(f, delimiter="\t"))
    gaps = [e for e in events if note in e["label"]]
    assert [e["trial_type"] for e in gaps] == ["data_gap"] and path.name + KEPT_SUFFIX in gaps[0]["label"]
    assert float(gaps[0]["duration"]) == pytest.approx(50 / RATE_HZ)
    clean = _export(original, tmp_path / "complete", ".html")
    for name in ("raw_lumbar.csv", "angles.csv", "events.csv", "measures.csv"):
        assert _comments(clean[name]) == [], name
    assert MISSING_DATA_KEY not in json.loads(clean["motion.json"].read_text())
    assert "data_gap" not in clean["events.tsv"].read_text()
    assert "<div id='missing'" not in clean["report"].read_text(encoding="utf-8")
