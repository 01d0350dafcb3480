"""The dashboard the benchmarks drive: the real main window on simulated sensors, set up to run a
quiet-stance task of a given length at once (used by dashboard.py and latency.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from gui.main_window import MainWindow
from gui.model.protocols import load_protocols
from gui.model.settings import DashboardSettings

PLACEMENTS = {
    2: ["lumbar", "pelvis"],
    6: ["lumbar", "pelvis", "thorax", "left_thigh", "right_thigh", "left_shank"],
}


def stance_window(
    sensors: int, rate_hz: float, seconds: float, virtual_link: bool
) -> tuple[MainWindow, Path]:
    """A shown main window whose selected protocol is `seconds` of stance, and its work folder
    (settings, protocol, and the session library under `library/`)."""
    work = Path(tempfile.mkdtemp(prefix="stabmon-bench-"))
    (work / "protocols").mkdir()
    (work / "protocols" / "bench.toml").write_text(
        f'name = "bench"\ndrill = "quiet-stance"\ninstructions = "Stand."\n'
        f"task_s = {seconds}\nget_ready_s = 0\n",
        encoding="utf-8",
    )
    protocols, _ = load_protocols(work / "protocols")
    settings = DashboardSettings(
        subject_id="BENCH1",
        data_dir=str(work / "library"),
        protocol="bench",
        rate_hz=rate_hz,
        placements=PLACEMENTS[sensors],
        virtual_link=virtual_link,
    )
    window = MainWindow(settings, work / "settings.json", protocols)
    window.show()
    return window, work
