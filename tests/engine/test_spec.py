"""The session specification: JSON round trip, checks, and a recording that stores the whole of
it so that a replay runs with the stored (not today's default) processing settings."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import h5py
import numpy as np
import pytest

from engine.errors import SpecError
from engine.factory import Recording, link_settings, open_source, recording_metadata, recording_path
from engine.spec import LslSpec, SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from recordings.analysis import replay
from sensors.identity import SensorFamily
from sensors.placements import Placement
from sensors.processing.orientation import OrientationSettings
from sensors.processing.pipeline import PipelineSettings
from sensors.processing.session import SessionSettings
from sensors.processing.synchronizer import SynchronizerSettings
from tests.conftest import CollectingSink


def _tuned() -> SessionSettings:
    return SessionSettings(
        rate_hz=100.0,
        synchronizer=SynchronizerSettings(longest_wait_s=1.25, wait_recovery_s=7.0),
        pipeline=PipelineSettings(orientation=OrientationSettings(tau_acc_s=0.4)),
    )


def test_a_spec_round_trips_through_json_with_every_nested_setting():
    spec = SessionSpec(
        source=SourceSpec(
            kind=SourceKind.BLUETOOTH,
            family=SensorFamily.MOVELLA_DOT,
            assignments=((Placement.LUMBAR, "D4:22:CD:00:00:01"), (Placement.PELVIS, "pelvis-dot")),
            seed=None,
            scan_timeout_s=8.0,
            give_up_after_s=45.0,
        ),
        lsl=LslSpec(outlet=True, markers="type:Markers"),
        processing=_tuned(),
    )
    text = spec.to_json()
    back = SessionSpec.from_json(text)
    assert back == spec
    raw = json.loads(text)
    assert raw["processing"]["synchronizer"]["longest_wait_s"] == 1.25
    assert raw["processing"]["pipeline"]["orientation"]["tau_acc_s"] == 0.4
    assert raw["source"]["assignments"] == [["lumbar", "D4:22:CD:00:00:01"], ["pelvis", "pelvis-dot"]]
    link = link_settings(back)  # what the BLE link is given
    assert (link.rate_hz, link.scan_timeout_s, link.give_up_after_s) == (100.0, 8.0, 45.0)


def test_the_rate_is_given_once_and_reaches_every_stage():
    settings = SessionSettings(
        rate_hz=200.0,
        synchronizer=SynchronizerSettings(rate_hz=50.0),
        pipeline=PipelineSettings(rate_hz=60.0, orientation=OrientationSettings(rate_hz=70.0)),
    )
    assert settings.synchronizer.rate_hz == 200.0
    assert settings.pipeline.rate_hz == 200.0
    assert settings.pipeline.orientation is not None and settings.pipeline.orientation.rate_hz == 200.0
    spec = SessionSpec(processing=settings)
    assert spec.rate_hz == 200.0


def test_bad_specs_are_refused_with_what_is_wrong():
    with pytest.raises(SpecError, match="newer"):
        SessionSpec.from_json(json.dumps({"version": 99}))
    with pytest.raises(SpecError, match="not JSON"):
        SessionSpec.from_json("{")
    with pytest.raises(SpecError, match=r"processing\.synchronizer\.longest_wait_s"):
        SessionSpec.from_json(json.dumps({"processing": {"synchronizer": {"longest_wait_s": "long"}}}))
    with pytest.raises(SpecError, match=r"source\.kind"):
        SessionSpec.from_json(json.dumps({"source": {"kind": "carrier-pigeon"}}))
    with pytest.raises(SpecError, match="pelvis"):
        SessionSpec(source=SourceSpec(placements=(Placement.LUMBAR,))).check()
    # a drill needs the sensors its measures read: quiet stance the lumbar one, gait the pelvis one
    lumbar_only = SourceSpec(placements=(Placement.LUMBAR,))
    SessionSpec(source=lumbar_only, processing=SessionSettings(drill="quiet-stance")).check()
    for drill in ("single-leg-left", "gait"):
        with pytest.raises(SpecError, match=rf"^a {drill} session needs a pelvis sensor"):
            SessionSpec(source=lumbar_only, processing=SessionSettings(drill=drill)).check()
    with pytest.raises(SpecError, match="give_up_after_s must be a positive number of seconds, got 0"):
        SessionSpec(source=SourceSpec(give_up_after_s=0)).check()
    with pytest.raises(SpecError, match="pelvis"):
        SessionSpec(
            source=SourceSpec(kind=SourceKind.BLUETOOTH, assignments=((Placement.LUMBAR, "AA"),))
        ).check()


def test_old_settings_json_without_nested_settings_reads_with_todays_defaults():
    from recordings.settings_codec import session_settings_from_json

    old = (
        '{"calibration_s": 2.0, "clock": {"bin_s": 1.0}, "drill": "", "duration_s": null, '
        '"max_wait_s": 0.4, "rate_hz": 50.0}'
    )
    settings = session_settings_from_json(old)
    assert settings.synchronizer == SynchronizerSettings(rate_hz=50.0, max_wait_s=0.4)
    assert settings.pipeline.rate_hz == 50.0


def _record(spec: SessionSpec, tmp_path) -> tuple[CollectingSink, object]:
    async def go():
        async with open_source(spec, "quiet-stance", 9.0) as opened:
            metadata = recording_metadata(spec, "SPEC1", opened, "nested settings")
            path = recording_path(metadata, out_dir=tmp_path)
            live = CollectingSink()
            await Recording(spec, opened.source, metadata, path, [live]).run()
            return live, path

    return asyncio.run(go())


def test_a_recording_stores_the_whole_spec_and_replays_with_its_nested_settings(tmp_path):
    spec = SessionSpec(
        source=SourceSpec(kind=SourceKind.SIMULATED, seed=11, realtime=False),
        processing=_tuned(),
    ).for_drill("quiet-stance", 8.0)
    live, path = _record(spec, tmp_path)
    with h5py.File(path, "r") as f:  # an independent reader sees the spec and the settings
        assert SessionSpec.from_json(f.attrs["session_spec_json"]) == spec
        stored = json.loads(f["processing"].attrs["settings_json"])
    assert stored["pipeline"]["orientation"]["tau_acc_s"] == 0.4
    assert stored["synchronizer"]["longest_wait_s"] == 1.25

    recording = read_recording(path)
    assert recording.settings == spec.processing
    live_lumbar = np.concatenate([a.lumbar_rad for a in live.angles])
    replayed = replay(recording, running_measures=False).collector.angles
    assert replayed is not None
    n = min(len(live_lumbar), len(replayed.lumbar_rad))
    assert n > 600
    np.testing.assert_allclose(replayed.lumbar_rad[:n], live_lumbar[:n], atol=1e-9, equal_nan=True)
    # With today's default orientation filter instead, the angles differ: the stored value counts.
    default = dataclasses.replace(recording, settings=SessionSettings(rate_hz=100.0, drill="quiet-stance"))
    other = replay(default, running_measures=False).collector.angles
    assert other is not None
    difference = np.nanmax(np.abs(other.lumbar_rad[:n] - live_lumbar[:n]))
    assert difference > 1e-4
