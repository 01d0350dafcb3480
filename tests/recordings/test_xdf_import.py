"""XDF import: a file written with the XDF chunk layout imports, analyses and matches its source."""

import numpy as np
import pytest

pytest.importorskip("pyxdf")

from engine.imports import import_xdf
from recordings import read_recording
from recordings.analysis import analyze_recording
from recordings.xdf_import import XdfImportError
from recordings.xdf_writer import XdfStream, write_xdf
from sensors.events import EventKind
from sensors.placements import Placement
from sensors.processing.collector import SessionCollector
from sensors.simulator import DrillOptions, make_drill
from stabmon.cli import main
from tests.conftest import CollectingSink, run_drill

LSL_OFFSET_S = 5000.0  # the recording machine's LSL clock when the session started


def _session_to_xdf(path, units=("m/s^2", "rad/s")):
    """A simulated forward-bend session, its sensors' samples saved as XDF streams (timestamps:
    session time on an LSL clock), plus a marker stream with its perturbation/task markers."""
    sink, collector = CollectingSink(), SessionCollector()
    run_drill(make_drill("forward-bend", DrillOptions(duration_s=30.0, seed=6)), [sink, collector], seed=6)
    streams = []
    scale = {"m/s^2": 1.0, "g": 1 / 9.81, "rad/s": 1.0, "deg/s": 180 / np.pi}
    for placement, name in ((Placement.LUMBAR, "Xsens T12"), (Placement.PELVIS, "Xsens S1")):
        blocks = [(b, t) for b, t in sink.blocks if b.placement is placement]
        stamps = np.concatenate([t for _, t in blocks]) + LSL_OFFSET_S
        acc = np.concatenate([b.acc_m_s2 for b, _ in blocks]) * scale[units[0]]
        gyr = np.concatenate([b.gyr_rad_s for b, _ in blocks]) * scale[units[1]]
        channels = [(f"acc_{a}", units[0]) for a in "xyz"] + [(f"gyr_{a}", units[1]) for a in "xyz"]
        streams.append(XdfStream(name, "IMU", channels, 100.0, stamps, np.hstack([acc, gyr])))
    marks = [e for e in sink.events if e.source == "simulator"]
    streams.append(
        XdfStream(
            "task",
            "Markers",
            [("event", "")],
            0.0,
            np.array([e.time_s for e in marks]) + LSL_OFFSET_S,
            [f"{e.kind.value}:{e.label}" for e in marks],
        )
    )
    write_xdf(path, streams)
    return collector.analysis("forward-bend")


def test_an_xdf_file_imports_and_analyses_like_its_source(tmp_path):
    original = _session_to_xdf(tmp_path / "lab.xdf", units=("g", "deg/s"))
    path = import_xdf(
        tmp_path / "lab.xdf",
        "LAB-3",
        "forward-bend",
        {"Xsens T12": Placement.LUMBAR, "Xsens S1": Placement.PELVIS},
        out_dir=tmp_path,
    )
    rec = read_recording(path)
    assert rec.attributes["operator_notes"] == "imported from lab.xdf (XDF 1.0)"
    assert {e.kind for e in rec.events} >= {EventKind.TASK_START, EventKind.TASK_END}
    imported = analyze_recording(rec)
    for name in ("mean_trunk_flexion", "mean_lumbar_flexion", "mean_lumbar_contribution_end_range"):
        assert imported.value(name) == pytest.approx(original.value(name), abs=0.5), name
    assert imported.value("repetitions") == original.value("repetitions")


def test_import_command_guesses_placements_and_reports_bad_files(tmp_path, capsys):
    _session_to_xdf(tmp_path / "lab.xdf")
    assert (
        main(
            [
                "import",
                str(tmp_path / "lab.xdf"),
                "--subject",
                "LAB-4",
                "--drill",
                "forward-bend",
                "--out",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "has no placement; give --map" in capsys.readouterr().err
    argv = ["import", str(tmp_path / "lab.xdf"), "--map", "Xsens T12=lumbar", "--map", "Xsens S1=pelvis"]
    assert main([*argv, "--subject", "LAB-4", "--drill", "forward-bend", "--out", str(tmp_path)]) == 0
    assert "Imported" in capsys.readouterr().out and len(list(tmp_path.glob("sub-LAB-4_*.h5"))) == 1
    bad = tmp_path / "bad.xdf"
    bad.write_bytes(b"XDF:" + bytes(range(256)) * 4)
    with pytest.raises(XdfImportError, match=r"bad\.xdf: not a readable XDF file"):
        import_xdf(bad, "LAB-5", "gait", out_dir=tmp_path)
    with pytest.raises(XdfImportError, match=r"missing\.xdf: no such file"):
        import_xdf(tmp_path / "missing.xdf", "LAB-5", "gait", out_dir=tmp_path)
