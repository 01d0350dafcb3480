"""Audit 7: `stabmon consolidate` on a file still being recorded says "the file was left open by a
crash: run `stabmon recover` on it first"; `stabmon recover` then renames the LIVE file to
`.crashed` and puts a partial copy at the recording's name. The writer goes on writing into the
renamed file, closes it, and the session reports "Saved <name>" — which holds only what was there
at the moment of the recover (reproduced with `stabmon record --simulate` real time: 14.5 s of a
40-s session at the name, the full 40 s in the unlisted `.crashed`). A live file must be refused
(by consolidate's message and by recover). Copy into tests/recordings/ to adopt."""

import os
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from recordings import SessionMetadata
from recordings import writer_process as wp
from recordings.writer_process import WriterProcess
from sensors import Placement, SampleBlock
from sensors.processing import SessionSettings
from tests.recordings.test_writer_process import SENSORS

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the writer process is POSIX only")
ROOT = Path(wp.__file__).resolve().parents[1]
PAIR = (Placement.LUMBAR, Placement.PELVIS)


def _stabmon(command: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stabmon", command, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _feed(writer, rng, start, count):
    for k in range(start, start + count):
        for p in PAIR:
            seq = np.arange(4 * k, 4 * k + 4)
            block = SampleBlock(
                p, seq / 100, rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), seq, np.full(4, 10**9 + k)
            )
            writer.append_samples(block, seq / 100)


def test_a_file_being_recorded_is_not_recovered_from_under_its_writer(tmp_path):
    path = tmp_path / "live.h5"
    metadata = SessionMetadata("WP-10", "quiet-stance", SessionSettings(rate_hz=100.0))
    writer = WriterProcess(path, metadata, SENSORS)
    rng = np.random.default_rng(10)
    _feed(writer, rng, 0, 250)  # 10 s
    time.sleep(1.5)  # flushed: the live file holds most of it
    advice = _stabmon("consolidate", path)
    recover = _stabmon("recover", path)
    _feed(writer, rng, 250, 250)  # 10 s more
    assert writer.close() == path
    with h5py.File(path, "r") as f:
        kept = f["acquisition/lumbar/sequence"].shape[0]
    assert kept == 2000, (kept, advice.stderr, recover.stdout, recover.stderr)
    assert "recording into this file now" in advice.stderr, advice.stderr
    assert recover.returncode != 0 and "recording into this file now" in recover.stderr, recover.stderr
    assert not path.with_name(path.name + ".writing").exists()  # the lock went with the writer
