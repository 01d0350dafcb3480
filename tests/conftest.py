"""Shared helpers: run a simulated session through the real runner and collect what it emits."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sensors.events import Event
from sensors.processing import SessionRunner, SessionSettings
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.live_measures import RunningMeasures
from sensors.processing.pipeline import AngleBlock
from sensors.samples import Frame, SampleBlock
from sensors.source import StatusChange


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


def run_session(source, settings: SessionSettings | None = None) -> tuple[CollectingSink, object]:
    """Run `source` through a `SessionRunner` to its end; returns (sink, report)."""
    sink = CollectingSink()
    report = asyncio.run(SessionRunner(source, [sink], settings).run())
    return sink, report


@pytest.fixture
def session_runner():
    return run_session


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
