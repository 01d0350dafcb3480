"""Screenshots of what a clinician reads after a session, on a real X display (Xvfb):

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/clinical_screenshots.py

the results pane after a forward-bend recording, the review window on a Biering-Sørensen re-test
against its baseline, and pages 1–2 of that re-test's PDF report (rendered with poppler's
pdftoppm). Writes PNGs to docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from gui.model.clinic import RecordingResult
from gui.model.protocols import load_protocols
from gui.results_panel import ResultsPanel
from gui.review_window import ReviewWindow
from recordings import read_recording
from recordings.analysis import analyze_recording
from stabmon.cli import main as stabmon

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def _settle(app: QApplication, seconds: float = 1.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.05)


def main() -> int:
    if not os.environ.get("DISPLAY"):
        print("no X display: run under xvfb-run", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    library = Path(tempfile.mkdtemp(prefix="stabmon-clinical-")) / "library"
    subject = ["--subject", "P-014", "--data-dir", str(library)]
    for seed in (1, 2):
        args = ["record", "--simulate", "--fast", "--drill", "biering-sorensen", "--seconds", "60"]
        stabmon([*args, "--seed", str(seed), *subject])
    for seed in (3, 4, 5):  # a protocol of three forward-bend recordings
        args = ["record", "--simulate", "--fast", "--drill", "forward-bend", "--seconds", "30"]
        stabmon([*args, "--seed", str(seed), *subject])
    stabmon(
        [
            "subject",
            "P-014",
            "--age-band",
            "40-49",
            "--sex",
            "male",
            "--pain",
            "4",
            "--odi",
            "28",
            "--data-dir",
            str(library),
        ]
    )

    pane = ResultsPanel()
    pane.start_protocol(next(p for p in load_protocols()[0] if p.drill == "forward-bend"))
    bends = sorted((library / "sub-P-014").glob("*forward-bend*.h5"))
    for repetition, bend in enumerate(bends, start=1):
        result = analyze_recording(read_recording(bend))
        pane.show_result(
            RecordingResult("Forward bend repetitions", repetition, "single", bend, "forward-bend", result)
        )
    pane.resize(560, 620)
    pane.show()
    _settle(app)
    pane.grab().save(str(OUT / "results-pane.png"))

    retest = sorted((library / "sub-P-014").glob("*biering-sorensen*.h5"))[-1]
    review = ReviewWindow(library)
    review.resize(1500, 950)
    review.show()
    review.open(retest)
    review.wait_loaded(180)
    review.tabs.setCurrentIndex(1)  # the change since the baseline
    _settle(app)
    review.grab().save(str(OUT / "review-window-clinical.png"))
    review.close()

    pdf = library.parent / "report.pdf"
    stabmon(
        [
            "report",
            str(retest),
            "-o",
            str(pdf),
            "--clinic",
            "Physio Nord",
            "--clinician",
            "A. Berg",
            "--data-dir",
            str(library),
        ]
    )
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-r", "90", "-f", "1", "-l", "2", "-png", str(pdf), str(OUT / "report-page")],
            check=True,
        )
    print(f"wrote {sorted(p.name for p in OUT.glob('*.png'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
