"""A disk that runs full during a recording: the writer holds the data in memory, writes it when
there is room again, and the file ends up holding everything, as if nothing had happened."""

import threading
import time

import numpy as np

from recordings import RecordingWriter, SessionMetadata, read_recording
from recordings.writer import MIN_FREE_BYTES
from sensors import Event, EventKind, Placement
from sensors.processing.calibration import SegmentCalibration
from sensors.processing.session import SessionSettings
from tests.recordings.test_writer_reader import SENSORS, _blocks


class Disk:
    """Free space as the writer sees it: plenty, or nothing while `full` is set."""

    def __init__(self) -> None:
        self.full = threading.Event()
        self.asked_while_full = 0

    def free(self, folder) -> int:
        if self.full.is_set():
            self.asked_while_full += 1
            return MIN_FREE_BYTES - 1
        return 10 * MIN_FREE_BYTES


def test_a_briefly_full_disk_loses_nothing(tmp_path):
    rng = np.random.default_rng(5)
    disk = Disk()
    path = tmp_path / "sub-P1_quiet-stance_x.h5"
    writer = RecordingWriter(
        path, SessionMetadata("P1", "quiet-stance", SessionSettings()), SENSORS, 0.02, free_space=disk.free
    )
    blocks = {p: _blocks(rng, p, n_blocks=30, n=50) for p in SENSORS}
    writer.set_host_origin(123)
    for k in range(30):
        if k == 8:
            disk.full.set()
            time.sleep(0.1)  # several flush intervals pass with no room
            assert writer.disk_space_low
            before = read_recording(path)  # what is on disk so far stays readable
            writer.set_calibration(SegmentCalibration({p: np.array([1.0, 0, 0, 0]) for p in SENSORS}, 2.0))
            writer.add_event(Event(1.0, EventKind.ANNOTATION, "written while the disk was full"))
        if k == 20:
            during = read_recording(path)  # nothing was written while the disk was full
            disk.full.clear()
        for p in SENSORS:
            writer.append_samples(blocks[p][k], blocks[p][k].device_time_s - 100.0)
        time.sleep(0.01)
    writer.close()
    assert disk.asked_while_full > 2 and writer.held_back_episodes == 1 and not writer.disk_space_low
    recording = read_recording(path)
    for p in SENSORS:
        sent = np.concatenate([b.acc_m_s2 for b in blocks[p]])
        np.testing.assert_array_equal(recording.samples[p].acc_m_s2, sent)
        assert int(recording.lost_before[p].sum()) == 7  # the one gap the blocks have, nothing more
    lumbar = Placement.LUMBAR
    assert len(during.samples[lumbar].acc_m_s2) == len(before.samples[lumbar].acc_m_s2) <= 8 * 50
    assert [e.label for e in recording.events] == ["written while the disk was full"]
    assert recording.calibration_time_s == 2.0
    assert int(recording.arrival.host_origin_ns) == 123
