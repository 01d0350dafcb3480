"""One placement's orientation worked out by a copy of the pipeline (`orientation_of`, what the
batched replay's frames process runs) and handed to `step`: the same angles bit for bit as the
pipeline running every filter itself, over chunks the calibration capture spans."""

import numpy as np
import pytest

from sensors.processing import SessionSettings
from sensors.processing.pipeline import ANGLE_OUTPUTS, PipelineSettings, SegmentAnglePipeline
from sensors.simulator import DrillOptions, SimulatedSource, make_drill
from tests.sensors.processing.runs import run_session


@pytest.fixture(scope="module")
def bend_frame():
    drill = make_drill("forward-bend", DrillOptions(seed=7, duration_s=12))
    sink, _ = run_session(SimulatedSource(drill, seed=7), SessionSettings())
    return sink.frame


@pytest.mark.parametrize("rows", [70, 450])  # 0.7 s: the 2-s capture spans chunks; 4.5 s: one
def test_quaternions_from_a_copy_give_the_same_angles(bend_frame, rows):
    placements = bend_frame.placements
    assert len(placements) == 2
    moved = placements[-1]
    settings = PipelineSettings(rate_hz=bend_frame.rate_hz)
    full = SegmentAnglePipeline(placements, settings)
    split = SegmentAnglePipeline(placements, settings)
    copy = SegmentAnglePipeline(placements, settings)
    for a in range(0, len(bend_frame), rows):
        chunk = bend_frame.rows(a, min(a + rows, len(bend_frame)))
        quaternions = copy.orientation_of(chunk, (moved,))
        assert quaternions.shape == (len(chunk), 1, 4)
        whole, part = full.step(chunk), split.step(chunk, {moved: quaternions[:, 0]})
        for name in ANGLE_OUTPUTS:
            np.testing.assert_array_equal(getattr(part, name), getattr(whole, name), err_msg=name)
        np.testing.assert_array_equal(quaternions[:, 0], whole.orientation[:, 1])
    assert np.isfinite(whole.lumbar_rad[-1]).all()  # calibrated and oriented by the end
    for other in (split, copy):
        assert other.calibration is not None and full.calibration is not None
        assert other.calibration.time_s == full.calibration.time_s
        for placement in placements:
            mount = other.calibration.mount_q[placement]
            np.testing.assert_array_equal(mount, full.calibration.mount_q[placement])
    assert split.take_events() == full.take_events()
    assert not split._estimators[moved]._started  # its filter never ran: the copy's was used
    assert split._estimators[placements[0]]._started
