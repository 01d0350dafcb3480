"""Shared helpers: run a simulated session, assembled by engine.factory, and collect what it emits."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import settings as hypothesis_settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The suite starts many interpreters (xdist workers, engine processes, `stabmon` commands,
# harnesses), each importing stabmon. With PYTHONDONTWRITEBYTECODE set (as on this team's machine)
# each one compiled stabmon's sources again: about 0.2 s of CPU a process (1.7 s against 1.5 s for
# the engine's, the CLI's and the window's imports) and 5 s a worker's collection (10.4 s against
# 5.5 s). Bytecode goes to the tree's __pycache__ folders, which git ignores.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # (for the processes started from here)

from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors.events import Event
from sensors.processing import SessionSettings
from sensors.processing.analysis import AnalysisResult
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.collector import SessionCollector
from sensors.processing.live_measures import RunningMeasures
from sensors.processing.pipeline import AngleBlock
from sensors.processing.session import SessionReport, SessionSink
from sensors.samples import Frame, SampleBlock
from sensors.simulator import DRILL_NAMES, DrillOptions, make_drill
from sensors.simulator.drills.base import Drill
from sensors.simulator.drills.holds import HOLD_TIME_NORMS
from sensors.source import StatusChange

sys.dont_write_bytecode = False  # (for this process's imports from here on: the test modules)

# CI gates a landing, so there the property tests try the same examples on every run
# (derandomize: a seed from each test's own name); run anywhere else they explore new examples
# each time (session 10's exploration found a Polar decoder bug, kept as an @example).
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@dataclass
class CollectingSink:
    """Keeps everything a session emits, for assertions."""

    blocks: list[tuple[SampleBlock, np.ndarray]] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    angles: list[AngleBlock] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    statuses: list[StatusChange] = field(default_factory=list)
    calibration: SegmentCalibration | None = None
    measures: list[RunningMeasures] = field(default_factory=list)
    host_origin_ns: int | None = None

    def on_start(self, host_origin_ns: int) -> None:
        self.host_origin_ns = host_origin_ns

    def on_samples(self, block: SampleBlock, session_time_s: np.ndarray) -> None:
        self.blocks.append((block, session_time_s))

    def on_frame(self, frame: Frame, angles: AngleBlock) -> None:
        self.frames.append(frame)
        self.angles.append(angles)

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def on_status(self, status: StatusChange) -> None:
        self.statuses.append(status)

    def on_calibration(self, calibration: SegmentCalibration) -> None:
        self.calibration = calibration

    def on_measures(self, measures: RunningMeasures) -> None:
        self.measures.append(measures)

    @property
    def frame(self) -> Frame:
        return Frame.concatenate(self.frames)

    @property
    def all_angles(self) -> AngleBlock:
        return AngleBlock.concatenate(self.angles)


def simulated_spec(
    seed: int = 0, settings: SessionSettings | None = None, *, realtime: bool = False
) -> SessionSpec:
    """Simulated sensors without a radio (`seed`), as fast as they compute unless `realtime`,
    processed with `settings`."""
    return SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=seed, realtime=realtime),
        processing=settings or SessionSettings(),
    )


async def run_drill_async(
    drill: Drill, sinks: list[SessionSink], settings: SessionSettings | None = None, seed: int = 0
) -> SessionReport:
    """Act out `drill` on simulated sensors (`seed`) opened by engine.factory and run the
    specification's runner with `sinks` to the drill's end: the sensors stop with the script
    (`drill.duration_s`, s), so the session holds the whole performance and nothing after it."""
    from engine.factory import open_source, session_runner  # loads the BLE stack: only when used

    spec = simulated_spec(seed, settings)
    async with open_source(spec, drill, keep_sampling_s=0.0) as opened:
        return await session_runner(spec, opened.source, sinks).run()


def run_drill(
    drill: Drill, sinks: list[SessionSink], settings: SessionSettings | None = None, seed: int = 0
) -> SessionReport:
    """`run_drill_async` to its end, from synchronous code."""
    return asyncio.run(run_drill_async(drill, sinks, settings, seed))


def simulate(
    drill: Drill, settings: SessionSettings | None = None, seed: int = 0
) -> tuple[CollectingSink, SessionReport]:
    """`run_drill` into a `CollectingSink`; returns (sink, report)."""
    sink = CollectingSink()
    report = run_drill(drill, [sink], settings, seed)
    return sink, report


#: The shared every-drill analyses: each drill acted out for EVERY_DRILL_S (s) with seed
#: EVERY_DRILL_SEED, the holds scripted to end at EVERY_DRILL_HELD_S (s), inside the recording
#: (their drawn, realistic endurance times are minutes).
EVERY_DRILL_S, EVERY_DRILL_SEED, EVERY_DRILL_HELD_S = 45.0, 7, 25.0


@pytest.fixture(scope="session")
def every_drill_analysed() -> dict[str, tuple[Drill, AnalysisResult]]:
    """Every simulated drill acted out once (`EVERY_DRILL_S`…) and analysed, by drill name: (its
    script with the simulator's truth, its measures table). Built once per worker that runs a
    test of the xdist group "every-drill" (tests/sensors/processing/test_analysis.py and
    tests/recordings/test_catalogue.py): mark a test that uses it with that group."""
    analysed = {}
    for name in DRILL_NAMES:
        held = {"held_s": EVERY_DRILL_HELD_S} if name in HOLD_TIME_NORMS else {}
        drill = make_drill(name, DrillOptions(duration_s=EVERY_DRILL_S, seed=EVERY_DRILL_SEED), **held)
        collector = SessionCollector()
        run_drill(drill, [collector], seed=EVERY_DRILL_SEED)
        analysed[name] = drill, collector.analysis(name)
    return analysed


#: Fixtures of these scopes are built once per xdist worker that runs a test using them.
_SHARED_SCOPES = frozenset({"class", "module", "package"})


def shared_fixture_group(item: pytest.Item) -> str | None:
    """The xdist group that keeps `item` on the worker that builds its module's shared fixtures
    (`module:<path of the test module>`), or None when it uses no class/module/package-scoped
    fixture."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    for name in info.names_closure:
        definitions = info.name2fixturedefs.get(name)
        if definitions and definitions[-1].scope in _SHARED_SCOPES:
            return "module:" + item.nodeid.split("::", 1)[0]
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup`, tests that share a module-scoped fixture run on one worker, so the
    fixture (often several recordings) is built once, not once on each worker that happens to get
    one of them. Runs before xdist reads the groups; an explicit `xdist_group` mark wins."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            group = shared_fixture_group(item)
            if group is not None:
                item.add_marker(pytest.mark.xdist_group(group))
