"""The layering DESIGN.md asks for: gui → engine → recordings → sensors.processing → sensors;
sensors.ble → sensors; engine may also use sensors.ble and sensors.simulator; gui reaches the
engine only through its window-side modules (spec, messages, client)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("bleak", "bumble", "PySide6", "pyqtgraph")

# Package → the project packages it may import (besides itself). A subpackage listed here is a
# package of its own: its parent may import it only when it says so.
ALLOWED = {
    "sensors": {"sensors"},
    "sensors.simulator": {"sensors"},
    "sensors.ble": {"sensors", "sensors.simulator"},  # virtual sensors are fed by the simulator
    "sensors.processing": {"sensors"},
    "recordings": {"sensors", "sensors.processing"},
    "engine": {"sensors", "sensors.ble", "sensors.processing", "sensors.simulator", "recordings"},
    "gui": {"sensors", "sensors.processing", "recordings", "engine"},
}
PROJECT = ("sensors", "recordings", "engine", "gui", "stabmon")
#: The engine's modules the window may import: none of them loads bleak, bumble or Qt.
WINDOW_SIDE = ("engine.spec", "engine.messages", "engine.client", "engine.errors")


def _package_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    for depth in (2, 1):
        candidate = ".".join(parts[:depth])
        if candidate in ALLOWED:
            return candidate
    raise AssertionError(f"{path} is outside the known packages")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _project_package(module: str) -> str | None:
    if module.split(".")[0] not in PROJECT:
        return None
    for depth in (2, 1):
        candidate = ".".join(module.split(".")[:depth])
        if candidate in ALLOWED or candidate == "stabmon":
            return candidate
    return module.split(".")[0]


@pytest.mark.parametrize("package", sorted({p.split(".")[0] for p in ALLOWED}))
def test_imports_follow_the_layering(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        own = _package_of(path)
        for module in _imports(path):
            target = _project_package(module)
            if target is None or target == own:
                continue
            if target not in ALLOWED[own]:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
            elif own == "gui" and target == "engine" and module not in WINDOW_SIDE:
                offenders.append(f"{path.relative_to(ROOT)} imports {module} (not a window-side module)")
        heavy = [m for m in _imports(path) if m.split(".")[0] in HEAVY]
        if own not in ("sensors.ble", "gui") and heavy:
            offenders.append(f"{path.relative_to(ROOT)} imports {heavy}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize(
    "modules",
    [
        "sensors.processing, sensors.simulator, recordings",  # processing and recordings
        "engine.spec, engine.messages, engine.client",  # the window side of the engine
    ],
)
def test_these_modules_load_no_ble_or_qt(modules):
    code = (
        f"import sys, {modules}\n"
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "", f"{modules} loaded: {result.stdout.strip()}"


#: Modules that exist only on POSIX: a product module importing one fails on Windows.
POSIX_ONLY = ("resource", "fcntl", "termios", "pwd", "grp")


@pytest.mark.parametrize("package", PROJECT)
def test_product_packages_import_no_posix_only_module_and_ship_no_harness(package):
    """Harnesses (soak, latency probes) live in benchmarks/ or tests/, not in the product."""
    for path in sorted((ROOT / package).rglob("*.py")):
        posix = [m for m in _imports(path) if m.split(".")[0] in POSIX_ONLY]
        assert not posix, f"{path.relative_to(ROOT)} imports {posix}: it would fail on Windows"
        assert not any(m.split(".")[0] == "benchmarks" for m in _imports(path)), path


def test_a_package_may_not_reach_into_a_subpackage_it_is_not_allowed():
    """The check itself: `sensors` importing `sensors.ble` is a violation, not its own package."""
    assert _project_package("sensors.ble.link") == "sensors.ble"
    assert "sensors.ble" not in ALLOWED["sensors"]
    assert _project_package("engine.factory") == "engine"
    assert "sensors.ble" not in ALLOWED["gui"] and "sensors.simulator" not in ALLOWED["gui"]


#: Files outside tests/engine that may build a writer and a runner themselves, each with why.
HAND_BUILT_SESSIONS_ALLOWED = {
    "benchmarks/recording_write.py": (
        "times RecordingWriter alone, fed the calls captured from a session run without one (the "
        "runner never feeds the writer): the factory's Recording would time the pipeline too"
    ),
}
_RUNNER_CALL = re.compile(r"\bSessionRunner\(")
_WRITER_CALL = re.compile(r"\bRecording(?:Writer|Sink)\(")


def test_benchmarks_and_tests_record_through_the_factory():
    """A session that records is assembled by engine.factory (`record`, or `open_source` +
    `Recording`), never writer + runner by hand: the rate and settings are given once, in the
    specification. Looks at the text, so a script in a string (a subprocess's) counts too."""
    paths = [*(ROOT / "benchmarks").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
    offenders = []
    for path in sorted(paths):
        name = path.relative_to(ROOT).as_posix()
        if name.startswith("tests/engine/") or name in HAND_BUILT_SESSIONS_ALLOWED or path == Path(__file__):
            continue
        text = path.read_text(encoding="utf-8")
        if _RUNNER_CALL.search(text) and _WRITER_CALL.search(text):
            offenders.append(name)
    assert not offenders, (
        "these build RecordingWriter/RecordingSink and SessionRunner by hand; use "
        "engine.factory.record (faults through Impairments) or list them with a reason: "
        + ", ".join(offenders)
    )
    for name in HAND_BUILT_SESSIONS_ALLOWED:  # an exception that no longer applies goes
        text = (ROOT / name).read_text(encoding="utf-8")
        assert _RUNNER_CALL.search(text) and _WRITER_CALL.search(text), f"{name} needs no exception now"
