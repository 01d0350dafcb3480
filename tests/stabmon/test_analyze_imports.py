"""`stabmon analyze` of a forward-bend recording imports no scipy submodule (scipy.signal alone
is about a second of CPU): the bend analysis and the replay run on numpy and vqf; nor what only
other commands need (asyncio, importlib.metadata, the writer, the comparison and the library
modules, numpy.ma)."""

import asyncio
import json
import subprocess
import sys

from engine.factory import record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors.processing import SessionSettings

#: Modules only other commands need (the streamed replay, writing, comparing, the library).
NOT_FOR_ANALYZE = (
    "asyncio",
    "importlib.metadata",
    "numpy.ma",
    "recordings.writer",
    "recordings.sink",
    "recordings.compare",
    "recordings.protocol_results",
    "recordings.recovery",
)


def _forward_bend_file(tmp_path):
    seconds = 16.0
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=5, realtime=False),
        processing=SessionSettings(rate_hz=100.0, duration_s=seconds - 1.0),
    )
    return asyncio.run(record(spec, "R1", tmp_path / "bend.h5", "forward-bend", seconds)).path


def test_analyze_of_a_forward_bend_loads_no_scipy_submodule(tmp_path):
    path = _forward_bend_file(tmp_path)
    code = (
        "import json, sys\n"
        "from stabmon.cli import main\n"
        f"status = main(['analyze', '--repetitions', {str(path)!r}])\n"
        "print(json.dumps([status, sorted(m for m in sys.modules if m.startswith('scipy')),\n"
        f"  [m for m in {NOT_FOR_ANALYZE!r} if m in sys.modules]]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    status, scipy_modules, other = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0
    assert "Trunk–pelvis timing difference" in done.stdout  # the bends were measured
    loaded = [m for m in scipy_modules if m.split(".")[1] in ("signal", "stats", "optimize", "integrate")]
    assert not loaded, f"stabmon analyze imported {loaded}"
    assert other == [], f"stabmon analyze imported {other} (only other commands need them)"
