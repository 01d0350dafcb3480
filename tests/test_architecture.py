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


#: Where a session's parts may be built by hand (a runner, a simulated or BLE source, a writer or
#: its sink), each with why: the factory itself, and what tests or times those parts alone.
#: Everywhere else in the product, tests/ and benchmarks/ a session is assembled by engine.factory
#: from a specification (a folder ends in "/").
HAND_BUILT_ALLOWED = {
    "engine/factory.py": "the factory: opens the sources",
    "engine/recording.py": "the factory's recording: the writer, its sink and the runner",
    "engine/work.py": (
        "the calibration: an unrecorded session on the protocol's open source with the live view, "
        "publishing nothing on LSL"
    ),
    "recordings/analysis.py": (
        "the replay: a recording's own blocks through the runner with its stored settings (a "
        "ReplaySource, no specification to open)"
    ),
    "tests/sensors/processing/": (
        "tests of the runner, the synchroniser and the processing: they feed the runner sources "
        "made to test it (tests/sensors/processing/runs.py)"
    ),
    "tests/sensors/ble/": "tests of the BLE link (BleSource) itself",
    "tests/sensors/simulator/": "tests of the simulated source itself",
    "tests/recordings/test_writer_reader.py": "tests of RecordingWriter itself",
    "tests/recordings/test_disk_full.py": "RecordingWriter alone on a disk that runs full",
    "tests/recordings/test_write_failure.py": "RecordingWriter alone when a write fails for real",
    "tests/recordings/test_consolidate.py": (
        "RecordingWriter alone: a minute of 60-Hz sensors in a 100-Hz session in a second, to consolidate"
    ),
    "tests/recordings/test_faulty_session_readback.py": (
        "RecordingWriter alone fed the link's ingest output for generated notifications (no session)"
    ),
    "benchmarks/recording_write.py": (
        "times RecordingWriter alone, fed the calls captured from a session run without one (the "
        "runner never feeds the writer): the factory's Recording would time the pipeline too"
    ),
    "tests/recordings/test_writer_process_stalled.py": "WriterProcess alone, its process stopped",
    "tests/recordings/test_live_file_not_recovered.py": (
        "WriterProcess alone, its live file handed to recover and consolidate meanwhile"
    ),
    "tests/recordings/test_writer_process.py": (
        "RecordingWriter and WriterProcess alone, fed the same calls: the same file either way"
    ),
    "tests/recordings/test_chunk_filters.py": "tests of RecordingWriter's direct chunk writes themselves",
    "benchmarks/loop_cpu.py": (
        "times the SessionRunner alone on one SimulatedSource's blocks replayed one per notification "
        "(no radio, no writer), for a CPU and byte-equality comparison of two trees"
    ),
    "benchmarks/live_memory.py": (
        "RecordingWriter alone fed hours of synthetic session data: its memory, apart from the "
        "runner's (the pipeline would make hours of data take hours)"
    ),
    "benchmarks/fuzz_ingest.py": (
        "RecordingWriter alone fed the link's ingest output for fuzzed notifications (no session)"
    ),
}
#: A call that builds one of a session's parts (a class statement naming one is no call).
_HAND_BUILT = re.compile(
    r"(?<!class )\b(SessionRunner|SimulatedSource|BleSource|RecordingWriter|WriterProcess|RecordingSink)\("
)


def _hand_built_allowed(name: str) -> bool:
    return any(name == key or (key.endswith("/") and name.startswith(key)) for key in HAND_BUILT_ALLOWED)


def hand_built_sessions(root: Path) -> list[str]:
    """Files under `root` (product packages, tests/, benchmarks/) that build a session's parts
    by hand outside HAND_BUILT_ALLOWED, each with what it builds. Looks at the text, so a script
    in a string (a subprocess's) counts too."""
    folders = [*PROJECT, "tests", "benchmarks"]
    offenders = []
    for path in sorted(p for folder in folders for p in (root / folder).rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name == "tests/test_architecture.py" or _hand_built_allowed(name):
            continue
        built = sorted(set(_HAND_BUILT.findall(path.read_text(encoding="utf-8"))))
        if built:
            offenders.append(f"{name} ({', '.join(built)})")
    return offenders


def test_sessions_are_assembled_by_the_factory():
    """A session is assembled by engine.factory (`record`; or `open_source` + `Recording` or
    `session_runner`) from a specification, never from a runner, source or writer built by
    hand: the rate and settings are given once, faults go in through `Impairments`."""
    offenders = hand_built_sessions(ROOT)
    assert not offenders, (
        "these build a session's parts by hand; use engine.factory (faults through Impairments) "
        "or list them in HAND_BUILT_ALLOWED with a reason: " + "; ".join(offenders)
    )
    for key in HAND_BUILT_ALLOWED:  # an exception that no longer applies goes
        paths = (ROOT / key).rglob("*.py") if key.endswith("/") else [ROOT / key]
        assert any(_HAND_BUILT.search(p.read_text(encoding="utf-8")) for p in paths), (
            f"{key} needs no exception now"
        )


def test_the_factory_check_finds_a_session_built_by_hand(tmp_path):
    """The check itself, on a made-up tree: a benchmark building a runner over a simulated source
    and a test building a writer are caught, also in a folder beside an allowed one; a test in an
    allowed folder and a class statement are not."""
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "by_hand.py").write_text(
        "source = SimulatedSource(drill, seed=1)\nrunner = SessionRunner(source, [], settings)\n"
    )
    (tmp_path / "tests" / "recordings").mkdir(parents=True)
    (tmp_path / "tests" / "recordings" / "test_x.py").write_text("w = RecordingWriter(path, m, s)\n")
    (tmp_path / "tests" / "sensors" / "ble").mkdir(parents=True)
    (tmp_path / "tests" / "sensors" / "ble" / "test_y.py").write_text("b = BleSource(assignments)\n")
    (tmp_path / "sensors").mkdir()
    (tmp_path / "sensors" / "link.py").write_text("class BleSource(Source):\n    pass\n")
    assert hand_built_sessions(tmp_path) == [
        "benchmarks/by_hand.py (SessionRunner, SimulatedSource)",
        "tests/recordings/test_x.py (RecordingWriter)",
    ]
