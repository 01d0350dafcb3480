"""Recordings that an independent HDF5 reader opens: the HDF5 1.10 command-line tools (Debian's
`hdf5-tools`, installed by `.ci/run`), not h5py with the HDF5 that wrote the file.

Files written in the "latest" format of the HDF5 2.0 that h5py bundles are refused by HDF5
1.10-1.14 ("bad version number for layout message"); `stabmon repack` rewrites those."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

from recordings import read_recording, schema
from recordings.errors import RecordingError
from stabmon.cli import main
from tests.cli_args import RECORD_SIMULATED

H5DUMP, H5LS = shutil.which("h5dump"), shutil.which("h5ls")


@pytest.fixture(scope="module")
def tools() -> tuple[str, str]:
    """h5dump and h5ls of HDF5 1.10 or later; in CI their absence fails (never a silent skip)."""
    if H5DUMP is None or H5LS is None:
        message = "h5dump/h5ls missing: install Debian's hdf5-tools (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    version = subprocess.run([H5DUMP, "--version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"(\d+)\.(\d+)\.(\d+)", version)
    assert found and (int(found[1]), int(found[2])) >= (1, 10), version
    return H5DUMP, H5LS


def _record(folder: Path, subject: str) -> Path:
    argv = [*RECORD_SIMULATED, "--drill", "quiet-stance", "--seconds", "8", "--seed", "3"]
    assert main([*argv, "--subject", subject, "--out", str(folder)]) == 0
    return next(folder.glob("*.h5"))


def _datasets(path: Path) -> dict[str, h5py.Dataset]:
    names: list[str] = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) else None)
    return dict.fromkeys(names)


def _h5dump_array(h5dump: str, path: Path, dataset: str, out: Path, dtype: str, shape: tuple) -> np.ndarray:
    """A dataset's values as HDF5 1.10 reads them: h5dump's binary (little-endian) output."""
    command = [h5dump, "-d", dataset, "-b", "LE", "-o", str(out), str(path)]
    subprocess.run(command, check=True, capture_output=True)
    return np.fromfile(out, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)


def _readable_by(h5dump: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([h5dump, "-H", str(path)], capture_output=True, text=True)


def test_a_fresh_recording_reads_in_hdf5_1_10_tools(tools, tmp_path):
    h5dump, h5ls = tools
    path = _record(tmp_path / "lib", "INTEROP1")
    header = _readable_by(h5dump, path)
    assert header.returncode == 0, header.stderr
    listing = subprocess.run([h5ls, "-r", str(path)], capture_output=True, text=True, check=True).stdout
    listed = {line.split()[0].lstrip("/") for line in listing.splitlines() if "Dataset" in line}
    assert listed == set(_datasets(path))  # every dataset, found by the other library
    rec = read_recording(path)
    for placement, block in rec.samples.items():
        for name, expected in (
            ("acc_m_s2", block.acc_m_s2),
            ("gyr_rad_s", block.gyr_rad_s),
            ("sequence", block.sequence),
            ("host_receive_ns", block.host_receive_ns),
            ("device_time_s", block.device_time_s),
        ):
            dataset = f"/{schema.ACQUISITION}/{placement.value}/{name}"
            with h5py.File(path, "r") as f:
                dtype = f[dataset].dtype
            got = _h5dump_array(h5dump, path, dataset, tmp_path / "out.bin", dtype.str, expected.shape)
            np.testing.assert_array_equal(got.astype(expected.dtype), expected)  # bit for bit
    attrs = subprocess.run(
        [h5dump, "-a", "/schema_version", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert f'"{schema.SCHEMA_VERSION}"' in attrs


#: A recording stabmon wrote (`record --simulate`, 6 s) as schema 0.2.0 with libver "latest",
#: before the file format was pinned to 1.10: what users have on disk.
OLD_FILE = Path(__file__).parent / "data" / "schema-0.2.0-libver-latest.h5"


def test_repack_makes_an_old_format_file_readable_and_keeps_every_byte(tools, tmp_path):
    h5dump, _ = tools
    old = tmp_path / OLD_FILE.name
    shutil.copy(OLD_FILE, old)
    refused = _readable_by(h5dump, old)
    assert refused.returncode != 0  # what users had: HDF5 1.10 cannot open it
    before = read_recording(old)
    assert before.attributes["schema_version"] == "0.2.0" and before.stored_processing is not None

    assert main(["repack", str(old)]) == 0
    kept = old.with_name(old.name + ".before-repack")
    assert kept.exists() and _readable_by(h5dump, kept).returncode != 0  # the original, untouched
    repacked = _readable_by(h5dump, old)
    assert repacked.returncode == 0, repacked.stderr
    after = read_recording(old)
    for placement in before.placements:
        np.testing.assert_array_equal(after.samples[placement].acc_m_s2, before.samples[placement].acc_m_s2)
        np.testing.assert_array_equal(after.session_time_s[placement], before.session_time_s[placement])
    np.testing.assert_array_equal(after.arrival.rows, before.arrival.rows)
    assert list(map(repr, after.events)) == list(map(repr, before.events))  # repr: NaN values
    assert after.attributes == before.attributes
    expected = before.samples[before.placements[0]].acc_m_s2
    dataset = f"/{schema.ACQUISITION}/{before.placements[0].value}/acc_m_s2"
    acc = _h5dump_array(h5dump, old, dataset, tmp_path / "acc.bin", "f8", expected.shape)
    np.testing.assert_array_equal(acc, expected)


def test_repack_to_another_file_and_its_refusals(tmp_path):
    path = _record(tmp_path / "lib", "INTEROP3")
    out = tmp_path / "copy.h5"
    assert main(["repack", str(path), "-o", str(out)]) == 0
    assert not path.with_name(path.name + ".before-repack").exists()
    np.testing.assert_array_equal(read_recording(out).arrival.rows, read_recording(path).arrival.rows)
    with pytest.raises(RecordingError, match="exists already"):
        from recordings.repack import repack

        repack(path, out)
    not_hdf5 = tmp_path / "notes.h5"
    not_hdf5.write_text("not a recording")
    assert main(["repack", str(not_hdf5)]) == 2
    assert not_hdf5.read_text() == "not a recording"
    assert not list(tmp_path.glob("*.repacking"))
