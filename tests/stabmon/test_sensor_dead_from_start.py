"""A repetition whose lumbar sensor sent nothing at all (its battery dies as the recording starts:
`FaultPlan(dies_at_s=0)` over bumble's link, as `stabmon record` runs it): every command that reads
the file says why there are no measures, and the pelvis sensor's samples and the events stay
reachable. (Before: "cannot analyse (IndexError: index 0 out-of-bounds in minimum.reduceat
[0, 0))" from analyze, report, export and the review window, and `visit` left the repetition out.)"""

import csv
import re
from datetime import UTC, datetime

import pytest

from gui.model.review import review
from sensors.placements import Placement
from stabmon.cli import main
from tests.dying_sensor import record_with_a_dying_sensor

SECONDS = 14
WHY = "not measured: the lumbar sensor sent no data"


@pytest.fixture(scope="module")
def dead_lumbar(tmp_path_factory):
    """(the library, the recording, the command's standard output) of a quiet stance whose lumbar
    sensor died at its start."""
    library = tmp_path_factory.mktemp("dead-lumbar")
    summary, _, path = record_with_a_dying_sensor(
        library, Placement.LUMBAR, 0.0, SECONDS, "P-084", library=True
    )
    return library, path, summary


def test_the_record_summary_counts_the_silent_sensor_as_lost(dead_lumbar):
    """It said "lumbar 0 samples, 0.0% lost" and nothing else of a sensor that never sent."""
    *_, summary = dead_lumbar
    lines = summary.splitlines()
    lumbar = next(line for line in lines if line.startswith("  lumbar ") and "samples," in line)
    assert re.search(r" 0 samples, 100\.0% lost", lumbar), lumbar
    silent = r"  ! lumbar sensor: sent no data \([\d.]+ s of [\d.]+ s, counted as lost\)"
    assert re.search(silent, summary), summary


def test_analyze_says_the_sensor_sent_nothing(dead_lumbar, capsys):
    _, path, _ = dead_lumbar
    assert main(["analyze", str(path)]) == 2
    out, err = capsys.readouterr()
    assert f"cannot analyse ({WHY})" in err, err
    assert "lumbar sensor: sent no data in the whole session" in out, out


def test_the_csv_export_holds_the_pelvis_samples_and_the_events(dead_lumbar, tmp_path):
    _, path, _ = dead_lumbar
    assert main(["export", str(path), "--format", "csv", "-o", str(tmp_path)]) == 0

    def rows(name: str) -> list[dict[str, str]]:
        (found,) = tmp_path.glob(f"*_{name}.csv")
        lines = [line for line in found.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
        return list(csv.DictReader(lines))

    assert not rows("raw_lumbar")
    assert len(rows("raw_pelvis")) == pytest.approx(
        SECONDS * 100 + 15, abs=35
    )  # and what arrived by the stop
    kinds = [row["kind"] for row in rows("events")]
    assert "task_start" in kinds and "task_end" in kinds


def test_the_bids_export_holds_the_pelvis_samples_and_says_the_gap(dead_lumbar, tmp_path):
    _, path, _ = dead_lumbar
    assert main(["export", str(path), "--format", "bids", "-o", str(tmp_path)]) == 0
    (motion,) = tmp_path.rglob("*_motion.tsv")
    values = [line.split("\t") for line in motion.read_text(encoding="utf-8").splitlines()]
    assert len(values) == pytest.approx(SECONDS * 100 + 15, abs=35)  # and what arrived by the stop
    assert sum(v != "n/a" for v in values[len(values) // 2]) == 6  # the pelvis acc and gyr
    (events,) = tmp_path.rglob("*_events.tsv")
    assert re.search(r"data_gap\tlumbar sensor: no data from", events.read_text(encoding="utf-8"))


def test_the_review_window_opens_it_and_says_why(dead_lumbar):
    library, path, _ = dead_lumbar
    reviewed = review(path, library)
    assert reviewed.measures is None and reviewed.problem == WHY
    assert len(reviewed.rows) == pytest.approx(SECONDS * 100 + 15, abs=35)  # and what arrived by the stop


def test_visit_lists_the_repetition_and_says_why(dead_lumbar, capsys):
    library, path, _ = dead_lumbar
    stamp = re.search(r"_(\d{8}T\d{6})", path.name).group(1)
    day = datetime.strptime(stamp, "%Y%m%dT%H%M%S").replace(tzinfo=UTC).astimezone().date()  # a local day
    assert main(["visit", "P-084", "--data-dir", str(library), "--date", day.isoformat()]) == 0
    out = capsys.readouterr().out
    assert re.search(r"quiet-stance — .*: 1 repetition\(s\)", out), out
    assert re.search(r"repetition 1 \(\d\d:\d\d\): Not measured — the lumbar sensor sent no data", out), out


def test_the_report_is_written_and_says_why(dead_lumbar, tmp_path):
    library, path, _ = dead_lumbar
    out = tmp_path / "r.html"
    assert main(["report", str(path), "--data-dir", str(library), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "lumbar sensor: sent no data in the whole session" in page
    assert f"no measures ({WHY})" in page
