"""Measures of a session whose lumbar sensor's battery dies (the virtual sensor's
`FaultPlan(dies_at_s=…)` through `Impairments`, over bumble's link, as `stabmon record` runs it):
the stance measures use the lumbar sensor only, so they are measured over the part of the task it
covered when that part holds one stance window after the settling second (11 s), and said to be
(no 10-s window from 2 s of data); otherwise "not measured: the lumbar sensor had no data after
6.0 s". (Before: "cannot analyse (sway needs at least two valid samples)" for the first, and a
second 10-s window computed from 2 s of data for the second.)"""

import math
import re

import numpy as np
import pytest

from recordings.analysis import analyze_file, replay
from recordings.analysis_coverage import measured_part
from recordings.coverage import Coverage, silence_lines
from recordings.reader import read_recording
from sensors.events import EventKind
from sensors.placements import Placement
from sensors.processing.analysis import analyze
from stabmon.analyses import print_problems
from stabmon.cli import main
from tests.dying_sensor import record_with_a_dying_sensor

#: (session length, when the lumbar sensor dies), s; the task starts at 3 s.
TOO_SHORT, LONG_ENOUGH = (20, 6.0), (26, 16.0)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """(the file whose lumbar data cover too little of the task, the file whose cover enough)."""
    out = tmp_path_factory.mktemp("lumbar-dies")
    files = []
    for (seconds, dies_at_s), subject in ((TOO_SHORT, "P-081"), (LONG_ENOUGH, "P-082")):
        *_, path = record_with_a_dying_sensor(out, Placement.LUMBAR, dies_at_s, seconds, subject)
        files.append(path)
    return tuple(files)


def test_too_little_lumbar_data_is_not_measured_and_says_why(recorded, capsys):
    path, _ = recorded
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    found = re.search(
        r"cannot analyse \(not measured: the lumbar sensor had no data after (\d+\.\d) s, "
        r"which left (\d+\.\d) s of the task \(3\.0–20\.0 s\)",
        err,
    )
    assert found, err
    assert float(found.group(1)) == pytest.approx(TOO_SHORT[1], abs=0.3)
    assert float(found.group(2)) == pytest.approx(TOO_SHORT[1] - 3.0, abs=0.3)
    assert "the quiet-stance measures need at least 11 s" in err, err


def test_enough_lumbar_data_is_measured_over_the_part_it_covers_and_says_so(recorded, capsys):
    _, path = recorded
    assert main(["analyze", str(path), "--repetitions"]) == 0
    out = capsys.readouterr().out
    until = float(re.search(r"measured over 3\.0–(\d+\.\d) s only", out).group(1))
    assert until == pytest.approx(LONG_ENOUGH[1], abs=0.3)  # the battery dies between two blocks
    assert f"the lumbar sensor had no data after {until:.1f} s" in out
    recording, result = analyze_file(path)
    assert not [m for m in result.measures if m.repetition is not None]  # one 10-s window fits: no spread
    # The values are those of the frames up to the lumbar's last data alone (the task's end is
    # then the last frame).
    session = replay(read_recording(path), running_measures=False)
    data = session.collector.session_data()
    upto = int(
        np.searchsorted(data.frame.time_s, session.coverage.data_until(Placement.LUMBAR), side="right")
    )
    cut = type(data)(
        data.frame.rows(0, upto),
        data.angles.rows(0, upto),
        data.mount_q,
        tuple(e for e in data.events if e.kind is not EventKind.TASK_END),
    )
    alone = analyze(cut, recording.drill)
    for name in ("acc_rms_ap", "acc_rms_ml", "angle_rms_ap", "angle_path_length"):
        assert math.isfinite(result.value(name))
        assert result.value(name) == pytest.approx(alone.value(name), rel=1e-9), name


def test_analyze_says_the_silence_from_the_replay_without_reading_the_file_again(recorded, tmp_path, capsys):
    _, path = recorded
    recording, result = analyze_file(path)
    assert result.notes[0] == silence_lines(read_recording(path))[0]
    assert result.notes[0].startswith("lumbar sensor: no data since 1")
    path.rename(tmp_path / "moved.h5")  # the file is gone: only the replay's coverage can say it
    try:
        print_problems(recording, result=result)
    finally:
        (tmp_path / "moved.h5").rename(path)
    assert result.notes[0] in capsys.readouterr().out


def test_coverage_ends_and_the_part_all_sensors_cover():
    lumbar, pelvis = Placement.LUMBAR, Placement.PELVIS
    coverage = Coverage(0.0, 30.0, {lumbar: [(6.0, 30.0)], pelvis: [(0.0, 2.5), (10.0, 12.0)]})
    assert coverage.data_until(lumbar) == 6.0 and coverage.data_from(lumbar) == 0.0
    assert coverage.data_from(pelvis) == 2.5 and coverage.data_until(pelvis) == 30.0  # a gap is no end
    assert coverage.covered([lumbar, pelvis]) == (2.5, 6.0)
    assert coverage.covered([Placement.THORAX]) == (0.0, 30.0)  # a sensor it has no data of limits nothing
    assert coverage.limit_text([lumbar, pelvis]) == (
        "the lumbar sensor had no data after 6.0 s and the pelvis sensor had no data before 2.5 s"
    )
    assert coverage.limit_text([pelvis]) == "the pelvis sensor had no data before 2.5 s"
    assert Coverage(0.0, 30.0, {lumbar: []}).limit_text([lumbar]) == ""
    silent = Coverage(0.0, 30.0, {lumbar: [(0.0, 30.0)]})
    assert (
        silent.covered([lumbar]) == (30.0, 0.0)
        and silent.limit_text([lumbar]) == "the lumbar sensor sent no data"
    )


def test_a_drill_measured_per_repetition_sees_the_part_it_lacks_as_gaps_for_every_sensor(recorded):
    """A bend, push or rise the lumbar's silence cuts is left out by the analysis' own gap rules:
    outside the covered part no sensor's data (nor angle) remain, the frame grid unchanged."""
    _, path = recorded
    session = replay(read_recording(path), running_measures=False)
    data = session.collector.session_data()
    until = session.coverage.data_until(Placement.LUMBAR)
    part = measured_part(data, "forward-bend", session.coverage)
    after = data.frame.time_s > until
    assert after.sum() > 500 and np.array_equal(part.data.frame.time_s, data.frame.time_s)
    assert data.frame.valid[after, data.frame.index(Placement.PELVIS)].all()  # the pelvis went on ...
    assert not part.data.frame.valid[after].any()  # ... but is not used where the lumbar is missing
    assert (
        np.isnan(part.data.frame.acc_m_s2[after]).all()
        and np.isnan(part.data.angles.inclination_rad[after]).all()
    )
    np.testing.assert_array_equal(part.data.frame.acc_m_s2[~after], data.frame.acc_m_s2[~after])
    end = next(e for e in part.data.events if e.kind is EventKind.TASK_END)
    assert end.time_s == until and part.limit == f"the lumbar sensor had no data after {until:.1f} s"


def test_the_report_banner_says_the_part_of_the_task_measured(recorded):
    """The clinical report's "Data are missing" banner carries the analysis' own notes: the
    sensor's silence and the part of the task the measures cover."""
    from recordings.analysis import measures_of
    from recordings.report import build_report

    _, path = recorded
    session = replay(read_recording(path))
    measures = measures_of(session.collector, session.recording)
    missing = build_report(session, measures).missing
    assert set(measures.notes) <= set(missing)
    assert any(line.startswith("measured over ") for line in missing), missing
