"""`stabmon cohort` when things go wrong (issue 20 part 4, the session-8 audit): the journal never
hands back rows made under other settings or by another version, a file being recorded or that
cannot be read is a row (tried again next run), one dead worker costs at most its file, the
condition is the recording's own, a table that cannot be written is refused before the analysis."""

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

from recordings import cohort_journal
from recordings.analysis import analyze_file
from recordings.cohort import FileResult, empty_row, file_rows, read_table
from recordings.cohort_journal import CohortJournal
from recordings.subjects import Subject, save_subject
from recordings.write_lock import WriteLock, being_recorded
from stabmon.cli import main
from stabmon.cohort import WORKER_DIED, _local
from tests.recordings.cohort_study import copy_into, make_recording
from tests.recordings.corrupt_helpers import flip_in_chunk


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Short recordings, each copied into a test's own study."""
    root = tmp_path_factory.mktemp("made")
    return {
        "stance": make_recording(root / "stance.h5", "W1"),
        "gait": make_recording(root / "gait.h5", "G7", drill="gait", seconds=25.0, seed=2),
        "stroop": make_recording(
            root / "stroop.h5",
            "D1",
            protocol={"protocol": "dual-task-stance-stroop", "condition": "dual", "cognitive_task": "stroop"},
        ),
        "subtraction": make_recording(
            root / "subtraction.h5",
            "D1",
            protocol={
                "protocol": "dual-task-stance",
                "condition": "dual",
                "cognitive_task": "serial-subtraction",
            },
        ),
    }


def _cohort(study: Path, out: Path, capsys, *more: str) -> str:
    code = main(["cohort", str(study), "-o", str(out), "--workers", "1", *more])
    err = capsys.readouterr().err
    assert code == 0, err
    return err


def _journalled(out: Path) -> list[dict]:
    journal = out.with_name(out.name + ".journal.jsonl")
    lines = journal.read_text().splitlines() if journal.exists() else []
    return [entry for entry in map(json.loads, lines) if "rows" in entry]


def _values(out: Path, key: str) -> list[float]:
    table = read_table(out)
    return [float(v) for m, v in zip(table["measure_key"], table["value"], strict=True) if m == key]


def test_a_resumed_cohort_sees_a_sensor_height_stored_since(made, tmp_path, capsys):
    library = tmp_path / "library"
    gait = copy_into(made["gait"], library, "G7")
    out = tmp_path / "m.csv"
    _cohort(library, out, capsys)
    assert _values(out, "stride_length") == []  # no sensor height yet: no stride length

    for height in (0.95, 0.9):
        save_subject(library, Subject("G7", sensor_height_m=height))
        measures = analyze_file(gait)[1].measures  # what the file gives now: each stride and the mean
        expected = [m.value for m in measures if m.name == "stride_length"]
        err = _cohort(library, out, capsys)
        assert "done before" not in err and _values(out, "stride_length") == expected != []
    assert "1 of 1 files done before" in _cohort(library, out, capsys)  # nothing changed since
    # The same file in another library, whose subject has no height stored: both kept, each its own.
    copy_into(made["gait"], tmp_path / "other", "G7")
    for _ in range(2):
        err = _cohort(tmp_path, out, capsys)
    assert "2 of 2 files done before" in err and len(_values(out, "stride_length")) == len(expected)


def test_rows_of_another_stabmon_version_are_analysed_again(made, tmp_path, capsys, monkeypatch, caplog):
    path = copy_into(made["stance"], tmp_path / "study", "W1")
    out = tmp_path / "m.csv"
    # A journal line as stabmon wrote them before entries had a version: not used, not a warning.
    old = {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "rows": [{"measure": "x", "value": 99.0}]}
    out.with_name(out.name + ".journal.jsonl").write_text(json.dumps(old) + "\n")
    assert "done before" not in _cohort(tmp_path / "study", out, capsys)
    assert 99.0 not in _values(out, "acc_rms_ap") != [] and not caplog.records
    assert "1 of 1 files done before" in _cohort(tmp_path / "study", out, capsys)
    monkeypatch.setattr(cohort_journal, "analysis_version", lambda: "stabmon 99.0; catalogue 9; table 9")
    assert "done before" not in _cohort(tmp_path / "study", out, capsys)


def test_a_file_being_recorded_is_an_error_row_and_not_journalled(made, tmp_path, capsys):
    live = copy_into(made["stance"], tmp_path / "study", "W1", "live.h5")
    lock = WriteLock(live)  # as the session's writer holds it while it records
    try:
        assert being_recorded(live)
        out = tmp_path / "m.csv"
        _cohort(tmp_path / "study", out, capsys)
        alone = file_rows(str(live), "")  # what a worker does when the recording starts meanwhile
    finally:
        lock.release()
    table = read_table(out)
    assert table["file"] == [str(live)] and "being recorded" in table["error"][0]
    assert not alone.lasting and "being recorded" in alone.rows[0]["error"]
    assert not _journalled(out)
    _cohort(tmp_path / "study", out, capsys)  # ended: analysed now
    assert len(_journalled(out)) == 1 and set(read_table(out)["error"]) == {""}


def test_only_errors_of_the_files_content_are_kept(tmp_path):
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not a recording at all")
    assert file_rows(str(broken), "x").lasting  # the file itself: the same next run
    missing = file_rows(str(tmp_path / "moved.h5"), "x")
    assert not missing.lasting and "RecordingNotFoundError" in missing.rows[0]["error"]


def test_the_condition_column_is_the_recordings_own(made, tmp_path, capsys):
    study = tmp_path / "study"
    stroop = copy_into(made["stroop"], study, "D1")
    subtraction = copy_into(made["subtraction"], study, "D1")
    odd = copy_into(made["stance"], study, "W1", "odd.h5")
    with h5py.File(odd, "r+") as f:
        f.attrs["condition"] = "garbage"
    assert main(["analyze", str(odd)]) == 2  # `stabmon analyze` refuses it
    _cohort(study, tmp_path / "m.csv", capsys)
    table = read_table(tmp_path / "m.csv")
    condition = dict(zip(table["file"], table["condition"], strict=False))
    assert condition[str(stroop)] == "task=dual, cognitive_task=stroop, vision=eyes-open, surface=firm"
    assert condition[str(subtraction)] == (
        "task=dual, cognitive_task=serial-subtraction, vision=eyes-open, surface=firm"
    )
    odd_rows = [e for f, e in zip(table["file"], table["error"], strict=True) if f == str(odd)]
    assert len(odd_rows) == 1 and "unreadable drill condition" in odd_rows[0]


def test_entries_that_cannot_be_read_are_rows_not_the_end_of_the_run(made, tmp_path, capsys):
    study = tmp_path / "study"
    good = copy_into(made["stance"], study, "W1")
    (study / "sub-W1" / "moved.h5").symlink_to(tmp_path / "elsewhere" / "moved.h5")  # target gone
    (study / "sub-W1" / "exports.h5").mkdir()  # a folder someone named *.h5: not a recording
    out = tmp_path / "m.csv"
    _cohort(study, out, capsys)
    errors = {}
    for f, e in zip(*(read_table(out)[c] for c in ("file", "error")), strict=True):
        errors.setdefault(f, set()).add(e)
    assert errors == {
        str(good): {""},
        str(study / "sub-W1" / "moved.h5"): {"cannot read: No such file or directory"},
    }
    assert len(_journalled(out)) == 1  # the link is looked at again next run


def test_parquet_without_pyarrow_is_refused_before_the_analysis(made, tmp_path, capsys, monkeypatch):
    copy_into(made["stance"], tmp_path / "study", "W1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # the base install: no cohort extra
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    out = tmp_path / "m.parquet"
    assert main(["cohort", str(tmp_path / "study"), "-o", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "pyarrow" in err and "files," not in err  # refused before any file was analysed
    assert list(tmp_path.iterdir()) == [tmp_path / "study"]  # no journal left behind


@pytest.mark.parametrize("out", ["m.csv/", "/proc/m.csv"])
def test_an_output_that_cannot_be_written_is_refused_before_the_analysis(made, tmp_path, capsys, out):
    copy_into(made["stance"], tmp_path / "study", "W1")
    table = Path(out) if out.startswith("/") else tmp_path / out
    if out.endswith("/"):
        table.mkdir()  # a folder where the table should go
    assert main(["cohort", str(tmp_path / "study"), "-o", str(table), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{table}: " in err and "files," not in err and "journal" not in err


def test_a_folder_without_recordings_says_so(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["cohort", str(tmp_path / "empty"), "-o", str(tmp_path / "m.csv")]) == 2
    assert "no recordings" in capsys.readouterr().err and not (tmp_path / "m.csv").exists()


def test_the_journal_knows_a_files_hash_until_the_file_changes(made, tmp_path, monkeypatch):
    monkeypatch.setattr(cohort_journal, "RACY_S", 0.0)  # the files here were written just now
    path = copy_into(made["stance"], tmp_path, "W1")
    journal = CohortJournal(tmp_path / "m.csv.journal.jsonl")
    first = journal.content_hash(path)
    assert first == hashlib.sha256(path.read_bytes()).hexdigest()
    again = CohortJournal(journal.path)  # a later run: from the journal, no reading
    assert again.content_hash(path) == first and again._hashes[str(path)]["sha256"] == first
    # One byte changed, size and modification time put back: the change time still shows it.
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert CohortJournal(journal.path).content_hash(path) == hashlib.sha256(data).hexdigest() != first


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads a process' children in /proc")
def test_one_dead_worker_does_not_fail_the_files_queued_behind_it(made, tmp_path):
    for k in range(12):
        copy_into(made["stance"], tmp_path / "study", "W1", f"f{k:02d}.h5")
    out = tmp_path / "m.csv"
    stabmon = Path(sys.executable).with_name("stabmon")
    run = subprocess.Popen(
        [str(stabmon), "cohort", str(tmp_path / "study"), "-o", str(out), "--workers", "2"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert run.stderr is not None
    for line in run.stderr:  # the first progress line: files are in flight and queued
        if "files," in line:
            break
    workers = _children(run.pid)
    assert workers, "no pool workers seen"
    os.kill(workers[0], signal.SIGKILL)  # as the OOM killer would
    run.stderr.read()
    assert run.wait(timeout=120) == 0
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert {r["error"] for r in rows} == {""} and len({r["file"] for r in rows}) == 12


def _kills_its_worker_on_the_culprit(path: str, sha256: str) -> FileResult:
    """A file whose analysis ends its process every time (as a crash in HDF5's C code would)."""
    if path.endswith("culprit.h5"):
        os.kill(os.getpid(), signal.SIGKILL)
    return FileResult([{**empty_row(path, sha256), "measure_key": "n", "value": 1.0}])


def test_a_file_that_kills_its_worker_every_time_is_named_and_the_others_are_done():
    tasks = [(f"/study/f{k}.h5", str(k)) for k in range(7)]
    tasks.insert(3, ("/study/culprit.h5", "c"))
    outcomes = {path: result for path, _, result in _local(tasks, 2, _kills_its_worker_on_the_culprit)}
    assert sorted(outcomes) == sorted(path for path, _ in tasks)
    culprit = outcomes.pop("/study/culprit.h5")
    assert culprit.rows[0]["error"] == WORKER_DIED and not culprit.lasting
    assert all(r.rows[0]["error"] == "" and r.rows[0]["value"] == 1.0 for r in outcomes.values())


def test_a_relative_folder_and_an_absolute_one_give_the_same_table(made, tmp_path, capsys, monkeypatch):
    copy_into(made["stance"], tmp_path / "study", "W1")
    monkeypatch.chdir(tmp_path)
    _cohort(Path("study"), tmp_path / "relative.csv", capsys)
    _cohort(Path(f"{tmp_path}/study/../study"), tmp_path / "absolute.csv", capsys)
    assert (tmp_path / "relative.csv").read_bytes() == (tmp_path / "absolute.csv").read_bytes()
    assert set(read_table(tmp_path / "relative.csv")["file"]) == {
        str(tmp_path / "study" / "sub-W1" / "stance.h5")
    }


def test_the_rows_of_a_file_with_unreadable_data_say_what_is_missing(made, tmp_path, capsys):
    """Walkthrough s11 #3: a file with a damaged chunk gave rows like a whole file's; each row now
    carries the data notes the CSV export writes (`notes`), a whole file's are empty."""
    study = tmp_path / "study"
    whole = copy_into(made["stance"], study, "W1")
    with h5py.File(made["stance"], "r") as f:
        row = int(f["acquisition/lumbar/gyr_rad_s"].id.get_chunk_info(1).chunk_offset[0])
    flipped = flip_in_chunk(made["stance"], study / "sub-W1" / "flipped.h5", "gyr_rad_s", row)
    out = tmp_path / "m.csv"
    _cohort(study, out, capsys)
    table = read_table(out)
    notes: dict[str, set[str]] = {}
    for file, error, note in zip(*(table[c] for c in ("file", "error", "notes")), strict=True):
        assert error == ""  # the rest of the flipped file is measured
        notes.setdefault(file, set()).add(note)
    assert notes[str(whole)] == {""}
    (note,) = notes[str(flipped)]
    first = note.split(" | ")[0]
    assert (
        first.startswith(f"lumbar: /acquisition/lumbar/gyr_rad_s rows {row}–") and "a damaged chunk" in first
    )


def test_a_recording_in_another_subjects_folder_is_flagged_as_sessions_does(made, tmp_path, capsys):
    """Walkthrough s11 #4: a W1 file copied into sub-W9/ was counted as W1's without a word,
    also when its content was journalled from its right place."""
    study = tmp_path / "study"
    right = copy_into(made["stance"], study, "W1")
    wrong = copy_into(made["stance"], study, "W9", "sub-W9_quiet-stance_copy.h5")
    out = tmp_path / "m.csv"
    for _ in range(2):  # the second run has the right copy's rows in its journal
        _cohort(study, out, capsys)
        table = read_table(out)
        errors = {f: e for f, e in zip(table["file"], table["error"], strict=True)}
        assert errors[str(right)] == "" and table["file"].count(str(wrong)) == 1
        assert errors[str(wrong)] == (
            "misfiled: holds subject W1's quiet-stance recording, not W9's: move it to sub-W1/; until then "
            "no baseline or trend uses it, nor this table"
        )
        assert len(_journalled(out)) == 1  # where it lies is looked at again next run
    assert main(["sessions", "--data-dir", str(study)]) == 0
    assert "holds subject W1's quiet-stance recording, not W9's" in capsys.readouterr().out
