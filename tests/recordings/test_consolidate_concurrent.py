"""Audit 7: two consolidations of one file at once (the engine's `Recording.close` and a clinician's
`stabmon consolidate` on the library, or two commands) share one temporary name,
`<file>.consolidating`: the second one's `h5py.File(fresh, "w")` truncates the first one's copy
before failing on HDF5's lock, then unlinks it; the first one's check then reads a truncated file
and dies with h5py's KeyError — not a RecordingError, so `stabmon consolidate` prints a traceback
and `engine.recording._consolidate_closed` lets it out of `Recording.close` (the session fails
after a good recording). Copy into tests/recordings/ to adopt (uses its module fixture)."""

import contextlib
import shutil
import subprocess
import sys
from pathlib import Path

import h5py

from recordings import consolidate as module
from recordings.errors import RecordingError
from tests.recordings.test_consolidate import _contents, recorded  # noqa: F401 (fixture)

ROOT = Path(module.__file__).resolve().parents[1]


def test_a_second_consolidation_meanwhile_costs_no_traceback_and_no_data(recorded, tmp_path, monkeypatch):  # noqa: F811
    path = tmp_path / recorded.path.name
    shutil.copyfile(recorded.path, path)
    expected = _contents(path)
    real_check = module._check_copy
    others: list[subprocess.CompletedProcess[str]] = []

    def check_while_another_starts(where, source, copy):
        if not others:  # the top-level call: a second, real consolidation of the same file now
            others.append(
                subprocess.run(
                    [sys.executable, "-m", "stabmon", "consolidate", str(where)],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
            )
        return real_check(where, source, copy)

    monkeypatch.setattr(module, "_check_copy", check_while_another_starts)
    with contextlib.suppress(RecordingError):  # refused with a clear error is acceptable
        module.consolidate(path)
    assert "Traceback" not in others[0].stderr, others[0].stderr
    got = _contents(path)  # the file is whole, whichever copy (if any) took its place
    assert set(got) == set(expected)
    for name, (attrs, _, layout, raw) in expected.items():  # chunks may have grown; nothing else
        assert (got[name][0], got[name][2], got[name][3]) == (attrs, layout, raw), name
    assert not list(tmp_path.glob("*.consolidating*"))
    with h5py.File(path, "r"):
        pass
