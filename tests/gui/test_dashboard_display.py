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
