"""Damaged recordings, settings and protocol files: each gives a specific error naming the file or
a clear partial result, and one bad file never stops a listing or a batch."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from engine.imports import import_xdf
from gui.model.protocols import ProtocolError, parse_protocol
from gui.model.settings import (
    DashboardSettings,
    NotASettingsFileError,
    load_settings_with_notice,
    save_settings,
)
from recordings import atomic, read_recording
from recordings.errors import NotARecordingError, RecordingError, RecordingPermissionError
from recordings.library import SessionLibrary
from recordings.recovery import recover
from recordings.xdf_import import TruncatedXdfError
from recordings.xdf_writer import XdfStream, write_xdf
from sensors.placements import Placement
from stabmon.cli import main
from tests.cli_args import stabmon_here
from tests.recordings.corrupt_helpers import copy_of, record_simulated

NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def stabmon(*args: str, user: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """`stabmon args` as the user runs it, in a fresh interpreter (as `user`, e.g. nobody)."""
    return subprocess.run(
        [*user, sys.executable, "-m", "stabmon", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLCONFIGDIR": tempfile.gettempdir(), "HOME": tempfile.gettempdir()},
    )


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return record_simulated(tmp_path_factory.mktemp("rec") / "sub-C01_quiet-stance_20260101T000000000Z.h5")


def _library_copy(recording: Path, root: Path, name: str) -> Path:
    return copy_of(recording, root / "sub-C01", f"sub-C01_quiet-stance_{name}.h5")


@pytest.mark.parametrize("attribute", ["subject_id", "drill", "placements", "created_utc"])
def test_a_missing_root_attribute_is_named(recording, tmp_path, attribute):
    path = copy_of(recording, tmp_path)
    with h5py.File(path, "r+") as f:
        del f.attrs[attribute]
    with pytest.raises(NotARecordingError, match=rf"copy\.h5: root attribute '{attribute}' is missing"):
        read_recording(path)


def test_duplicate_placements_are_named(recording, tmp_path):
    path = copy_of(recording, tmp_path)
    with h5py.File(path, "r+") as f:
        f.attrs["placements"] = ["lumbar", "pelvis", "lumbar"]
    with pytest.raises(NotARecordingError, match="lists lumbar more than once"):
        read_recording(path)


def test_an_empty_calibration_time_reads_as_not_calibrated(recording, tmp_path):
    path = copy_of(recording, tmp_path)
    with h5py.File(path, "r+") as f:
        f["calibration/time_s"].resize(0, axis=0) if f["calibration/time_s"].maxshape[0] is None else None
        if f["calibration/time_s"].shape[0]:
            del f["calibration/time_s"]
            f["calibration"].create_dataset("time_s", shape=(0,), dtype="f8")
    rec = read_recording(path)
    assert rec.calibration_mount_q == {} and any("calibration/time_s is empty" in p for p in rec.problems)


def test_hdf5_signature_then_garbage_is_damaged_and_listed_with_the_others(recording, tmp_path):
    root = tmp_path / "library"
    _library_copy(recording, root, "20260101T000000000Z")
    bad = root / "sub-C01" / "sub-C01_quiet-stance_20260102T000000000Z.h5"
    bad.write_bytes(
        b"\x89HDF\r\n\x1a\n" + bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8))
    )
    with pytest.raises(NotARecordingError, match="HDF5 file is damaged"):
        read_recording(bad)
    entries = SessionLibrary(root).sessions()
    assert len(entries) == 2
    assert [bool(e.problem) for e in entries].count(True) == 1


def test_rate_0_in_one_library_file_does_not_break_the_listing(recording, tmp_path):
    root = tmp_path / "library"
    _library_copy(recording, root, "20260101T000000000Z")
    zero = _library_copy(recording, root, "20260102T000000000Z")
    with h5py.File(zero, "r+") as f:
        f.attrs["rate_hz"] = 0.0
    done = stabmon("sessions", "--data-dir", str(root))
    assert done.returncode == 0, done.stderr
    assert "rate_hz is 0.0" in done.stdout and "20260101T000000000Z" in done.stdout


def _why_nobody_cannot_run_stabmon() -> str | None:
    """Why user `nobody` cannot import stabmon from this checkout (None when it can): a clone in
    a folder only its owner may enter, such as a 0700 temporary folder, keeps nobody out."""
    done = subprocess.run(
        [*NOBODY, sys.executable, "-c", "import stabmon.cli, recordings.reader"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": tempfile.gettempdir()},
    )
    if done.returncode == 0:
        return None
    last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    return (
        f"user nobody cannot import stabmon from {Path(__file__).parents[2]} ({last}): is the "
        "checkout in a folder only its owner may enter, such as a 0700 temporary folder?"
    )


def test_no_read_permission_is_named_by_all_six_commands(recording):
    """Run as user `nobody` (tests often run as root, who may read anything)."""
    if shutil.which("setpriv") is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to run a command as another user")
    why = _why_nobody_cannot_run_stabmon()
    if why is not None:
        if os.environ.get("CI"):  # a clean clone in CI is readable: the test must run there
            pytest.fail(why)
        pytest.skip(why)
    tmp_path = Path(tempfile.mkdtemp(prefix="stabmon-permissions-", dir="/tmp"))  # pytest's is root-only
    try:
        _check_permissions_as_nobody(recording, tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _check_permissions_as_nobody(recording: Path, tmp_path: Path) -> None:
    tmp_path.chmod(0o777)
    root = tmp_path / "library"
    path = _library_copy(recording, root, "20260101T000000000Z")
    for folder in (root, root / "sub-C01"):
        folder.chmod(0o777)
    path.chmod(0o600)  # root's file: nobody may not read it
    out = tmp_path / "out"
    commands = [
        ("analyze", str(path)),
        ("compare", str(path), str(path)),
        ("report", str(path), "-o", str(out / "r.html")),
        ("export", str(path), "--format", "csv", "-o", str(out)),
        ("recover", str(path)),
    ]
    for command in commands:
        done = stabmon(*command, user=NOBODY)
        assert done.returncode == 2, (command, done.stderr)
        assert f"{path}: no permission to read this file" in done.stderr, command
        assert "Traceback" not in done.stderr
    done = stabmon("sessions", "--data-dir", str(root), user=NOBODY)
    assert done.returncode == 0 and "no permission to read this file" in done.stdout, done.stderr
    with pytest.raises(RecordingPermissionError):  # the error class, checked in-process as nobody
        raise RecordingPermissionError(path, "no permission to read this file")


def test_a_sequence_dataset_half_as_long_is_said(recording, tmp_path, capsys):
    path = copy_of(recording, tmp_path)
    with h5py.File(path, "r+") as f:
        n = f["acquisition/lumbar/sequence"].shape[0]
        f["acquisition/lumbar/sequence"].resize(n // 2, axis=0)
    rec = read_recording(path)
    assert len(rec.samples[Placement.LUMBAR]) == n // 2
    assert any("lumbar: its datasets hold different numbers of rows" in p for p in rec.problems)
    done = stabmon_here(capsys, "analyze", str(path))
    assert "different numbers of rows" in done.stdout, done.stderr
    assert done.returncode == 0 or f"{path}: cannot analyse" in done.stderr  # measures need both sensors
    assert "Traceback" not in done.stderr


def _leave_open(path: Path) -> None:
    """As a crashed writer leaves a file: still flagged as open for SWMR writing."""
    code = (
        "import h5py, os, sys\n"
        "f = h5py.File(sys.argv[1], 'r+', libver='latest')\n"
        "f.swmr_mode = True\n"
        "os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)


def test_analyze_of_a_crashed_unrecovered_file_says_so(recording, tmp_path, capsys):
    path = copy_of(recording, tmp_path)
    _leave_open(path)
    done = stabmon_here(capsys, "analyze", str(path))
    assert done.returncode == 0, done.stderr
    assert "not closed properly" in done.stdout and "stabmon recover" in done.stdout


def test_recover_of_a_truncated_or_bit_flipped_file_does_not_say_closed_properly(recording, tmp_path):
    truncated = copy_of(recording, tmp_path, "truncated.h5")
    with open(truncated, "r+b") as f:
        f.truncate(os.path.getsize(truncated) * 2 // 3)
    with pytest.raises(NotARecordingError, match="truncated"):
        recover(truncated)
    flipped = copy_of(recording, tmp_path, "flipped.h5")
    data = bytearray(flipped.read_bytes())
    for offset in range(2000, len(data), 997):  # everywhere: metadata and chunks
        data[offset] ^= 0x10
    flipped.write_bytes(bytes(data))
    with pytest.raises(RecordingError) as caught:
        recover(flipped)
    assert "closed properly and reads whole" not in str(caught.value)
    done = stabmon("recover", str(truncated))
    assert done.returncode == 2 and "truncated" in done.stderr and "closed properly" not in done.stderr


def _xdf(path: Path) -> Path:
    t = 5000 + np.arange(3000) / 100
    rng = np.random.default_rng(2)
    acc = rng.normal(0, 0.1, (3000, 3)) + np.array([0.0, 0.0, 9.81])
    values = np.hstack([acc, rng.normal(0, 0.01, (3000, 3))])
    channels = [(f"acc_{a}", "m/s^2") for a in "xyz"] + [(f"gyr_{a}", "rad/s") for a in "xyz"]
    streams = [XdfStream(name, "IMU", channels, 100.0, t, values) for name in ("lumbar", "pelvis")]
    return write_xdf(path, streams, chunk_samples=200)


def test_a_truncated_xdf_is_refused_unless_asked_for(tmp_path, caplog):
    path = _xdf(tmp_path / "lab.xdf")
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) * 3 // 5)
    caplog.set_level(logging.WARNING)
    with pytest.raises(TruncatedXdfError, match=r"lab\.xdf: the file is cut short or damaged"):
        import_xdf(path, "P01", "quiet-stance", out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    # Said once, in stabmon's words: pyxdf's own ERROR and WARNING lines are not printed as well.
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("pyxdf")]
    target = import_xdf(path, "P01", "quiet-stance", out_dir=tmp_path / "out", allow_truncated=True)
    assert min(len(block) for block in read_recording(target).samples.values()) < 3000


def test_a_recording_given_as_settings_is_refused_in_one_line_and_stays_in_the_library(
    recording, tmp_path, capsys, monkeypatch
):
    """The walkthrough's `dashboard --settings <recording>.h5` renamed the recording to
    `.damaged-…`, so it left the library; now it is refused before any window or engine starts."""
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    library = tmp_path / "lib"
    kept = _library_copy(recording, library, "20260101T000000000Z")
    before = kept.read_bytes()
    code = main(["dashboard", "--simulate", "--subject", "P-030", "--settings", str(kept), "--run", "nope"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [
        f"stabmon dashboard: {kept} is not a dashboard settings file (an HDF5 file, a recording?); "
        "it is left untouched (settings are the JSON file the dashboard writes)"
    ]
    assert kept.read_bytes() == before and sorted(library.rglob("*")) == [kept.parent, kept]
    assert [entry.path for entry in SessionLibrary(library).sessions()] == [kept]


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"my notes, not settings {", "not a JSON object"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b"\x00\xff\xfe binary", "a binary file, not JSON text"),
        (b"\0" * 512 + b"\x89HDF\r\n\x1a\n" + b"\0" * 64, "an HDF5 file, a recording?"),  # user block
    ],
    ids=["text", "json-array", "binary", "hdf5-after-user-block"],
)
def test_a_file_that_is_not_settings_is_refused_and_never_renamed_or_written_over(tmp_path, content, what):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(
        NotASettingsFileError, match=re.escape(f"{path} is not a dashboard settings file ({what})")
    ):
        load_settings_with_notice(path)
    save_settings(DashboardSettings(), path)  # what closing the dashboard would do: nothing here
    assert list(tmp_path.iterdir()) == [path] and path.read_bytes() == content


def test_a_damaged_settings_file_of_its_own_is_kept_aside_never_overwritten(tmp_path):
    path = tmp_path / "dashboard.json"
    save_settings(DashboardSettings(subject_id="P-017"), path)
    damaged = path.read_text()[:40]  # cut short, as a full disk or a bad edit leaves it
    path.write_text(damaged)
    settings, notice = load_settings_with_notice(path)
    assert settings == DashboardSettings()
    kept = list(tmp_path.glob("dashboard.json.damaged-*"))
    assert len(kept) == 1 and kept[0].read_text() == damaged
    assert str(kept[0]) in notice
    save_settings(settings, path)  # what closing the dashboard does
    assert kept[0].read_text() == damaged
    # Settings of its own with a wrong value that appear after loading are not written over either.
    path.write_text('{"rate_hz": -1}')
    save_settings(settings, path)
    assert json.loads(path.read_text())["rate_hz"] == 100.0
    assert sorted(p.read_text() for p in tmp_path.glob("dashboard.json.damaged-*")) == [
        damaged,
        '{"rate_hz": -1}',
    ]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("task_s", float("nan"), "task_s must be positive"),
        ("task_s", float("inf"), "task_s must be positive"),
        ("task_s", 1e300, "task_s must be at most"),
        ("rest_s", float("nan"), "rest_s must not be negative"),
        ("repetitions", 2**63 - 1, "repetitions must be from 1 to"),
    ],
)
def test_protocols_refuse_nan_inf_huge_times_and_repetitions(key, value, message):
    data = {"name": "x", "drill": "quiet-stance", "instructions": "x", "task_s": 5.0, key: value}
    with pytest.raises(ProtocolError, match=message):
        parse_protocol(data, "x", "x.toml")


def test_reports_and_exports_are_written_by_rename_and_a_failed_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old report")
    with pytest.raises(RuntimeError), atomic.replacing(target) as partial:
        partial.write_text("half a rep")
        raise RuntimeError("disk full")
    assert target.read_text() == "old report" and list(tmp_path.iterdir()) == [target]
    before = target.stat().st_ino
    atomic.write_text(target, "new report")
    assert target.read_text() == "new report" and target.stat().st_ino != before


def test_report_and_csv_export_replace_their_files_by_rename(recording, tmp_path, capsys):
    report = tmp_path / "r.html"
    report.write_text("old")
    before = report.stat().st_ino
    assert stabmon_here(capsys, "report", str(recording), "-o", str(report)).returncode == 0
    assert report.stat().st_ino != before  # a new file renamed in, not the old one rewritten
    out = tmp_path / "csv"
    assert stabmon_here(capsys, "export", str(recording), "--format", "csv", "-o", str(out)).returncode == 0
    angles = next(out.glob("*_angles.csv"))
    inode = angles.stat().st_ino
    assert stabmon_here(capsys, "export", str(recording), "--format", "csv", "-o", str(out)).returncode == 0
    assert angles.stat().st_ino != inode
    assert not [p for p in out.iterdir() if p.name.endswith(".partial")]
