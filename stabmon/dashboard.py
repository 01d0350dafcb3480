"""`stabmon dashboard`: its arguments here; Qt is imported only when it runs.

Before Qt starts, `display_fallback` checks that it can open a window on this machine's display
(a fresh Debian install lacks some xcb libraries Qt needs); when it cannot, the dashboard says in
one line which packages to install and runs offscreen instead of aborting."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from stabmon.arguments import subject_id

#: Opens a Qt GUI application and exits: whether Qt's platform plugin loads and reaches the display.
_PROBE = "import sys; from PySide6.QtGui import QGuiApplication; QGuiApplication(sys.argv[:1])"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The dashboard's options."""
    parser.add_argument("--simulate", action="store_true", help="start with virtual sensors")
    parser.add_argument("--subject", type=subject_id, help="pseudonymous subject id (never a name)")
    parser.add_argument(
        "--data-dir", type=Path, help="session library folder (default: remembered, else the platform's)"
    )
    parser.add_argument("--protocols", type=Path, help="a folder of the clinic's own protocol files (*.toml)")
    parser.add_argument("--settings", type=Path, help="settings file (default: the user's config folder)")
    parser.add_argument(
        "--run", metavar="PROTOCOL", help="start this protocol (file name without .toml) at once"
    )
    parser.add_argument("--patient-view", action="store_true", help="open the patient view too")
    parser.add_argument(
        "--quit-when-done", action="store_true", help="close when the --run protocol ends (for demos)"
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        help="save the window to this PNG when the --run protocol ends (with --quit-when-done, or "
        "when there is no display to show it on), and the patient view (--patient-view) to "
        "NAME-patient.png beside it",
    )


def debian_package(soname: str) -> str:
    """The Debian package that ships a shared library, by Debian's naming rule:
    libxcb-icccm.so.4 → libxcb-icccm4, libxkbcommon-x11.so.0 → libxkbcommon-x11-0."""
    match = re.fullmatch(r"(lib[\w+.-]+?)\.so\.(\d+)(?:\.[\d.]+)?", soname)
    if match is None:
        return soname
    name, version = match.groups()
    package = f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"
    return package.lower()


def missing_libraries(ldd_output: str) -> list[str]:
    """Shared libraries `ldd` reports as "not found", in its order, once each."""
    found = re.findall(r"^\s*(\S+) => not found", ldd_output, flags=re.MULTILINE)
    return list(dict.fromkeys(found))


def _xcb_plugin() -> Path | None:
    try:
        import PySide6  # only its folder: Qt itself is not loaded here
    except ImportError:
        return None
    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.exists() else None


def missing_xcb_packages() -> list[str]:
    """Debian packages whose libraries Qt's xcb plugin lacks here (empty: none, or unknown)."""
    plugin, ldd = _xcb_plugin(), shutil.which("ldd")
    if plugin is None or ldd is None:
        return []
    result = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, check=False)
    return [debian_package(name) for name in missing_libraries(result.stdout)]


def display_fallback(env: dict[str, str] | None = None) -> str | None:
    """None when Qt can open windows with `env` (default: this process's); else the one line to
    show before running offscreen instead."""
    env = dict(os.environ if env is None else env)
    if env.get("QT_QPA_PLATFORM"):
        return None  # chosen explicitly (offscreen in tests and demos)
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return "No display: the dashboard runs offscreen."
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=60, check=False
        )
    except subprocess.TimeoutExpired:
        return "Qt did not open the display within 60 s: the dashboard runs offscreen."
    if probe.returncode == 0:
        return None
    packages = missing_xcb_packages()
    if packages:
        return (
            f"Qt cannot open a window: it needs the system packages {' '.join(packages)} "
            f"(sudo apt-get install {' '.join(packages)}); the dashboard runs offscreen."
        )
    lines = [line.strip() for line in probe.stderr.splitlines() if line.strip()] or ["unknown error"]
    why = next((line for line in lines if "could not" in line.lower()), lines[-1])
    return f"Qt cannot open a window on this display ({why.strip()}); the dashboard runs offscreen."


#: The screen the dashboard draws on when it runs offscreen for want of a display: a laptop's.
OFFSCREEN_SCREEN = (1366, 768)


def offscreen_platform(width: int, height: int) -> str:
    """The QT_QPA_PLATFORM value of Qt's offscreen platform with one screen of width × height
    pixels at 96 dpi (its own default screen is 800 × 800, too small for the dashboard: the
    screenshot came out cut). Its configuration file is written to the temp folder."""
    screen = {"name": "offscreen", "x": 0, "y": 0, "width": width, "height": height}
    config = {"screens": [{**screen, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}
    path = Path(tempfile.gettempdir()) / f"stabmon-offscreen-{width}x{height}.json"
    fresh = path.with_name(f"{path.name}.{os.getpid()}")
    fresh.write_text(json.dumps(config), encoding="utf-8")
    fresh.replace(path)  # whole, even with another dashboard starting at once
    return f"offscreen:configfile={path}"


def run(args: argparse.Namespace) -> int:
    problem = display_fallback()
    if problem is not None:
        print(problem, file=sys.stderr)
        os.environ["QT_QPA_PLATFORM"] = offscreen_platform(*OFFSCREEN_SCREEN)
    if os.environ.get("QT_QPA_PLATFORM", "").startswith("offscreen"):  # nobody can close it
        if not args.run:
            print("Offscreen, the dashboard needs --run PROTOCOL to do anything.", file=sys.stderr)
            return 2
        args.quit_when_done = True
    from gui.app import run as run_dashboard

    return run_dashboard(args)
