"""A hold recording replays to the same hold angles, hold start and held time: the drill stored
in the settings picks the angle definition again, the clinician's keys come back from the file
and the pipeline detects the start again."""

import asyncio

import numpy as np
import pytest

from engine.factory import Impairments, record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from recordings.analysis import analyze_recording, replay
from sensors.events import EventKind
from sensors.processing import SessionSettings
from sensors.processing.angles import AngleDefinition
from sensors.simulator import (
    DrillOptions,
    RadioSettings,
    make_drill,
)
from tests.conftest import CollectingSink


@pytest.mark.parametrize("start_key", [False, True])
def test_a_hold_replays_exactly(tmp_path, start_key):
    name = "side-plank-right"
    drill = make_drill(name, DrillOptions(seed=6), held_s=12.0, start_key=start_key)
    radio = RadioSettings(burst_start_probability=0.005)
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=6, realtime=False),
        processing=SessionSettings(rate_hz=100.0, duration_s=drill.duration_s, drill=name),
    )
    live = CollectingSink()
    asyncio.run(
        record(spec, "R2", tmp_path / "h.h5", drill, sinks=[live], impairments=Impairments(radio=radio))
    )
    rec = read_recording(tmp_path / "h.h5")
    assert rec.settings.drill == name
    again = CollectingSink()
    replay(rec, extra_sinks=[again])
    assert again.all_angles.definition is AngleDefinition.HOLD
    np.testing.assert_array_equal(again.all_angles.inclination_rad, live.all_angles.inclination_rad)
    np.testing.assert_array_equal(again.all_angles.lumbar_rad, live.all_angles.lumbar_rad)
    np.testing.assert_array_equal(rec.processing.inclination_rad, live.all_angles.inclination_rad)
    starts = [e for e in rec.events if e.kind is EventKind.HOLD_START]
    assert [e.source for e in starts] == (["simulator"] if start_key else ["pipeline"])
    result = analyze_recording(rec)
    truth = drill.truth
    assert result.value("position_lost") == 1.0
    expected = truth.stopwatch_s if start_key else truth.key_end_s - starts[0].time_s
    assert result.value("held") == pytest.approx(expected, abs=1e-9)
