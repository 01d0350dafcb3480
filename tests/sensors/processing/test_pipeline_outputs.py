"""A segment angle pipeline asked for some of its angle arrays: those equal a full pipeline's bit
for bit, the others are NaN (what an analysis that reads only some of them runs)."""

import numpy as np
import pytest

from sensors.processing import SessionSettings
from sensors.processing.pipeline import ANGLE_OUTPUTS, PipelineSettings, SegmentAnglePipeline
from sensors.simulator import DrillOptions, SimulatedSource, make_drill
from tests.sensors.processing.runs import run_session


@pytest.fixture(scope="module")
def bend_frame():
    drill = make_drill("forward-bend", DrillOptions(seed=5, duration_s=12))
    sink, _ = run_session(SimulatedSource(drill, seed=5), SessionSettings())
    return sink.frame


@pytest.mark.parametrize(
    ("asked", "computed"),
    [
        ({"inclination_rad"}, {"orientation", "inclination_rad"}),
        ({"axial_rad"}, {"orientation", "axial_rad"}),
        ({"angular_velocity_rad_s"}, {"orientation", "angular_velocity_rad_s"}),
        ({"lumbar_rad"}, {"orientation", "inclination_rad", "axial_rad", "lumbar_rad"}),
        (set(), {"orientation"}),
    ],
)
def test_asked_arrays_equal_the_full_pipeline_and_the_rest_are_nan(bend_frame, asked, computed):
    placements = bend_frame.placements
    full = SegmentAnglePipeline(placements, PipelineSettings(rate_hz=bend_frame.rate_hz))
    some = SegmentAnglePipeline(placements, PipelineSettings(rate_hz=bend_frame.rate_hz), outputs=asked)
    half = len(bend_frame) // 2
    for a, b in ((0, half), (half, len(bend_frame))):
        whole, part = full.step(bend_frame.rows(a, b)), some.step(bend_frame.rows(a, b))
        for name in ANGLE_OUTPUTS:
            if name in computed:
                np.testing.assert_array_equal(getattr(part, name), getattr(whole, name), err_msg=name)
            else:
                assert np.isnan(getattr(part, name)).all(), name
        assert np.isfinite(whole.lumbar_rad[-1]).all()  # the full one did compute them
    assert some.calibration is not None and some.take_events() == full.take_events()


def test_an_unknown_array_is_refused_by_name():
    with pytest.raises(ValueError, match="pitch_deg"):
        SegmentAnglePipeline((), PipelineSettings(), outputs={"pitch_deg"})
