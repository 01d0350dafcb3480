"""`stabmon dashboard` on a machine where Qt cannot open a window: one line saying why (and which
Debian packages it needs), then offscreen instead of an abort."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from stabmon.dashboard import debian_package, display_fallback, missing_libraries, missing_xcb_packages

# What `ldd libqxcb.so` printed on a fresh Debian 12 with PySide6 6.x (the machine).
FRESH_DEBIAN_LDD = """\
\tlinux-vdso.so.1 (0x00007ffd6b3e5000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f0f4b000000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f0f4ac00000)
\tlibxcb-icccm.so.4 => not found
\tlibxkbcommon-x11.so.0 => not found
"""


def test_missing_libraries_name_the_debian_packages():
    missing = missing_libraries(FRESH_DEBIAN_LDD)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0"]
    # Names as `apt-cache show` knows them on Debian 12.
    assert [debian_package(m) for m in missing] == ["libxcb-icccm4", "libxcb-keysyms1", "libxkbcommon-x11-0"]
    assert debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert debian_package("libX11-xcb.so.1") == "libx11-xcb1"


@pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd (Linux)")
def test_this_machines_qt_plugin_is_checked_with_ldd():
    """The real plugin, read by the real ldd: every package named is one whose library ldd
    could not find (none on a machine set up for Qt)."""
    packages = missing_xcb_packages()
    assert all(p.startswith("lib") and p == p.lower() for p in packages)


def test_a_display_qt_cannot_open_is_one_line_and_offscreen():
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = ":987"  # no X server there
    message = display_fallback(env)
    assert message is not None and "\n" not in message
    assert message.endswith("runs offscreen.") and "Qt cannot open a window" in message
    assert display_fallback({**env, "QT_QPA_PLATFORM": "offscreen"}) is None  # an explicit choice stands
    no_display = {k: v for k, v in env.items() if k != "DISPLAY"}
    assert display_fallback(no_display) == "No display: the dashboard runs offscreen."


@pytest.mark.parametrize("offscreen_by", ["a display Qt cannot open", "QT_QPA_PLATFORM set by hand"])
def test_the_dashboard_without_a_protocol_to_run_says_so_instead_of_hanging_offscreen(tmp_path, offscreen_by):
    """Offscreen nobody can close the window, so it needs a protocol to run and then ends (the
    same `--quit-when-done` as with no display, whoever chose offscreen)."""
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = ":987"
    if offscreen_by == "QT_QPA_PLATFORM set by hand":
        env["QT_QPA_PLATFORM"] = "offscreen"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from stabmon.cli import main; sys.exit(main())",
            "dashboard",
            "--settings",
            str(tmp_path / "s.json"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--run PROTOCOL" in result.stderr
    assert ("runs offscreen" in result.stderr) == (offscreen_by == "a display Qt cannot open")


OFFSCREEN_PROBE = """
import argparse, sys
from pathlib import Path
from PySide6.QtCore import qWarning
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from gui.app import _quiet_offscreen_plugin, build_window
_quiet_offscreen_plugin()
qWarning("This plugin does not support propagateSizeHints()")
qWarning("a message that matters")
folder = Path(sys.argv[1])
args = argparse.Namespace(settings=folder / "settings.json", simulate=True, subject="P-001",
                          data_dir=folder, run=None, protocols=None)
window = build_window(args)
window.show()
app.processEvents()
screen = app.primaryScreen().availableGeometry()
image = window.grab()
print(screen.width(), screen.height(), image.width(), image.height())
"""


def test_with_no_display_the_dashboard_draws_on_a_laptop_sized_screen_and_stays_quiet(tmp_path):
    """No display (`make demo` on a server): Qt's offscreen screen is 800 × 800 by default, so
    the window came out cut (894 × 768, legends and cards clipped); now it is a 1366 × 768
    laptop's, the window fits it whole, and the offscreen plugin's "This plugin does not
    support …" lines are dropped while other Qt messages still show."""
    from stabmon.dashboard import OFFSCREEN_SCREEN, offscreen_platform

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = offscreen_platform(*OFFSCREEN_SCREEN)
    done = subprocess.run(
        [sys.executable, "-c", OFFSCREEN_PROBE, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    screen_w, screen_h, window_w, window_h = map(int, done.stdout.split()[-4:])
    assert (screen_w, screen_h) == OFFSCREEN_SCREEN == (1366, 768)
    assert window_w <= screen_w and window_h <= screen_h and window_w >= 1200
    assert "does not support" not in done.stderr and "a message that matters" in done.stderr
