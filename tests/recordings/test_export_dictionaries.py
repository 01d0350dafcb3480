"""The exports' data dictionaries describe what the files hold: on a plank whose clinician pressed
E (hold_end at an instant off the frame grid), read back with the csv module alone."""

import asyncio
import csv
import json
import re

import pytest

from engine.factory import record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from recordings.analysis import replay
from recordings.bids_events import DATA_GAP
from recordings.export_bids import export_bids
from recordings.export_csv import export_csv
from sensors.events import EventKind

#: A simulated plank whose hold is lost (hold_end from the simulated clinician at 22.5007 s).
PLANK_SEED = 1568116561


@pytest.fixture(scope="module")
def plank(tmp_path_factory):
    spec = SessionSpec(SourceSpec(SourceKind.SIMULATED, seed=PLANK_SEED, realtime=False))
    path = tmp_path_factory.mktemp("plank") / "plank.h5"
    asyncio.run(record(spec.for_drill("plank", 30.0), "R1", path, "plank", 30.0))
    rec = read_recording(path)
    assert EventKind.HOLD_END in {e.kind for e in rec.events}
    return rec


def _rows(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t" if path.suffix == ".tsv" else ","))


def test_bids_events_json_describes_every_trial_type(plank, tmp_path):
    written = export_bids(plank, replay(plank).collector, tmp_path / "bids")
    events = next(p for p in written if p.name.endswith("_events.tsv"))
    levels = json.loads(events.with_suffix(".json").read_text())["trial_type"]["Levels"]
    used = {row["trial_type"] for row in _rows(events)}
    assert {"hold_start", "hold_end"} <= used
    assert used <= set(levels), f"events.tsv uses {sorted(used - set(levels))} without a description"
    # any kind a file can hold, and the spans in which a sensor's data are missing
    assert set(levels) == {kind.value for kind in EventKind} | {DATA_GAP}
    for row in _rows(events):
        assert re.fullmatch(r"-?\d+\.\d{4}", row["onset"]), row


def test_csv_hold_angles_say_they_are_from_the_hold_posture_and_event_times_are_rounded(plank, tmp_path):
    written = export_csv(plank, tmp_path / "csv")
    angles = next(p for p in written if p.name.endswith("_angles.csv"))
    header = angles.read_text(encoding="utf-8").splitlines()[0].split(",")
    degrees = [name for name in header if name.endswith("_deg")]
    assert len(degrees) == 3 * len(plank.placements) + 3
    assert all(name.endswith("_from_hold_deg") for name in degrees), degrees
    assert "trunk_sagittal_from_hold_deg" in header and "lumbar_sagittal_from_hold_deg" in header
    events = _rows(next(p for p in written if p.name.endswith("_events.csv")))
    for row in events:
        assert re.fullmatch(r"\d+\.\d{4}", row["time_s"]), row
    end = next(row for row in events if row["kind"] == "hold_end")
    stored = next(e.time_s for e in plank.events if e.kind is EventKind.HOLD_END)
    assert float(end["time_s"]) == pytest.approx(stored, abs=5e-5)
    assert stored != round(stored, 4)  # off the grid: the rounding is what is tested
