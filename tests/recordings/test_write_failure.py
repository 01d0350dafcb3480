"""A write that really fails mid-session (the file-size limit stands in for a disk filled by
another program between the writer's free-space check and its write): the writer makes a rescue
file once there is room again, and the recording it leaves equals one written without the
failure."""

import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from recordings import read_recording
from recordings.library import SessionLibrary

ROOT = Path(__file__).resolve().parents[2]

# Runs in a child process: RLIMIT_FSIZE is process-wide. Writes 40 interleaved rounds of samples,
# frames and events; with "lift", raises the limit again as soon as a write has failed (the disk
# has room again); with "tiny", lowers it to 1 KiB at round 10 (every write fails, the first
# attempts at the rescue file too) and raises it again at round 25, once the writer tried its
# rescue file; with "flush", lowers it to 1 KiB at round 10 right after a flush of the writer wrote
# its rows, so that HDF5's flush of the file's metadata is what fails, and raises it again once
# the writer has moved to its rescue file.
WRITE = """
import dataclasses, json, logging, resource, signal, sys, threading, time
from pathlib import Path
import numpy as np
from recordings import RecordingWriter, SessionMetadata
from sensors import Event, EventKind
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.session import SessionSettings
from tests.recordings.test_writer_reader import PLACEMENTS, SENSORS, _blocks, _frame_and_angles

path, limit, mode = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
_, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
rng = np.random.default_rng(11)
blocks = {p: _blocks(rng, p, n_blocks=40, n=50) for p in PLACEMENTS}
metadata = SessionMetadata("P1", "quiet-stance", SessionSettings(), store_angles=True)  # every dataset
writer = RecordingWriter(path, metadata, SENSORS, 0.02)
writer.set_host_origin(123)

def lift_when_rescued():
    while writer.rescue_file is None:
        time.sleep(0.001)
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))

class Attempted(logging.Handler):  # the writer tried its rescue file and could not make it yet
    seen = threading.Event()

    def emit(self, record):
        if "cannot make the rescue file yet" in record.getMessage():
            self.seen.set()

logging.basicConfig(format="%(message)s")  # on stderr, as without any handler
logging.getLogger("recordings.writer").addHandler(Attempted())
armed, filled = threading.Event(), threading.Event()
if mode == "flush":
    from recordings import pending_rows

    write_rows = pending_rows.PendingRows.write_to

    def write_to_then_fill_the_disk(self, datasets, final=False):
        written = write_rows(self, datasets, final)
        if armed.is_set() and not final and not filled.is_set():
            resource.setrlimit(resource.RLIMIT_FSIZE, (1024, hard))
            filled.set()
        return written

    pending_rows.PendingRows.write_to = write_to_then_fill_the_disk
    threading.Thread(target=lift_when_rescued, daemon=True).start()
if mode == "lift":
    threading.Thread(target=lift_when_rescued, daemon=True).start()
for k in range(40):
    if mode == "tiny" and k == 10:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, hard))
    if mode == "tiny" and k == 25:  # (however busy the computer: once the writer tried)
        assert Attempted.seen.wait(60), "the writer never tried its rescue file"
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    if mode == "flush" and k == 10:  # the next flush that writes rows fills the disk after them
        armed.set()
        assert filled.wait(60), "the writer never flushed"
    if k == 25:
        writer.set_calibration(SegmentCalibration({p: np.array([0.0, 1.0, 0, 0]) for p in PLACEMENTS}, 12.5))
    for p in PLACEMENTS:
        writer.append_samples(blocks[p][k], blocks[p][k].device_time_s - 100.0)
    frame, angles = _frame_and_angles(rng, n=50)
    t = frame.time_s + 0.5 * k
    writer.append_frame(dataclasses.replace(frame, time_s=t), dataclasses.replace(angles, time_s=t))
    writer.add_event(Event(0.5 * k, EventKind.ANNOTATION, f"mark {k}"))
    time.sleep(0.01)
writer.close()
print(json.dumps({"rescue": writer.rescue_file and str(writer.rescue_file)}))
"""


def _write(path: Path, limit: int, lift: bool, mode: str = "") -> dict:
    done = subprocess.run(
        [sys.executable, "-c", WRITE, str(path), str(limit), mode or ("lift" if lift else "keep")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr  # and no crash when HDF5 shuts down at exit
    return json.loads(done.stdout.splitlines()[-1]) | {"stderr": done.stderr}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same session written with no limit, and its size in bytes."""
    path = tmp_path_factory.mktemp("reference") / "sub-P1_quiet-stance_ref.h5"
    assert _write(path, 2**40, lift=False)["rescue"] is None
    return read_recording(path), path.stat().st_size


def _assert_same_recording(recording, expected):
    for p in expected.placements:
        for name in ("device_time_s", "acc_m_s2", "gyr_rad_s", "sequence", "host_receive_ns"):
            np.testing.assert_array_equal(
                getattr(recording.samples[p], name), getattr(expected.samples[p], name)
            )
        np.testing.assert_array_equal(recording.session_time_s[p], expected.session_time_s[p])
        np.testing.assert_array_equal(recording.lost_before[p], expected.lost_before[p])
        np.testing.assert_array_equal(recording.calibration_mount_q[p], expected.calibration_mount_q[p])
    for field in fields(expected.processing):
        np.testing.assert_array_equal(
            getattr(recording.processing, field.name), getattr(expected.processing, field.name)
        )
    np.testing.assert_array_equal(recording.arrival.placement_index, expected.arrival.placement_index)
    np.testing.assert_array_equal(recording.arrival.rows, expected.arrival.rows)
    assert recording.arrival.host_origin_ns == expected.arrival.host_origin_ns == 123
    assert [(e.time_s, e.label) for e in recording.events] == [(0.5 * k, f"mark {k}") for k in range(40)]
    assert [(e.time_s, e.label) for e in expected.events] == [(0.5 * k, f"mark {k}") for k in range(40)]
    assert recording.calibration_time_s == expected.calibration_time_s == 12.5


def test_after_a_failed_write_the_recording_is_made_whole_from_a_rescue_file(tmp_path, reference):
    expected, size = reference
    path = tmp_path / "sub-P1" / "sub-P1_quiet-stance_x.h5"
    done = _write(path, size // 2, lift=True)
    assert done["rescue"] == str(path.with_name("sub-P1_quiet-stance_x.rescue.h5"))
    assert "Traceback" not in done["stderr"]  # HDF5 never got to retry its failed writes noisily
    _assert_same_recording(read_recording(path), expected)
    # The failed file is kept beside it; the library sees one sound session.
    assert path.with_name(path.name + ".damaged").exists()
    assert not Path(done["rescue"]).exists()
    assert [(e.path.name, e.problem) for e in SessionLibrary(tmp_path).sessions()] == [(path.name, "")]


def test_a_rescue_file_not_made_yet_is_tried_again_without_crashing_the_writer(tmp_path, reference):
    # Before: the first attempt at the rescue file, with the disk still refusing writes, left HDF5
    # objects whose close had failed, and the writer died of a segmentation fault (exit -11).
    expected, _ = reference
    path = tmp_path / "sub-P1" / "sub-P1_quiet-stance_y.h5"
    done = _write(path, 2**40, lift=False, mode="tiny")
    assert "cannot make the rescue file yet" in done["stderr"]  # it was tried while writes failed
    assert "Segmentation fault" not in done["stderr"]
    _assert_same_recording(read_recording(path), expected)
    assert path.with_name(path.name + ".damaged").exists()
    assert not Path(done["rescue"]).exists()


def test_a_failed_flush_of_the_files_metadata_goes_on_in_a_rescue_file_without_crashing(tmp_path, reference):
    # Before: HDF5's flush failed after the rows were written; closing that file then failed
    # ("slist already enabled"), the writer stopped, and closing it again crashed the process.
    expected, _ = reference
    path = tmp_path / "sub-P1" / "sub-P1_quiet-stance_z.h5"
    done = _write(path, 2**40, lift=False, mode="flush")
    assert "flush" in done["stderr"]  # the failure was HDF5's flush of the file
    assert "HDF5 writer for" not in done["stderr"]  # the writer did not stop
    _assert_same_recording(read_recording(path), expected)
    assert path.with_name(path.name + ".damaged").exists()
    assert not Path(done["rescue"]).exists()
