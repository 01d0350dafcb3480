"""One damaged chunk of raw data, as a flipped bit on disk leaves it (a byte flipped inside a chunk
found with h5py's `get_chunk_info`): every command names the dataset and the session time of
the damage and works on the rest; `consolidate` refuses the file; `recover` writes a new file
with the chunk's samples as a flagged gap and keeps the original. The originals' values are read
with h5py (which checks every chunk's Fletcher-32), not with stabmon's reader."""

from __future__ import annotations

import hashlib
import shutil
from datetime import timedelta
from pathlib import Path

import h5py
import numpy as np
import pytest

from recordings import schema
from recordings.analysis import analyze_file
from recordings.chunk_recovery import KEPT_SUFFIX
from recordings.reader import read_recording
from sensors.placements import Placement
from tests.recordings.command_harness import run_command
from tests.recordings.corrupt_helpers import flip_in_chunk, record_simulated
from tests.redate import shifted_copy

RAW = tuple(schema.RAW_DATASETS)
#: The damaged chunk's first row (chunks of 50 rows: 0.5 s at 100 Hz).
ROW = 600


def _columns(path: Path, placement: str = "lumbar") -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        return {name: f[f"acquisition/{placement}/{name}"][:] for name in RAW}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("damaged_chunks")
    original = record_simulated(folder / "original.h5")
    damaged = flip_in_chunk(original, folder / "library" / "sub-C01" / "damaged.h5", "acc_m_s2", ROW)
    times = _columns(original)["session_time_s"]
    span = f"rows {ROW}–{ROW + 49} ({times[ROW]:.2f}–{times[ROW + 49]:.2f} s of the session)"
    return original, damaged, f"/acquisition/lumbar/acc_m_s2 {span}"


def test_the_reader_leaves_the_damaged_chunk_out_as_a_gap(files):
    original, damaged, where = files
    with h5py.File(damaged, "r") as f, pytest.raises(OSError):
        f["acquisition/lumbar/acc_m_s2"][:]  # HDF5 refuses the whole dataset
    rec = read_recording(damaged)
    assert [(d.dataset, d.start, d.stop) for d in rec.damaged] == [
        ("/acquisition/lumbar/acc_m_s2", ROW, ROW + 50)
    ]
    assert any(where in p and "left out as a gap" in p for p in rec.problems), rec.problems
    before = _columns(original)
    lumbar = rec.samples[Placement.LUMBAR]
    gone = np.arange(ROW, ROW + 50)
    np.testing.assert_array_equal(lumbar.acc_m_s2, np.delete(before["acc_m_s2"], gone, axis=0))
    np.testing.assert_array_equal(lumbar.gyr_rad_s, np.delete(before["gyr_rad_s"], gone, axis=0))
    np.testing.assert_array_equal(lumbar.sequence, np.delete(before["sequence"], gone))
    assert (
        rec.lost_before[Placement.LUMBAR][ROW]
        == before["sequence"][ROW + 50] - before["sequence"][ROW - 1] - 1
    )
    pelvis = _columns(original, "pelvis")
    np.testing.assert_array_equal(rec.samples[Placement.PELVIS].acc_m_s2, pelvis["acc_m_s2"])
    assert rec.arrival.rows[rec.arrival.placement_index == 0].sum() == len(before["sequence"]) - 50


def test_every_command_names_the_damage_and_reads_the_rest(files, tmp_path):
    original, damaged, where = files
    digest = _digest(damaged)
    earlier = shifted_copy(original, tmp_path / "earlier.h5", -timedelta(days=1))  # not itself
    commands = {
        "analyze": ["analyze", str(damaged)],
        "export csv": ["export", str(damaged), "--format", "csv", "-o", str(tmp_path / "csv")],
        "export bids": ["export", str(damaged), "--format", "bids", "-o", str(tmp_path / "bids")],
        "report": ["report", str(damaged), "-o", str(tmp_path / "report.html")],
        "compare": ["compare", str(earlier), str(damaged)],
    }
    for name, argv in commands.items():
        result = run_command(argv, [str(damaged)])
        assert result["outcome"] == "partial", (name, result)
        assert where in result["detail"] and "left out as a gap" in result["detail"], (name, result)
    assert (tmp_path / "csv" / "damaged_raw_lumbar.csv").is_file()
    for argv, says in (
        (["consolidate", str(damaged)], "cannot consolidate"),
        (["repack", str(damaged), "-o", str(tmp_path / "repacked.h5")], "cannot repack"),
    ):
        refused = run_command(argv, [str(damaged)])
        assert refused["outcome"] == "error" and where in refused["detail"], refused
        assert says in refused["detail"] and "recover" in refused["detail"]
    assert not (tmp_path / "repacked.h5").exists()
    assert _digest(damaged) == digest  # nobody changed the file


def test_recover_writes_a_new_file_with_the_gap_flagged_and_keeps_the_original(files, tmp_path):
    original, damaged, where = files
    path = tmp_path / "sub-C01" / damaged.name
    path.parent.mkdir()
    shutil.copyfile(damaged, path)
    result = run_command(["recover", str(path)], [str(path)])
    assert result["outcome"] == "ok", result
    kept = path.with_name(path.name + KEPT_SUFFIX)
    assert _digest(kept) == _digest(damaged)  # the original, untouched
    before, after = _columns(original), _columns(path)  # h5py checks every chunk of the new file
    gone = np.arange(ROW, ROW + 50)
    for name in RAW:
        expected = np.delete(before[name], gone, axis=0)
        if name == "lost_before":
            expected[ROW] = before["sequence"][ROW + 50] - before["sequence"][ROW - 1] - 1
        np.testing.assert_array_equal(after[name], expected, err_msg=name)
    assert after["lost_before"][ROW] >= 50
    for name in RAW:
        np.testing.assert_array_equal(_columns(path, "pelvis")[name], _columns(original, "pelvis")[name])
    with h5py.File(path, "r") as f:
        sources = [s.decode() for s in f["events/source"][:]]
        labels = [s.decode() for s in f["events/label"][:]]
        note = labels[sources.index("recovery")]
        assert where.split(" rows ")[1].split(" (")[1].rstrip(")") in note and "gap" in note
        assert f["events/time_s"][sources.index("recovery")] == pytest.approx(before["session_time_s"][ROW])
        rows, index = f["acquisition/arrival/rows"][:], f["acquisition/arrival/placement_index"][:]
        assert rows[index == 0].sum() == len(before["sequence"]) - 50 and (rows > 0).all()
    recovered = read_recording(path)
    assert not recovered.damaged and any(
        "left out as a gap by stabmon recover" in p for p in recovered.problems
    )
    # The analysis of the new file is the one made by reading around the damaged chunk.
    assert analyze_file(path)[1].measures == analyze_file(damaged)[1].measures
    again = run_command(["recover", str(path)], [str(path)])
    assert again["outcome"] == "ok" and not kept.with_name(kept.name + KEPT_SUFFIX).exists()


def test_a_damaged_checksum_word_alone_loses_nothing(files, tmp_path):
    original, _, _ = files
    copy = flip_in_chunk(original, tmp_path / "checksum.h5", "gyr_rad_s", ROW, at="checksum")
    with h5py.File(copy, "r") as f, pytest.raises(OSError):
        f["acquisition/lumbar/gyr_rad_s"][:]
    rec = read_recording(copy)
    assert not rec.damaged and not rec.problems
    np.testing.assert_array_equal(rec.samples[Placement.LUMBAR].gyr_rad_s, _columns(original)["gyr_rad_s"])


def _read_every_dataset(path: Path) -> dict[str, np.ndarray]:
    """Every dataset of the file read whole by h5py (each chunk's Fletcher-32 checked)."""
    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, item: out.update({name: item[()]}) if isinstance(item, h5py.Dataset) else None
        )
    return out


@pytest.mark.parametrize(
    ("name", "row", "named"),
    [
        ("/processing/time_s", ROW, True),
        ("/processing/valid", ROW, False),  # not read by the reader (a replay makes the flags again)
        ("/events/label", 0, True),
        ("/acquisition/arrival/rows", 0, True),
        ("/acquisition/pelvis/sequence", 0, True),
    ],
)
def test_damage_outside_the_raw_columns_is_named_and_recover_mends_it(files, tmp_path, name, row, named):
    original = files[0]
    path = flip_in_chunk(original, tmp_path / "sub-C01" / "damaged.h5", name, row)
    digest = _digest(path)
    problems = read_recording(path).problems
    assert any(f"{name} rows {row}–" in p for p in problems) == named, problems
    refused = run_command(["consolidate", str(path)], [str(path)])
    assert refused["outcome"] == "error" and f"{name} rows {row}–" in refused["detail"], refused
    result = run_command(["recover", str(path)], [str(path)])
    assert result["outcome"] == "ok", result
    assert _digest(path.with_name(path.name + KEPT_SUFFIX)) == digest
    before, after = _read_every_dataset(original), _read_every_dataset(path)  # reads whole again
    recovered = read_recording(path)
    assert not recovered.damaged
    assert any("by stabmon recover" in p and f"rows {row}–" in p and name in p for p in recovered.problems)
    key = name.lstrip("/")
    if name == "/processing/time_s":  # taken from the uniform grid
        np.testing.assert_allclose(after[key], before[key], rtol=0, atol=1e-9)
    elif name == "/processing/valid":  # marked not valid there, the rest as stored
        assert not after[key][row : row + 50].any()
        np.testing.assert_array_equal(
            np.delete(after[key], np.s_[row : row + 50], axis=0),
            np.delete(before[key], np.s_[row : row + 50], axis=0),
        )
    elif name == "/events/label":  # the events of the chunk left out, a note added
        assert len(after["events/kind"]) == 1 and after["events/source"][0] == b"recovery"
    elif name == "/acquisition/arrival/rows":  # rebuilt from the host stamps: every sample listed
        index = after["acquisition/arrival/placement_index"]
        for k, placement in enumerate(("lumbar", "pelvis")):
            assert after[key][index == k].sum() == len(before[f"acquisition/{placement}/sequence"])
    else:  # the pelvis's first 50 samples left out, counted as lost before the first kept one
        np.testing.assert_array_equal(
            after["acquisition/pelvis/acc_m_s2"], before["acquisition/pelvis/acc_m_s2"][50:]
        )
        assert after["acquisition/pelvis/lost_before"][0] == before["acquisition/pelvis/lost_before"][0] + 50
    assert analyze_file(path)[1].measures  # the rest is analysed
