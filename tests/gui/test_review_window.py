"""The review window on real recordings: measures, change since baseline, scrubbing, exports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from PySide6.QtCore import QTimer

from gui.main_window import MainWindow
from gui.model.settings import DashboardSettings
from gui.review_window import ReviewWindow
from recordings import read_recording
from recordings.analysis import analyze_recording
from recordings.compare import Verdict, compare_results
from recordings.measure_table import session_rows
from recordings.plot_data import TIME, TRUNK_AP
from sensors.placements import Placement
from stabmon.cli import main as stabmon
from stabmon.dashboard import offscreen_platform
from tests.cli_args import RECORD_NO_RADIO, RECORD_SIMULATED

#: One worker for the module: its shared fixture is built once, not once per xdist worker.
pytestmark = pytest.mark.xdist_group("review-library")


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """Two quiet-stance sessions of one subject (baseline and re-test), recorded fast; the re-test
    over the virtual BLE link, the baseline without it."""
    root = tmp_path_factory.mktemp("library")
    for seed in (1, 2):
        record = RECORD_NO_RADIO if seed == 1 else RECORD_SIMULATED
        args = [*record, "--drill", "quiet-stance", "--seconds", "25"]
        assert stabmon([*args, "--subject", "P020", "--seed", str(seed), "--data-dir", str(root)]) == 0
    return root


def _open(qtbot, path: Path, data_dir: Path | None = None) -> ReviewWindow:
    window = ReviewWindow(data_dir)
    qtbot.addWidget(window)
    window.show()
    window.open(path)
    window.wait_loaded(120)
    return window


def _table(table) -> dict[str, list[str]]:
    return {
        table.item(r, 0).text(): [table.item(r, c).text() for c in range(1, table.columnCount())]
        for r in range(table.rowCount())
    }


def test_review_shows_the_measures_and_the_change_since_the_baseline(qtbot, library: Path, tmp_path: Path):
    baseline, retest = sorted((library / "sub-P020").glob("*.h5"))
    window = _open(qtbot, retest)
    reviewed = window.reviewed
    assert reviewed is not None and "Subject P020" in window.header.text()
    offline = analyze_recording(read_recording(retest))
    shown = _table(window.measures)
    assert {n: v[0] for n, v in shown.items()} == {r.name: r.text for r in session_rows(offline)}
    assert not any("_" in name or "nan" in v[0] for name, v in shown.items())
    expected = compare_results(analyze_recording(read_recording(baseline)), offline)
    compared = _table(window.comparison)
    assert set(compared) == {r.info.name for r in expected.rows}  # the catalogue's names
    for row in expected.rows:
        assert compared[row.info.name][2] == row.change_text
        assert compared[row.info.name][4] == row.verdict.value
    assert not any("e-1" in v[2] or "nan" in "".join(v) for v in compared.values())
    assert baseline.name in window.baseline_note.text()

    # Scrubbing moves the cursor and the sway plot follows it.
    rows = reviewed.rows
    window.slider.setValue(len(rows) // 2)
    assert window.time_cursor.value() == pytest.approx(rows[len(rows) // 2, TIME])
    _, ap = window.sway.path.getData()
    assert 0 < len(ap) <= 20 * 100 + 1

    csv = window.export_csv(tmp_path / "csv").result(timeout=120)
    assert any(p.name.endswith("measures.csv") for p in csv)
    qtbot.waitUntil(lambda: window.buttons["bids"].isEnabled(), timeout=5000)
    bids = window.export_bids(tmp_path / "bids").result(timeout=120)
    assert (tmp_path / "bids" / "dataset_description.json") in bids
    qtbot.waitUntil(lambda: window.buttons["report"].isEnabled(), timeout=5000)
    report = window.write_report(tmp_path / "report.html").result(timeout=120)
    text = report.read_text(encoding="utf-8")
    assert "P020" in text and "Change since the baseline" in text
    assert any(f">{v.value}<" in text for v in Verdict)  # each row's verdict is shown


def test_the_first_session_is_its_own_baseline(qtbot, library: Path):
    baseline = sorted((library / "sub-P020").glob("*.h5"))[0]
    window = _open(qtbot, baseline)
    assert "it is the baseline" in window.baseline_note.text()
    assert window.comparison.rowCount() == 0


def test_the_review_window_opens_again_after_it_was_closed(qtbot, library: Path, tmp_path: Path):
    """The main window keeps its review window: shown again after the clinician closed it, it
    read the next file on threads its close had shut down ("cannot schedule new futures after
    shutdown", a traceback and nothing shown)."""
    first, second = sorted((library / "sub-P020").glob("*.h5"))
    main = MainWindow(DashboardSettings(subject_id="P020", data_dir=str(library)), tmp_path / "s.json", [])
    qtbot.addWidget(main)
    window = main.open_review(first)
    window.wait_loaded(120)
    assert window.reviewed is not None and window.reviewed.recording.path == first
    window.close()
    assert main.open_review(second) is window
    window.wait_loaded(120)
    assert window.reviewed is not None and window.reviewed.recording.path == second
    assert second.name in window.header.text()
    window.write_report(tmp_path / "report.html").result(timeout=120)  # its outputs' thread too
    qtbot.waitUntil(lambda: "Report written" in window.statusBar().currentMessage(), timeout=5000)
    window.close()
    main.close()


def test_a_recording_still_being_written_can_be_reviewed(qtbot, library: Path, tmp_path: Path):
    """A file cut as a crash or a running writer leaves it: the consistent part is shown."""
    source = sorted((library / "sub-P020").glob("*.h5"))[1]
    growing = tmp_path / "sub-P020" / source.name
    growing.parent.mkdir()
    growing.write_bytes(source.read_bytes())
    with h5py.File(growing, "a") as f:
        for name in ("/acquisition/lumbar/acc_m_s2", "/acquisition/lumbar/gyr_rad_s"):
            f[name].resize(len(f[name]) - 500, axis=0)  # the lumbar sensor's last 5 s not yet flushed
    window = _open(qtbot, growing)
    assert window.reviewed is not None
    full = read_recording(source)
    shown = window.reviewed.recording
    assert len(shown.samples[Placement.LUMBAR]) == len(full.samples[Placement.LUMBAR]) - 500
    assert len(shown.samples[Placement.PELVIS]) == len(full.samples[Placement.PELVIS])
    t, trunk = window.reviewed.rows[:, TIME], window.reviewed.rows[:, TRUNK_AP]
    assert np.isfinite(trunk[(t > 5.0) & (t < 15.0)]).all()  # what was written is all there
    # The review runs up to where every sensor's data is written, no further.
    assert t[-1] == pytest.approx(full.session_time_s[Placement.LUMBAR][-501], abs=0.05)


def test_a_file_that_is_not_a_recording_is_a_message(qtbot, tmp_path: Path):
    bad = tmp_path / "notes.h5"
    bad.write_bytes(b"this is not HDF5")
    window = _open(qtbot, bad)
    assert window.reviewed is None
    assert "Cannot open notes.h5" in window.header.text()
    assert not window.buttons["report"].isEnabled()


def _damaged_copy(source: Path, folder: Path) -> Path:
    """`source` cut to its first half, as a copy interrupted mid-way leaves it: HDF5 cannot open it.
    (A file whose only damage is one bad chunk opens: its readable data are shown around a gap.)"""
    damaged = folder / "flip.h5"
    data = source.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])
    return damaged


def test_a_file_that_fails_to_open_never_shows_under_the_previous_recording(qtbot, library: Path, tmp_path):
    """Walkthrough s9 #3: after a damaged file failed to open, the header named it while the
    previous patient's traces, ellipse and measures stayed below with nothing saying whose they
    were. The header now keeps naming the recording shown, while loading and after the failure."""
    shown = sorted((library / "sub-P020").glob("*.h5"))[1]
    window = _open(qtbot, shown, library)
    measures = _table(window.measures)
    damaged = _damaged_copy(shown, tmp_path)
    window.open(damaged)
    assert "Loading flip.h5" in window.header.text() and shown.name in window.header.text()
    window.wait_loaded(120)
    text = window.header.text()
    assert "Cannot open flip.h5" in text
    assert "Subject P020" in text and shown.name in text  # whose data are still below
    assert window.reviewed is not None and window.reviewed.recording.path == shown
    assert _table(window.measures) == measures
    assert window.buttons["report"].isEnabled()  # the outputs are the shown recording's


def test_the_drill_and_its_condition_are_said_once(qtbot, library: Path, capsys):
    """Walkthrough s9 #14: "Quiet stance, eyes open, eyes open, firm surface" in `analyze` and
    "Quiet stance, eyes open · eyes open, firm surface" in the review header."""
    path = sorted((library / "sub-P020").glob("*.h5"))[0]
    assert stabmon(["analyze", str(path)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "Quiet stance, eyes open, firm surface, single task" in first
    assert first.count("eyes open") == 1
    window = _open(qtbot, path)
    header = window.header.text()
    assert "Quiet stance, eyes open · firm surface, single task" in header
    assert header.count("eyes open") == 1


def test_the_review_window_fits_the_screen(qtbot, library: Path):
    """Walkthrough s9 #9: the window opened at 1280×860, so on a 1366×768 laptop its bottom 92 px
    (the last table rows and the scroll bar) were off screen. Here on the test's screen, and on
    a 1366×768 and a 1920×1080 screen in a process of their own (Qt's offscreen platform)."""
    window = ReviewWindow(library)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    available = window.screen().availableGeometry()
    assert available.contains(window.frameGeometry()), (window.frameGeometry(), available)
    for width, height in ((1366, 768), (1920, 1080)):
        env = {**os.environ, "QT_QPA_PLATFORM": offscreen_platform(width, height)}
        probe = (
            "from PySide6.QtWidgets import QApplication; from gui.review_window import ReviewWindow\n"
            "app = QApplication([]); w = ReviewWindow(); w.show(); app.processEvents()\n"
            "f, a = w.frameGeometry(), w.screen().availableGeometry()\n"
            "print(a.width(), a.height(), f.width() - w.width(), f.height() - w.height(), "
            "w.width(), w.height(), a.contains(f))"
        )
        out = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        screen_w, screen_h, frame_w, frame_h, w, h = map(int, out.stdout.split()[:6])
        assert (screen_w, screen_h) == (width, height)
        assert out.stdout.split()[6] == "True", out.stdout  # the frame is inside the screen
        # All the room it needs, or all the screen gives (less the window's frame).
        assert (w, h) == (min(1280, width - frame_w), min(860, height - frame_h))


def test_the_window_keeps_responding_while_a_report_is_written(qtbot, library: Path, tmp_path: Path):
    window = _open(qtbot, sorted((library / "sub-P020").glob("*.h5"))[1], library)
    turns: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: turns.append(time.monotonic()))
    timer.start(10)
    job = window.write_report(tmp_path / "report.html")
    assert job is not None and not job.done()  # back to the event loop before the report is written
    assert window.progress.isVisible() and "report" in window.progress.format()
    assert not window.buttons["report"].isEnabled()  # one output at a time
    qtbot.waitUntil(job.done, timeout=120_000)
    written_at = time.monotonic()
    timer.stop()
    assert len([t for t in turns if t < written_at]) >= 3  # the event loop turned meanwhile
    qtbot.waitUntil(lambda: not window.progress.isVisible(), timeout=5000)
    assert window.buttons["report"].isEnabled()
    assert "Report written to" in window.statusBar().currentMessage()
    assert "P020" in job.result().read_text(encoding="utf-8")


def test_a_report_that_cannot_be_written_is_a_message(qtbot, library: Path, tmp_path: Path):
    window = _open(qtbot, sorted((library / "sub-P020").glob("*.h5"))[1], library)
    (tmp_path / "a-file").write_text("not a folder")
    job = window.write_report(tmp_path / "a-file" / "report.html")
    qtbot.waitUntil(lambda: job.done() and not window.progress.isVisible(), timeout=120_000)
    assert "Writing the report failed" in window.statusBar().currentMessage()
    assert window.buttons["report"].isEnabled()


def test_a_long_cell_wraps_and_the_verdict_stays_in_view(qtbot):
    """A comparison row whose baseline and re-test say "Not measured — the sensors did not see the
    posture lost" pushed the change, MDC95 and verdict columns out of a 900-px table; those
    columns now wrap at their width cap and the verdict column stays in view."""
    from gui.panels import read_only_cell, table_widget, wrap_wide_columns
    from gui.review_window import COMPARISON_TEXT_PX

    table = table_widget(("measure", "baseline", "re-test", "change", "MDC95", "verdict"))
    qtbot.addWidget(table)
    table.resize(900, 300)
    table.show()
    long = "Not measured — the sensors did not see the posture lost"
    rows = [
        ("Time held (sensor tilt rule)", long, long, "—", "—", "no MDC"),
        ("Posture drift", "3.1 °/min", "3.3 °/min", "+0.2 °/min (+6 %)", "1.1 °/min", "no change"),
    ]
    table.setRowCount(len(rows))
    for r, texts in enumerate(rows):
        for c, text in enumerate(texts):
            table.setItem(r, c, read_only_cell(text))
    wrap_wide_columns(table, (0, 1, 2), COMPARISON_TEXT_PX)
    assert all(table.columnWidth(c) <= COMPARISON_TEXT_PX for c in (0, 1, 2))
    verdict = table.columnViewportPosition(5)
    assert verdict >= 0 and verdict + 40 <= table.viewport().width()
    assert table.rowHeight(0) > table.rowHeight(1)  # the long text wrapped onto more lines
