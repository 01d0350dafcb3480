"""`stabmon cohort`: a folder of recordings into one tidy table, the same on local processes and
on a real Dask cluster, resumable, with bad files as rows."""

import math
import shutil

import pytest

from recordings import read_recording
from recordings.analysis import analyze_recording
from recordings.catalogue import catalogue
from recordings.cohort import COLUMNS, read_table
from stabmon.cli import main
from tests.recordings.cohort_study import make_recording

distributed = pytest.importorskip("distributed", reason="the cohort extra (Dask) is part of the test install")
pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    (root / "site-b").mkdir()
    make_recording(
        root / "site-a" / "sub-C01" / "stance.h5",
        "C01",
        "quiet-stance",
        25.0,
        1,
        {"protocol": "quiet-stance-eo", "condition": "dual"},
    )
    make_recording(root / "site-b" / "bend.h5", "C02", "forward-bend", 30.0, 2, {"dual_task_factor": 1.0})
    (root / "site-b" / "broken.h5").write_bytes(b"not a recording at all")
    return root


@pytest.fixture(scope="module")
def cluster():
    """One real Dask cluster of worker processes for the module's tests."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        yield c


def _cohort(args, capsys):
    code = main(["cohort", *map(str, args)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured


def test_cohort_table_is_the_same_on_local_processes_and_a_dask_cluster(study, cluster, tmp_path, capsys):
    local = _cohort([study, "-o", tmp_path / "local.csv", "--workers", "2"], capsys)
    assert "3/3 files" in local.err and "1 failed" in local.err  # the progress bar, on stderr
    _cohort([study, "-o", tmp_path / "dask.csv", "--cluster", cluster.scheduler_address], capsys)
    _cohort([study, "-o", tmp_path / "dask.parquet", "--cluster", cluster.scheduler_address], capsys)
    assert (tmp_path / "local.csv").read_bytes() == (tmp_path / "dask.csv").read_bytes()
    table = read_table(tmp_path / "dask.parquet")
    assert list(table) == list(COLUMNS)

    # Known answers: each good file's rows are its `stabmon analyze` measures, with its metadata,
    # named as the measures catalogue names them; the condition is the recording's own.
    for name, subject, drill, protocol, condition in (
        (
            "site-a/sub-C01/stance.h5",
            "C01",
            "quiet-stance",
            "quiet-stance-eo",
            "task=dual, vision=eyes-open, surface=firm",
        ),
        ("site-b/bend.h5", "C02", "forward-bend", "", "task=single"),
    ):
        path = study / name
        rows = [k for k, f in enumerate(table["file"]) if f == str(path)]
        expected = analyze_recording(read_recording(path)).measures
        assert len(rows) == len(expected) > 10
        for k, m in zip(rows, expected, strict=True):
            info = catalogue().info(drill, m.name)
            assert (table["subject"][k], table["drill"][k]) == (subject, drill)
            assert (table["protocol"][k], table["condition"][k], table["error"][k]) == (
                protocol,
                condition,
                "",
            )
            assert (table["measure_key"][k], table["repetition"][k]) == (m.name, m.repetition)
            assert (table["measure"][k], table["unit"][k]) == (info.name, info.unit)
            value, shown = table["value"][k], info.display_value(m.value)
            assert value == shown or (math.isnan(value) and math.isnan(shown))
            assert table["date"][k] == read_recording(path).attributes["created_utc"][:10]
    broken = [k for k, f in enumerate(table["file"]) if f.endswith("broken.h5")]
    assert len(broken) == 1 and "NotARecordingError" in table["error"][broken[0]]
    assert table["file"] == sorted(table["file"])  # files in path order
    units = {table["measure_key"][k]: table["unit"][k] for k in range(len(table["file"]))}
    assert units["mean_trunk_flexion"] == "°" and units["acc_rms_ap"] == "m/s²"  # not "deg", "m/s^2"


def test_a_relative_folder_is_found_by_the_cluster_workers(study, cluster, tmp_path, monkeypatch, capsys):
    """The workers do not share the user's working folder: the paths go to them absolute, and
    the table names each file the same whichever way the folder was spelled."""
    shutil.copytree(study / "site-b", tmp_path / "site-b")
    monkeypatch.chdir(tmp_path)
    _cohort(["site-b", "-o", "dask.csv", "--cluster", cluster.scheduler_address], capsys)
    table = read_table(tmp_path / "dask.csv")
    errors = dict(zip(table["file"], table["error"], strict=False))
    bend, broken = str(tmp_path / "site-b" / "bend.h5"), str(tmp_path / "site-b" / "broken.h5")
    found = [e for f, e in errors.items() if f.endswith("bend.h5")]
    assert found == [""], found  # the workers found it
    assert sorted(errors) == [bend, broken] and "NotARecordingError" in errors[broken]
    _cohort([tmp_path / "site-b", "-o", "local.csv", "--workers", "1", "--restart"], capsys)
    assert (tmp_path / "local.csv").read_bytes() == (tmp_path / "dask.csv").read_bytes()


def test_cohort_resumes_by_content_hash(study, tmp_path, capsys):
    out = tmp_path / "measures.csv"
    _cohort([study, "-o", out, "--workers", "1"], capsys)
    first = out.read_bytes()
    again = _cohort([study, "-o", out, "--workers", "1"], capsys)
    assert "3 of 3 files done before" in again.err and out.read_bytes() == first
    # A copy of a done file under another name is done too (same content); a new file is analysed.
    more = tmp_path / "more"
    shutil.copytree(study, more)
    shutil.copy(study / "site-b" / "bend.h5", more / "site-b" / "bend-copy.h5")
    (more / "site-b" / "empty.h5").write_bytes(b"")
    third = _cohort([more, "-o", out, "--workers", "1"], capsys)
    assert "4 of 5 files done before" in third.err and "1/1 files" in third.err
    table = read_table(out)
    copy_rows = [k for k, f in enumerate(table["file"]) if f.endswith("bend-copy.h5")]
    original = [k for k, f in enumerate(table["file"]) if f == str(more / "site-b" / "bend.h5")]
    assert [table["value"][k] for k in copy_rows] == [table["value"][k] for k in original]
    assert len([f for f in table["file"] if f.endswith("empty.h5")]) == 1


def test_cohort_rejects_an_unknown_table_format(study, tmp_path, capsys):
    assert main(["cohort", str(study), "-o", str(tmp_path / "measures.xlsx")]) == 2
    assert ".csv or .parquet" in capsys.readouterr().err
