"""Odd arguments to every command: refused at the command line with a message that says what is
wrong, before they reach settings, file names or C code (vqf aborted the process on a negative
rate). Commands that could crash run as subprocesses, so a signal would show."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import h5py
import pytest

from engine.imports import import_xdf
from recordings.errors import InvalidSubjectIdError, NotARecordingError
from recordings.library import SessionLibrary
from recordings.reader import read_recording
from recordings.schema import check_subject_id, session_file_name
from recordings.xdf_import import XdfImportError
from sensors.processing.clock_sync import ClockSyncSettings
from sensors.processing.errors import SettingsError
from sensors.processing.orientation import OrientationEstimator, OrientationSettings
from sensors.processing.session import SessionSettings
from sensors.processing.synchronizer import SynchronizerSettings
from stabmon.cli import main
from tests.recordings.corrupt_helpers import copy_of, record_simulated
from tests.redate import shifted_copy


def stabmon(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stabmon", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return record_simulated(tmp_path_factory.mktemp("rec") / "s.h5")


@pytest.mark.parametrize("rate", ["-100", "0", "1e9", "nan", "inf", "fast"])
def test_record_refuses_a_rate_that_is_not_a_plausible_positive_number(rate, tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["record", "--simulate", "--fast", "--rate", rate, "--seconds", "3", "--out", str(tmp_path)])
    assert caught.value.code == 2
    assert "--rate" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--seconds", "-5"),
        ("--seconds", "nan"),
        ("--dual-task", "nan"),
        ("--dual-task", "0"),
        ("--scan-seconds", "inf"),
    ],
)
def test_record_refuses_non_finite_or_negative_times_and_factors(option, value, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["record", "--simulate", "--fast", option, value, "--out", str(tmp_path)])
    assert option in capsys.readouterr().err


def test_record_refuses_an_unknown_drill_and_a_path_as_drill(tmp_path, capsys):
    for drill in ("../../../../elsewhere/x", "hopping", "Quiet-Stance"):
        with pytest.raises(SystemExit):
            main(["record", "--simulate", "--fast", "--drill", drill, "--out", str(tmp_path)])
        assert "unknown drill" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_record_refuses_a_subject_id_with_a_trailing_newline(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["record", "--simulate", "--fast", "--subject", "P01\n", "--out", str(tmp_path)])
    assert "pseudonymous code" in capsys.readouterr().err
    with pytest.raises(InvalidSubjectIdError):
        check_subject_id("P01\n")


@pytest.mark.parametrize("subject", ["maria", "JohnSmith", "Maria Rossi", "Jane-Doe", "O-Neil-"])
def test_subject_ids_that_look_like_names_are_refused_by_record_and_subject(subject, tmp_path, capsys):
    """The README promises names are refused: an id needs a digit (a code such as P-014)."""
    for command in (
        ["record", "--simulate", "--fast", "--subject", subject, "--out", str(tmp_path)],
        ["subject", subject, "--pain", "3", "--data-dir", str(tmp_path)],
    ):
        with pytest.raises(SystemExit) as refused:
            main(command)
        assert refused.value.code == 2
        err = capsys.readouterr().err
        assert f"subject id {subject!r} must be a pseudonymous code such as P-014" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("subject", ["P-014", "P014", "C01", "7", "sub3-a"])
def test_pseudonymous_codes_are_accepted(subject):
    assert check_subject_id(subject) == subject


def test_a_recording_stored_under_a_name_like_id_stays_readable(recording, tmp_path):
    """Files written before ids needed a digit are still read and listed."""
    path = copy_of(recording, tmp_path / "sub-maria", "sub-maria_quiet-stance_20260101T000000000Z.h5")
    with h5py.File(path, "r+") as f:
        f.attrs["subject_id"] = "maria"
    assert read_recording(path).subject_id == "maria"
    entries = SessionLibrary(tmp_path).sessions("maria")
    assert [(entry.subject_id, entry.problem) for entry in entries] == [("maria", "")]


def test_record_refuses_a_placement_given_twice_at_once(tmp_path):
    done = stabmon(
        "record",
        "--simulate",
        "--fast",
        "--placements",
        "lumbar,pelvis,lumbar",
        "--seconds",
        "3",
        "--out",
        str(tmp_path),
    )  # it hung before
    assert done.returncode == 2
    assert "--placements names lumbar more than once" in done.stderr
    assert "Traceback" not in done.stderr


def test_file_names_never_take_a_path_from_the_drill(tmp_path):
    created = datetime(2026, 1, 2, tzinfo=UTC)
    for drill in ("../x", "a/b", "..", "x\n", ""):
        with pytest.raises(ValueError, match="not a drill name"):
            session_file_name("P01", drill, created)
        with pytest.raises(ValueError):
            SessionLibrary(tmp_path).path_for("P01", drill, created)


def test_import_refuses_a_path_as_drill_and_a_bad_rate_before_reading(tmp_path, capsys):
    data = tmp_path / "data"
    for args in (
        ["--drill", "../../../../elsewhere/x"],
        ["--drill", "gait", "--rate", "-1"],
        ["--drill", "gait", "--rate", "0"],
    ):
        with pytest.raises(SystemExit):
            main(["import", str(tmp_path / "lab.xdf"), "--subject", "P01", "--data-dir", str(data), *args])
        err = capsys.readouterr().err
        assert "unknown drill" in err or "--rate" in err
    with pytest.raises(XdfImportError, match="drill refused"):
        import_xdf(tmp_path / "lab.xdf", "P01", "../../../../elsewhere/x", data_dir=data)
    with pytest.raises(SettingsError, match="rate_hz"):
        import_xdf(tmp_path / "lab.xdf", "P01", "gait", rate_hz=-1.0, data_dir=data)
    assert not data.exists() and not (tmp_path.parent / "elsewhere").exists()


@pytest.mark.parametrize("rate", [-100.0, 0.0, float("nan"), float("inf"), 1e9])
def test_processing_settings_refuse_rates_vqf_cannot_take(rate):
    for make in (
        lambda: SessionSettings(rate_hz=rate),
        lambda: OrientationSettings(rate_hz=rate),
        lambda: SynchronizerSettings(rate_hz=rate),
    ):
        with pytest.raises(SettingsError, match="rate_hz"):
            make()


def test_other_processing_settings_are_checked_too():
    with pytest.raises(SettingsError, match="duration_s"):
        SessionSettings(duration_s=-1.0)
    with pytest.raises(SettingsError, match="tau_acc_s"):
        OrientationEstimator(OrientationSettings(tau_acc_s=-3.0))
    with pytest.raises(SettingsError, match="window_bins"):
        ClockSyncSettings(window_bins=0)
    with pytest.raises(SettingsError, match="rate_hz must be a number"):
        SessionSettings(rate_hz="100")  # type: ignore[arg-type]


def test_a_negative_rate_in_a_files_settings_is_a_clear_error_not_an_abort(recording, tmp_path):
    path = copy_of(recording, tmp_path)
    with h5py.File(path, "r+") as f:
        settings = json.loads(f["processing"].attrs["settings_json"])
        f["processing"].attrs["settings_json"] = json.dumps({**settings, "rate_hz": -100.0})
    with pytest.raises(NotARecordingError, match=r"settings_json is not usable.*rate_hz"):
        read_recording(path)
    done = stabmon("analyze", str(path))
    assert done.returncode == 2, done.stderr  # was -6 (SIGABRT from vqf)
    assert str(path) in done.stderr and "rate_hz" in done.stderr
    assert "Traceback" not in done.stderr


def test_mdc_values_must_be_positive_and_unknown_names_are_named(recording, tmp_path, capsys):
    retest = shifted_copy(recording, tmp_path / "later.h5", timedelta(days=1))
    for values in ({"angle_rms_ap": -0.1}, {"angle_rms_ap": 0}, {"angle_rms_ap": "nan"}):
        mdc = tmp_path / "mdc.json"
        mdc.write_text(json.dumps(values).replace('"nan"', "NaN"))
        assert main(["compare", str(recording), str(retest), "--mdc", str(mdc)]) == 2
        assert "MDC" in capsys.readouterr().err
    # A name no measure has (a typo) is an error before anything is analysed, in compare and report.
    mdc.write_text(json.dumps({"angle_rms_ap": 0.2, "angle_rms_pa": 0.3}))
    for command in (
        ["compare", str(recording), str(retest)],
        ["report", str(recording), "-o", str(tmp_path / "r.html")],
    ):
        assert main([*command, "--mdc", str(mdc)]) == 2
        assert capsys.readouterr().err.strip().splitlines() == [
            f"stabmon {command[0]}: {mdc}: no measure is named 'angle_rms_pa' (MDC names are the measure "
            "keys, the `key` column of an exported _measures.csv, e.g. 'angle_ellipse_area_95')"
        ]
    # A measure of another drill (one file for the clinic's drills) is only noted.
    mdc.write_text(json.dumps({"angle_rms_ap": 0.2, "trunk_flexion": 3.0}))
    assert main(["compare", str(recording), str(retest), "--mdc", str(mdc)]) == 0
    err = capsys.readouterr().err
    assert "trunk_flexion" in err and "does not have" in err


def test_mdc_is_taken_inline_as_json_or_from_a_file(recording, tmp_path, capsys):
    """--mdc '{"acc_rms_ap": 0.01}' was read as a file name: "cannot read MDC values ([Errno 2] ...)"."""
    inline = '{"acc_rms_ap": 0.01}'
    mdc = tmp_path / "mdc.json"
    mdc.write_text(inline)
    earlier = shifted_copy(recording, tmp_path / "earlier.h5", -timedelta(days=1))  # not one recording twice
    tables = []
    for value in (inline, str(mdc)):
        assert main(["compare", str(earlier), str(recording), "--mdc", value]) == 0
        tables.append(capsys.readouterr().out)
    row = next(line for line in tables[0].splitlines() if line.startswith("Sway front–back (acceleration)"))
    assert "0.010 m/s²" in row and row.endswith("(clinic's MDC)")
    assert tables[0] == tables[1]
    typo = '{"acc_rms_pa": 0.01}'
    assert main(["compare", str(earlier), str(recording), "--mdc", typo]) == 2
    assert capsys.readouterr().err.startswith(
        f"stabmon compare: --mdc {typo}: no measure is named 'acc_rms_pa'"
    )


def test_export_onto_an_existing_file_is_a_clear_error(recording, tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("keep me")
    done = stabmon("export", str(recording), "--format", "csv", "-o", str(target))
    assert done.returncode == 2 and "is an existing file" in done.stderr
    assert "Traceback" not in done.stderr
    assert target.read_text() == "keep me"


def test_report_into_a_missing_folder_is_made_and_a_file_as_folder_is_a_clear_error(
    recording, tmp_path, capsys
):
    done = stabmon("report", str(recording), "-o", str(tmp_path / "new" / "deeper" / "r.html"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "new" / "deeper" / "r.html").read_text().startswith("<!doctype html>")
    (tmp_path / "plain").write_text("a file")
    # The same entry point in-process (the command above already ran as the user runs it): an
    # exception escaping main() would fail the test, as a traceback on stderr would.
    assert main(["report", str(recording), "-o", str(tmp_path / "plain" / "r.html")]) == 2
    assert "plain" in capsys.readouterr().err


def _dashboard(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`stabmon dashboard` offscreen, with its own settings and library folders."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STABMON_CONFIG_DIR": str(tmp_path / "cfg")}
    command = [sys.executable, "-m", "stabmon", "dashboard", "--simulate", "--subject", "P-1"]
    command += ["--data-dir", str(tmp_path / "lib"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def _stabmon_lines(stderr: str) -> list[str]:
    """stderr without Qt's own plugin messages."""
    return [line for line in stderr.splitlines() if "propagateSizeHints" not in line]


def test_an_unknown_run_protocol_is_one_line_and_no_false_engine_crash(tmp_path):
    """The engine had started; at exit multiprocessing terminated it (-15) and the window's
    client reported "stopped unexpectedly" after the right error."""
    done = _dashboard(tmp_path, "--run", "no-such-protocol")
    assert done.returncode == 2
    assert _stabmon_lines(done.stderr) == [
        "stabmon dashboard: no protocol 'no-such-protocol'; see the drill list in the dashboard"
    ]


def test_a_missing_protocols_folder_is_one_line_naming_it(tmp_path):
    """It was ignored: the bundled protocol ran and the exit status was 0."""
    missing = tmp_path / "missing"
    done = _dashboard(tmp_path, "--protocols", str(missing), "--run", "00-quick-stance")
    assert done.returncode == 2
    assert _stabmon_lines(done.stderr) == [f"stabmon dashboard: no such protocol folder: {missing}"]
    assert not (tmp_path / "lib").exists()  # nothing recorded


@pytest.mark.parametrize("where", ["file", "proc"])
def test_record_checks_its_output_folder_before_connecting(where, tmp_path, capsys):
    """It connected and recorded the whole session before "[Errno 17] File exists"."""
    existing = tmp_path / "bad.h5"
    existing.write_bytes(b"keep")
    out, message = {
        "file": (existing, f"stabmon record: --out {existing}: a file, not a folder"),
        "proc": (Path("/proc/nope"), "stabmon record: --out /proc/nope: cannot create the folder ("),
    }[where]
    code = main(["record", "--simulate", "--fast", "--seconds", "3", "--subject", "P-1", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.strip().startswith(message) and len(captured.err.strip().splitlines()) == 1
    assert captured.out == ""  # nothing connected ("Connected 2 virtual ..." comes first)
    assert existing.read_bytes() == b"keep"


@pytest.mark.parametrize(
    "command", [["sessions"], ["subject", "P-014"], ["visit", "P-014"], ["compare", "RETEST"]]
)
def test_a_library_folder_that_does_not_exist_is_said(command, recording, tmp_path, capsys):
    """`sessions` said "No sessions in …", `subject` "not given", both exit 0."""
    missing = tmp_path / "nonexist"
    command = [str(recording) if word == "RETEST" else word for word in command]
    assert main([*command, "--data-dir", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"stabmon {command[0]}: --data-dir {missing}: no such folder"
    assert not missing.exists()
