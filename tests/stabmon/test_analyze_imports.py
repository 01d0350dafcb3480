"""`stabmon analyze` of a forward-bend recording imports no scipy submodule (scipy.signal alone
is about a second of CPU): the bend analysis and the replay run on numpy and vqf."""

import asyncio
import json
import subprocess
import sys

from recordings import RecordingSink, RecordingWriter, SessionMetadata
from sensors.processing import SessionRunner, SessionSettings
from sensors.simulator import DrillOptions, SimulatedSource, make_drill


def _forward_bend_file(tmp_path):
    seconds = 16.0
    source = SimulatedSource(make_drill("forward-bend", DrillOptions(duration_s=seconds, seed=5)), seed=5)
    settings = SessionSettings(rate_hz=100.0, duration_s=seconds - 1.0)
    writer = RecordingWriter(
        tmp_path / "bend.h5", SessionMetadata("R1", "forward-bend", settings), source.sensors
    )
    asyncio.run(SessionRunner(source, [RecordingSink(writer)], settings).run())
    writer.close()
    return tmp_path / "bend.h5"


def test_analyze_of_a_forward_bend_loads_no_scipy_submodule(tmp_path):
    path = _forward_bend_file(tmp_path)
    code = (
        "import json, sys\n"
        "from stabmon.cli import main\n"
        f"status = main(['analyze', '--repetitions', {str(path)!r}])\n"
        "print(json.dumps([status, sorted(m for m in sys.modules if m.startswith('scipy')),\n"
        "  [m for m in ('asyncio', 'importlib.metadata') if m in sys.modules]]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    status, scipy_modules, other = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0
    assert "(MARP)" in done.stdout  # the bends were measured
    loaded = [m for m in scipy_modules if m.split(".")[1] in ("signal", "stats", "optimize", "integrate")]
    assert not loaded, f"stabmon analyze imported {loaded}"
    assert other == [], f"stabmon analyze imported {other} (only the streamed replay and writers need them)"
