"""Screenshots of the dashboard as a user sees it, on a real X display (Xvfb).

    make screenshots
    (or: xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py)

With --main-only NAME only the main window is taken, at the size it opens with on this screen
(e.g. `-screen 0 1366x768x24` and NAME main-window-1366x768.png: what a laptop shows), or with
--fill-screen as large as the screen (a clinician's maximised window on a bigger screen): once
during the task (NAME) and once after it, with the results (NAME with "-results" before ".png").

Runs virtual sensors in real time: the main window during a perturbation series with pushes,
the patient view during a dual-task (colour words) stance, and the review window on a forward-bend
re-test compared with its baseline. Writes PNGs to docs/screenshots/.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from gui.main_window import MainWindow
from gui.model.clinic import Phase
from gui.model.protocols import load_protocols
from gui.model.settings import DashboardSettings
from gui.review_window import ReviewWindow
from sensors.events import EventKind
from stabmon.cli import main as stabmon

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
DUAL_TASK = """name = "Dual-task stance (colour words), dual part only"
drill = "quiet-stance"
instructions = "Stand still and say the INK colour of each word."
task_s = 30
get_ready_s = 0
conditions = ["dual"]
cognitive_task = "stroop"
"""


def wait(app: QApplication, until, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not until():
        if time.monotonic() > deadline:
            raise TimeoutError("the dashboard did not get there in time")
        app.processEvents()
        time.sleep(0.02)


def save(widget: QWidget, name: str) -> Path:
    path = OUT / name
    widget.grab().save(str(path))
    print(f"wrote {path}")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--main-only", metavar="NAME", help="only the main window, at its opening size")
    parser.add_argument("--fill-screen", action="store_true", help="with --main-only: the whole screen")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        print("no X display: run under xvfb-run (make screenshots does)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    work = Path(tempfile.mkdtemp(prefix="stabmon-shots-"))
    library = work / "library"
    (work / "protocols").mkdir()
    (work / "protocols" / "99-dual.toml").write_text(DUAL_TASK, encoding="utf-8")
    protocols, _ = load_protocols(work / "protocols")
    settings = DashboardSettings(subject_id="P017", data_dir=str(library), protocol="06-perturbations")
    window = MainWindow(settings, work / "settings.json", protocols)
    if not args.main_only:
        window.resize(1600, 1000)
    elif args.fill_screen:
        window.resize(app.primaryScreen().availableGeometry().size())
    window.show()
    print(f"screen {app.primaryScreen().size().toTuple()}, window {window.size().toTuple()}")

    # Main window: a perturbation series, some pushes in.
    window.start_drill()
    wait(app, lambda: window.session.status.phase is Phase.TASK and window.session.status.elapsed_s > 27, 90)
    window.session.mark(*_push())
    wait(app, lambda: window.session.status.elapsed_s > 30, 10)
    save(window, args.main_only or "main-window.png")
    window.session.stop()
    wait(app, lambda: not window.session.busy, 30)
    if args.main_only:
        wait(app, lambda: bool(window.results.protocol_results), 30)
        for _ in range(20):  # the results pane's room and the last redraws
            app.processEvents()
            time.sleep(0.05)
        save(window, args.main_only.removesuffix(".png") + "-results.png")
        window.close()
        return 0

    # Patient view: dual-task stance with the colour-word task, a few answers given.
    window.drill.select("99-dual")
    window.drill.zone.setValue(2.0)
    view = window.open_patient_view()
    view.resize(900, 950)
    window.start_drill()
    wait(app, lambda: window.session.trial is not None and window.session.status.elapsed_s > 10, 60)
    for _ in range(3):
        trial = window.session.trial
        if trial is not None:
            window.session.answer(trial.answer)
        wait(app, lambda: True, 1)
        time.sleep(0.8)
    wait(app, lambda: window.session.status.elapsed_s > 14, 10)
    save(view, "patient-view.png")
    window.session.stop()
    wait(app, lambda: not window.session.busy, 30)
    window.close()

    # Review: a forward-bend re-test against its baseline, recorded faster than real time.
    for seed in (1, 2):
        record = ["record", "--simulate", "--fast", "--drill", "forward-bend", "--seconds", "40"]
        stabmon([*record, "--seed", str(seed), "--subject", "P017", "--data-dir", str(library)])
    retest = sorted((library / "sub-P017").glob("*forward-bend*.h5"))[-1]
    review = ReviewWindow(library)
    review.resize(1600, 1000)
    review.show()
    review.open(retest)
    review.wait_loaded(120)
    review.slider.setValue(review.slider.maximum() * 2 // 3)
    wait(app, lambda: True, 1)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.05)
    save(review, "review-window.png")
    review.close()
    return 0


def _push() -> tuple[EventKind, str]:
    return (EventKind.PERTURBATION, "push (marked by the clinician)")


if __name__ == "__main__":
    sys.exit(main())
