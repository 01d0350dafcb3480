"""The command line imports only what the chosen command needs (checked in a fresh process)."""

import json
import subprocess
import sys

import pytest

HEAVY = ("bumble", "bleak", "matplotlib", "PySide6", "pyqtgraph", "pylsl", "pyxdf", "distributed")


def _modules_after(argv: list[str]) -> set[str]:
    code = (
        "import json, sys\n"
        "from stabmon.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _loaded(modules: set[str], names) -> set[str]:
    return {name for name in names if name in modules}


def test_help_loads_none_of_the_packages_but_the_heap_policy():
    """`stabmon --help` sets the heap policy (recordings.c_heap_policy, every command does) and
    loads nothing else of the packages: not numpy, not the recordings' reader."""
    modules = _modules_after(["--help"])
    assert "recordings.c_heap_policy" in modules
    ours = {m for m in modules if m.split(".")[0] in ("recordings", "sensors", "engine", "gui")}
    assert ours == {"recordings", "recordings.c_heap_policy"}
    assert not _loaded(modules, (*HEAVY, "numpy", "scipy", "h5py", "vqf"))


def test_sessions_reads_the_library_without_loading_the_analysis(tmp_path):
    """`stabmon sessions` lists files (the library: h5py, numpy); the reader, the analysis and
    the processing (scipy, vqf) are for the commands that analyse."""
    modules = _modules_after(["sessions", "--data-dir", str(tmp_path)])
    assert "recordings.library" in modules
    heavy = ("recordings.reader", "recordings.analysis", "recordings.catalogue", "sensors.processing")
    assert not _loaded(modules, (*HEAVY, *heavy, "scipy", "vqf"))


@pytest.mark.parametrize(
    ("command", "module", "allowed"),
    [
        ("analyze", "stabmon.review", ()),
        ("compare", "stabmon.review", ()),
        ("cohort", "stabmon.cohort", ()),
        ("export", "stabmon.outputs", ("matplotlib",)),  # the report's PDF plots live beside it
        ("import", "stabmon.lab", ()),  # the XDF import records through the engine, without BLE
    ],
)
def test_commands_on_recordings_load_no_radio_plot_or_window_toolkit(command, module, allowed):
    modules = _modules_after([command, "--help"])
    assert module in modules
    heavy = _loaded(modules, (h for h in HEAVY if h not in allowed))
    assert not heavy, f"stabmon {command} --help imported {heavy}"


def test_record_help_still_finds_its_module():
    modules = _modules_after(["record", "--help"])
    assert "stabmon.record" in modules and "stabmon.review" not in modules
