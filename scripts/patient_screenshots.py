"""Screenshots of the patient view in each feedback mode, full screen, on a real X display:

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/patient_screenshots.py 1366x768
    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python scripts/patient_screenshots.py 1920x1080

Runs the bundled protocols on the simulated patient (no radio, real time): quiet stance (stance
sway), sit-to-stand (lumbar flexion against its limit), prone plank (hold position and the hold
clock), forward bend (bend range and lumbar share) and dual-task stance (serial subtraction from
memory). Writes docs/screenshots/patient-<mode>-<size>.png.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtWidgets import QApplication

from gui.main_window import MainWindow
from gui.model.clinic import ClinicSession, Phase
from gui.model.protocols import load_protocols
from gui.model.settings import DashboardSettings

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def wait(app: QApplication, until: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not until():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.02)
    return True


def main() -> int:
    if not os.environ.get("DISPLAY") or len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    size = sys.argv[1]
    OUT.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    work = Path(tempfile.mkdtemp(prefix="stabmon-patient-shots-"))
    protocols, _ = load_protocols()
    settings = DashboardSettings(subject_id="P017", data_dir=str(work / "library"), virtual_link=False)
    window = MainWindow(settings, work / "settings.json", protocols)
    window.show()
    view = window.open_patient_view()
    view.toggle_full_screen()
    session = window.session

    def in_task(after_s: float) -> Callable[[], bool]:
        return lambda: session.status.phase is Phase.TASK and session.status.elapsed_s > after_s

    def value_over(limit: float) -> Callable[[], bool]:
        return lambda: (
            view.feedback is not None and math.isfinite(view.feedback.value) and view.feedback.value > limit
        )

    shots: list[tuple[str, str, list[tuple[Callable[[], bool], float]]]] = [
        ("stance-sway", "01-quiet-stance", [(in_task(8.0), 60)]),
        ("lumbar-flexion", "08-sit-to-stand", [(in_task(5.0), 60), (value_over(12.0), 30)]),
        (
            "hold-position",
            "10-plank",
            [(lambda: window.hold_clock.shown_s(window.now_session_s()) > 4.2, 60)],
        ),
        ("bend", "07-forward-bend", [(in_task(3.0), 60), (value_over(40.0), 30)]),
        ("dual-task", "16-dual-task-stance", [(lambda: session.trial is not None, 60), (in_task(6.0), 20)]),
    ]
    for mode, key, conditions in shots:
        window.drill.select(key)
        window.start_drill()
        for condition, timeout_s in conditions:
            if not wait(app, partial(_skipping, session, condition), timeout_s):
                print(f"{mode}: the moment did not come; taken as it is", file=sys.stderr)
        if mode == "dual-task" and session.trial is not None:
            session.answer(session.trial.answer)
        wait(app, lambda: False, 0.3)
        path = OUT / f"patient-{mode}-{size}.png"
        view.grab().save(str(path))
        print(f"wrote {path}")
        session.stop()
        wait(app, lambda: not session.busy, 30)
    window.close()
    return 0


def _skipping(session: ClinicSession, condition: Callable[[], bool]) -> bool:
    """`condition()`, skipping any countdown on the way."""
    session.skip_wait()
    return condition()


if __name__ == "__main__":
    sys.exit(main())
