"""Where a command's output cannot be written: said of the user's path, before the work; a full
disk leaves no half output. Real read-only and tiny file systems (tmpfs mounts; skipped where
mounting is not permitted, as for a user who is not root)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from stabmon.cli import main
from tests.recordings.corrupt_helpers import record_simulated


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_simulated(
        tmp_path_factory.mktemp("rec") / "sub-C01_quiet-stance_20260101T000000000Z.h5", seconds=15.0
    )


def _mounted(folder: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at `folder` with `options` for the test's time (skip when not permitted)."""
    folder.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True
        )
    except FileNotFoundError:
        pytest.skip("no mount command here")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    yield from _mounted(tmp_path / "ro", "ro,size=64k")


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    """main(args): exit status, stderr lines, stdout."""
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.err.strip().splitlines(), out.out


def test_a_read_only_output_is_named_by_the_users_path_before_any_work(recording, read_only, capsys):
    """report said "ro/.x.html.17117.partial: Read-only file system" after analysing everything."""
    report = read_only / "x.html"
    code, err, out = _run(capsys, "report", str(recording), "-o", str(report))
    assert code == 2 and out == ""
    assert err == [f"stabmon report: {report}: the report cannot be written there (Read-only file system)"]
    code, err, out = _run(capsys, "export", str(recording), "--format", "bids", "-o", str(read_only / "bids"))
    assert code == 2 and out == ""
    assert err[-1].startswith(f"stabmon export: {read_only / 'bids'}: the export cannot be written there (")
    code, err, _ = _run(capsys, "repack", str(recording), "-o", str(read_only / "r.h5"))
    repacked = read_only / "r.h5"
    assert code == 2 and err == [
        f"stabmon repack: {repacked}: the repacked file cannot be written there (Read-only file system)"
    ]
    # The XDF file (not there) is not even opened.
    xdf, out = str(read_only.parent / "none.xdf"), str(read_only / "imp")
    code, err, _ = _run(capsys, "import", xdf, "--subject", "P-1", "--drill", "quiet-stance", "--out", out)
    assert code == 2 and err == [
        f"stabmon import: {out}: the imported recording cannot be written there (Read-only file system)"
    ]
    code, err, _ = _run(capsys, "cohort", str(recording.parent), "-o", str(read_only / "c.csv"))
    assert code == 2 and err == [
        f"stabmon cohort: {read_only / 'c.csv'}: the table cannot be written there (Read-only file system)"
    ]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    yield from _mounted(tmp_path / "full", "size=1200k")


def _fill(filler: Path, leave_kb: int) -> None:
    """Write `filler` so that about `leave_kb` kB stay free on its file system."""
    room = os.statvfs(filler.parent)
    free = room.f_bavail * room.f_frsize - (filler.stat().st_size if filler.exists() else 0)
    filler.write_bytes(bytes(max(free - leave_kb * 1024, 0)))


def _files(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_full_disk_is_one_line_naming_the_file_and_leaves_no_half_dataset(recording, small_disk, capsys):
    """It said "No space left on device" with no path and left a BIDS dataset without its motion
    file. A Motion-BIDS export of the recording takes ~500 kB and its report ~160 kB; a filler
    file leaves less than either where each must fail."""
    filler = small_disk / "filler"
    _fill(filler, leave_kb=150)
    new = small_disk / "new"
    code, err, _ = _run(capsys, "export", str(recording), "--format", "bids", "-o", str(new))
    motion = new / "sub-C01" / "motion" / "sub-C01_task-quietstance_tracksys-imu_run-1_motion.tsv"
    assert code == 2 and err[-1].startswith(
        f"stabmon export: {motion}: no space left on the device (needs more than "
    )
    assert err[-1].endswith(f"{recording.name} not exported, none of its files left in {new}")
    assert _files(small_disk) == {filler: filler.read_bytes()}  # no dataset, no temporary files
    filler.unlink()
    # An existing dataset, the same recording exported again (its run rewritten): left as it was.
    dataset = small_disk / "bids"
    assert _run(capsys, "export", str(recording), "--format", "bids", "-o", str(dataset))[0] == 0
    before = _files(dataset)
    assert motion.name in {p.name for p in before}
    _fill(filler, leave_kb=150)
    code, err, _ = _run(capsys, "export", str(recording), "--format", "bids", "-o", str(dataset))
    assert code == 2 and "no space left on the device" in err[-1]
    assert _files(dataset) == before
    # A single-file output: the report (~160 kB) with 60 kB free.
    filler.unlink()
    _fill(filler, leave_kb=60)
    report = small_disk / "y.html"
    code, err, _ = _run(capsys, "report", str(recording), "-o", str(report))
    assert code == 2 and err[-1].startswith(
        f"stabmon report: {report}: no space left on the device (needs more than "
    )
    assert not report.exists() and set(_files(small_disk)) == {filler, *before}
