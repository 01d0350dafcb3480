"""Consecutive recordings on one open BLE link (the repetitions of a protocol): each file starts
at its own session time 0, and the link is not reconnected between them."""

from __future__ import annotations

import asyncio

import numpy as np

from engine.factory import Recording, open_source, recording_metadata, recording_path
from engine.segments import SharedSource
from engine.spec import SessionSpec, SourceKind, SourceSpec
from recordings import read_recording
from sensors.placements import Placement
from sensors.processing.session import SessionSettings
from sensors.source import LinkState
from tests.conftest import CollectingSink


def test_repetitions_share_one_link_and_each_file_starts_at_zero(tmp_path):
    spec = SessionSpec(
        source=SourceSpec(kind=SourceKind.VIRTUAL_BLE, seed=4, realtime=False, scan_timeout_s=1.5),
        processing=SessionSettings(rate_hz=100.0),
    )

    async def go():
        out = []
        async with open_source(spec, "quiet-stance", 12.0) as opened:
            shared = SharedSource(opened.source)
            try:
                for repetition in (1, 2):
                    segment_spec = spec.for_drill("quiet-stance", 4.0)
                    segment = shared.segment()
                    metadata = recording_metadata(
                        segment_spec, "SEG1", opened, protocol={"repetition": repetition}
                    )
                    path = recording_path(metadata, out_dir=tmp_path / str(repetition))
                    sink = CollectingSink()
                    await Recording(segment_spec, segment, metadata, path, [sink]).run()
                    out.append((path, sink))
                    await asyncio.sleep(0.2)  # a rest: the sensors go on sending
            finally:
                await shared.close()
        return out

    (first_path, _), (second_path, second) = asyncio.run(go())
    # No reconnection for the second recording: no link state changes reached it.
    assert not [s for s in second.statuses if s.state is not LinkState.STREAMING]
    for path in (first_path, second_path):
        recording = read_recording(path)
        assert not recording.left_open and recording.problems == ()
        assert 3.5 < recording.duration_s < 5.0
        assert recording.frame_time_s[0] < 0.5
    # The second file continues the same stream: its counters carry on past the first file's.
    one = read_recording(first_path).samples[Placement.LUMBAR].sequence
    two = read_recording(second_path).samples[Placement.LUMBAR].sequence
    assert len(one) > 300 and len(two) > 300
    assert int(two[0]) > int(one[-1])
    assert np.all(np.diff(two) >= 1)
