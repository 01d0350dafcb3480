"""A sensor whose battery dies mid-recording (the virtual sensor's `FaultPlan(dies_at_s=…)`, given
through `Impairments` as a real session's fault): `stabmon record` says from then on, live and in
the summary, when its data stopped and counts the rest of the session as lost, and `analyze` of
the saved file says which sensor covers which part of the session. (Before: "pelvis 100 Hz 0.0%
lost" to the end, "pelvis 400 samples, 0.0% lost", and analyze said nothing.)"""

import re

import pytest

from sensors.placements import Placement
from stabmon.cli import main
from tests.dying_sensor import record_with_a_dying_sensor

SECONDS, DIES_AT_S = 15, 4.0  # a task (3 s on) as long as the stance measures need


@pytest.fixture(scope="module")
def vanished(tmp_path_factory):
    """`stabmon record` (virtual sensors over bumble's link, fast) of a session whose pelvis sensor
    dies at DIES_AT_S: (its standard output, its progress lines, the saved file)."""
    out = tmp_path_factory.mktemp("vanish")
    stdout, stderr, path = record_with_a_dying_sensor(
        out, Placement.PELVIS, DIES_AT_S, SECONDS, "P-098", progress_interval_s=0.2
    )
    progress = [line for line in stderr.splitlines() if re.match(rf"\s+[\d.]+ / {SECONDS} s", line)]
    return stdout, progress, path


def test_the_progress_line_says_since_when_the_sensor_sent_nothing(vanished):
    _, progress, _ = vanished
    late = [line for line in progress if float(line.split("/")[0]) >= DIES_AT_S + 1.5]
    assert late, progress
    for line in late:
        assert "pelvis: no data since 4.0 s" in line, line
        assert re.search(r"lumbar +100 Hz +0\.0% lost", line), line
    early = [line for line in progress if float(line.split("/")[0]) < DIES_AT_S]
    assert early and all("pelvis   100 Hz" in line for line in early)


def test_the_summary_counts_the_silent_rest_of_the_session_as_lost(vanished):
    out, _, _ = vanished
    pelvis = next(line for line in out.splitlines() if line.startswith("  pelvis ") and "samples," in line)
    received, lost = re.search(r"(\d+) samples, +([\d.]+)% lost", pelvis).groups()
    assert int(received) == pytest.approx(DIES_AT_S * 100, abs=5)
    assert float(lost) == pytest.approx(100 * (1 - DIES_AT_S / SECONDS), abs=1.0)
    # The session runs to its stop: SECONDS and what the fast virtual link had delivered by then.
    silent = re.search(
        r"  ! pelvis sensor: no data since 4\.0 s to the end \(([\d.]+) s of ([\d.]+) s, counted as lost\)",
        out,
    )
    assert silent is not None, out
    gap, total = map(float, silent.groups())
    assert SECONDS <= total <= SECONDS + 0.5 and gap == pytest.approx(total - DIES_AT_S, abs=0.05)
    lumbar = next(line for line in out.splitlines() if line.startswith("  lumbar ") and "samples," in line)
    assert " 0.0% lost" in lumbar
    # The angle statistics that need the pelvis sensor say how little of the session they cover.
    for row in ("  pelvis  sagittal", "  lumbar  sagittal"):
        line = next(line for line in out.splitlines() if line.startswith(row))
        share = int(re.search(r"only (\d+) % of the session", line).group(1))
        assert 8 <= share <= 35, line  # 2 s (calibrated at 2 s) of 15
    trunk = next(line for line in out.splitlines() if line.startswith("  trunk   sagittal"))
    assert "only" not in trunk


def test_analyze_of_the_saved_file_says_the_pelvis_data_stop(vanished, capsys):
    _, _, path = vanished
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if line.startswith("  ! ")]
    assert re.search(r"pelvis sensor: no data since 4\.0 s \((\d+\.\d) s, (\d+) % of the session", line), line
    assert "measures that use the pelvis sensor cover only the rest" in line


def test_the_report_flags_the_silence_and_counts_it_as_lost(vanished, tmp_path):
    _, _, path = vanished
    out = tmp_path / "report.html"
    assert main(["report", str(path), "--data-dir", str(tmp_path), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "pelvis sensor: no data since 4.0 s" in page
    share = int(re.search(r"pelvis sensor lost (\d+) % of its samples", page).group(1))
    assert share == pytest.approx(100 * (1 - DIES_AT_S / SECONDS), abs=2)
    assert "lumbar sensor lost" not in page and "lumbar sensor: no data" not in page
