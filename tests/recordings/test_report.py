"""The clinical report: page 1 summary, baseline picked as the review window does, trends per
condition without later sessions, no raw keys or nan, patient-reported outcomes."""

import html.parser
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import h5py
import pytest

from recordings import read_recording
from recordings.analysis import analyze_recording
from recordings.library import SessionLibrary
from recordings.report_history import subject_history
from stabmon.cli import main
from tests.cli_args import RECORD_NO_RADIO, RECORD_SIMULATED
from tests.redate import redate


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("lib")
    for seed, dual in ((1, 1.0), (2, 1.0), (3, 1.6), (4, 1.0)):
        record = RECORD_SIMULATED if seed == 1 else RECORD_NO_RADIO  # the baseline over the BLE link
        argv = [*record, "--drill", "forward-bend", "--seconds", "20"]
        argv += ["--seed", str(seed), "--dual-task", str(dual), "--subject", "P-11", "--data-dir", str(root)]
        assert main(argv) == 0
        if seed == 1:  # the baseline visit, a week before the others (not a repetition of them)
            redate(next((root / "sub-P-11").glob("*.h5")), datetime.now(UTC) - timedelta(days=7))
    today = date.today().isoformat()
    argv = ["subject", "P-11", "--age-band", "40-49", "--sex", "female", "--pain", "6", "--odi", "38"]
    assert main([*argv, "--date", today, "--data-dir", str(root)]) == 0
    return root


def _sessions(library):
    entries = SessionLibrary(library).sessions("P-11")
    single = [e for e in entries if e.condition.task == "single"]
    dual = [e for e in entries if e.condition.task == "dual"]
    return single, dual


class _Text(html.parser.HTMLParser):
    """Visible text of a page, and that of section#page1."""

    def __init__(self):
        super().__init__()
        self.text, self.page1, self._depth = [], [], 0
        self._skip = False

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "title"):
            self._skip = True
        if tag == "section" and dict(attrs).get("id") == "page1":
            self._depth = 1

    def handle_endtag(self, tag):
        if tag in ("style", "title"):
            self._skip = False
        if tag == "section":
            self._depth = 0

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)
            if self._depth:
                self.page1.append(data)


def test_trend_history_keeps_to_the_condition_and_leaves_out_later_sessions(library):
    single, dual = _sessions(library)
    assert len(single) == 3 and len(dual) == 1
    middle = read_recording(single[1].path)
    history = subject_history(SessionLibrary(library), middle, analyze_recording(middle))
    assert [h.when for h in history] == [e.created_utc for e in single[:2]]


def test_report_summary_reads_as_a_clinician_needs_it(library, tmp_path, capsys):
    single, _ = _sessions(library)
    out = tmp_path / "r.html"
    argv = ["report", str(single[1].path), "-o", str(out), "--data-dir", str(library)]
    assert main([*argv, "--clinic", "Physio Nord", "--clinician", "A. Berg"]) == 0
    parser = _Text()
    parser.feed(out.read_text(encoding="utf-8"))
    page1 = " ".join(parser.page1)
    assert "eyes" not in page1 and "single task" in page1  # forward bend: no vision/surface parts
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \S+ \(UTC[+-]\d\d:\d\d\)", page1)
    assert "Physio Nord" in page1 and "A. Berg" in page1
    # Picked as the review window does; the row is labelled, its note not "Baseline baseline: …".
    assert re.search(rf"Baseline\s+{re.escape(single[0].path.name)}", page1)
    assert "baseline: " not in page1
    assert "P-11 (age 40-49, female)" in page1 and "age band, sex" not in page1
    assert "Trunk flexion range, mean of bends" in page1
    assert "adults without low-back pain" in page1  # the reference population is named
    assert "no real change" in page1 or "better" in page1 or "worse" in page1
    assert "pain now 6/10" in page1 and "Oswestry Disability Index 38 %" in page1
    assert "age 40-49, female" in page1
    # No raw key and no nan anywhere a person reads.
    visible = " ".join(parser.text)
    keys = {m.name for m in analyze_recording(read_recording(single[1].path)).measures}
    words = set(re.findall(r"\b[a-z]+_[a-z0-9_]+\b", visible))
    assert not (words & keys), words & keys
    assert not re.search(r"\bnan\b", visible, re.IGNORECASE)
    assert "e-16" not in visible and "e-17" not in visible


def test_a_baseline_of_another_subject_is_not_compared(library, tmp_path):
    single, _ = _sessions(library)
    other = tmp_path / "other.h5"
    shutil.copy(single[0].path, other)
    with h5py.File(other, "a") as f:
        f.attrs["subject_id"] = "P-12"
    report = tmp_path / "r.html"
    assert main(["report", str(single[1].path), "--baseline", str(other), "-o", str(report)]) == 0
    parser = _Text()
    parser.feed(report.read_text(encoding="utf-8"))
    page1 = " ".join(parser.page1)
    assert (
        "other.h5 is of subject P-12, not P-11: not compared (a change is measured within one person)"
        in page1
    )
    for verdict in ("no real change", "better", "worse"):
        assert verdict not in page1


def test_a_file_outside_the_library_finds_the_subject_stored_beside_it(library, tmp_path):
    """A recording saved with `record --out DIR` and its subject stored with `subject --data-dir
    DIR`: the report reads the subject beside the file, as for a file in the library."""
    single, _ = _sessions(library)
    out_dir = tmp_path / "sessions"
    out_dir.mkdir()
    elsewhere = out_dir / single[0].path.name
    shutil.copy(single[0].path, elsewhere)
    argv = ["subject", "P-11", "--age-band", "60-69", "--sex", "male", "--data-dir", str(out_dir)]
    assert main(argv) == 0
    empty = tmp_path / "empty-library"
    empty.mkdir()
    report = tmp_path / "r.html"
    assert main(["report", str(elsewhere), "--data-dir", str(empty), "-o", str(report)]) == 0
    parser = _Text()
    parser.feed(report.read_text(encoding="utf-8"))
    assert "P-11 (age 60-69, male)" in " ".join(parser.page1)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_pdf_page_one_is_the_summary(library, tmp_path):
    single, _ = _sessions(library)
    out = tmp_path / "r.pdf"
    assert main(["report", str(single[2].path), "-o", str(out), "--data-dir", str(library)]) == 0
    page1 = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(out), "-"], capture_output=True, text=True)
    text = page1.stdout
    assert "Key measures" in text and "Flags" in text and "Patient-reported outcomes" in text
    assert text.index("Key measures") < text.index("Flags")
    pages = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    assert 2 <= int(re.search(r"Pages:\s+(\d+)", pages).group(1)) <= 8


def test_trend_history_names_a_damaged_file_and_the_visit_that_lost_its_point(library, tmp_path):
    """Walkthrough s11 #1: a history file cut short was dropped without a word and its visit's
    point vanished from the trend."""
    from recordings.report_history import trend_figure
    from recordings.subjects import Subject

    single, _ = _sessions(library)
    folder = tmp_path / "sub-P-11"
    folder.mkdir()
    for entry in (single[0], single[2]):
        shutil.copy(entry.path, folder)
    damaged = folder / single[0].path.name
    with damaged.open("r+b") as f:
        f.truncate(damaged.stat().st_size // 2)
    current = read_recording(folder / single[2].path.name)
    measures = analyze_recording(current)
    history = subject_history(SessionLibrary(tmp_path), current, measures)
    assert [h.path.name for h in history] == [single[0].path.name, single[2].path.name]
    lost = history[0]
    assert lost.result is None and abs(lost.when - single[0].created_utc).total_seconds() < 1e-3
    assert lost.lost_note().startswith(f"history: {damaged.name} ({lost.when:%d %b %Y}) could not be read: ")
    assert "truncated" in lost.problem and lost.problem.startswith("could not be read: ")
    assert trend_figure(history, measures, None, Subject("P-11")) is None  # one visit left: the flag says why


def test_trend_shows_one_point_per_visit_with_readable_dates_and_a_true_caption():
    """Walkthrough s11 #5: each recording of a day was its own point joined by zig-zags, the
    day's labels were printed on top of each other, and the caption spoke of a band not drawn."""
    from datetime import datetime, timedelta, timezone

    from recordings.catalogue import catalogue
    from recordings.report_plots import TrendSeries, honest_limits, labels_overlap, trend

    info = catalogue().info("forward-bend", "mean_lumbar_contribution_end_range")
    low, high = honest_limits([47.30, 47.45], info, 17.9)
    assert high - low >= 2 * 17.9  # 0.15 % of noise sits flat inside the MDC band
    low, high = honest_limits([47.30, 47.45], info, float("nan"))
    assert high - low >= 0.2 * 47.3
    tz = timezone(timedelta(hours=1))
    first = datetime(2026, 10, 4, 8, 5, tzinfo=tz)
    values = {first: 40.0, first + timedelta(hours=10): 44.0, first + timedelta(minutes=1): 42.0}
    values |= {first + timedelta(days=14): 47.0, first + timedelta(days=56): 50.0}
    values |= {first + timedelta(days=56, minutes=3): 52.0}
    fig = trend([TrendSeries(info, list(values.items()))], lost={(first + timedelta(days=14)).date(): 1})
    line = fig.axes[0].lines[0]  # the means, one per visit, at its calendar day
    assert list(line.get_ydata()) == [42.0, 47.0, 51.0]
    assert list(line.get_xdata() - line.get_xdata()[0]) == [0.0, 14.0, 56.0]
    bars = fig.axes[0].collections[0].get_segments()  # ± SD: 2 (40, 42, 44) and 1.41 (50, 52)
    assert [round(float(b[1][1] - b[0][1]) / 2, 2) for b in bars] == [2.0, 0.0, 1.41]
    assert not fig.axes[0].patches  # no MDC known: nothing shaded
    labels = [t.get_text() for t in fig.axes[-1].get_xticklabels()]
    assert labels == ["04 Oct 2026 (mean of 3)", "18 Oct 2026 (1 unreadable)", "29 Nov 2026 (mean of 2)"]
    angle = fig.axes[-1].get_xticklabels()[0].get_rotation()
    assert not any(labels_overlap(fig, fig.axes[-1], angle))
    assert any(labels_overlap(fig, fig.axes[-1], 0))  # flat, the first two would touch
    # Visits a day apart on a long trend stand upright, or lose a label; none overlaps.
    close = {first: 1.0, first + timedelta(days=1): 2.0, first + timedelta(days=2): 3.0}
    close |= {first + timedelta(days=200): 4.0}
    axis = trend([TrendSeries(info, list(close.items()))]).axes[-1]
    shown = [t for t in axis.get_xticklabels() if t.get_visible()]
    assert shown[0].get_text() == "04 Oct 2026" and len(shown) < 4
    boxes = [t.get_window_extent() for t in shown]
    assert not any(a.overlaps(b) for a, b in pairwise(boxes))


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_pdf_text_is_wrapped_inside_the_page_and_reads_as_written(library, tmp_path):
    """Walkthrough s8 #13: page 1's Baseline line was cut ("…: it is the baselin"), so was the
    last page's footer file name; a bend report said "red lines mark perturbations"."""
    single, _ = _sessions(library)
    out = tmp_path / "first.pdf"
    assert main(["report", str(single[0].path), "-o", str(out), "--data-dir", str(library)]) == 0
    pages = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    text = " ".join(pages.split())
    assert "visit of subject P-11: it is the baseline" in text
    assert f"file {single[0].path.name}" in text  # the footer, whole, on the page
    assert "P-11 (age 40-49, female)" in text
    assert "perturbation" not in text.lower() and "green lines mark the task" in text
    # Every glyph lies inside the page: pdftotext of the page box cut at its edges loses none.
    boxed = subprocess.run(
        ["pdftotext", "-x", "0", "-y", "0", "-W", "575", "-H", "842", str(out), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert " ".join(boxed.split()) == text
