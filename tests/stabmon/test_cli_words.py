"""What the command line says: a bad date by name, `recover` on a healthy file, a help text for
every argument and the defaults of the numeric ones."""

from __future__ import annotations

import argparse
import hashlib

import pytest

from stabmon.cli import build_parser, main
from tests.recordings.corrupt_helpers import record_simulated


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return record_simulated(tmp_path_factory.mktemp("rec") / "s.h5", seconds=8.0)


@pytest.mark.parametrize("command", ["visit", "subject"])
@pytest.mark.parametrize("text", ["2026-13-01", "2026-02-30", "14.03.2026", "20260314", "today"])
def test_a_date_that_is_not_one_is_named(command, text, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "P-014", "--date", text, "--data-dir", str(tmp_path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"--date: {text} is not a date (YYYY-MM-DD)" in err
    assert "fromisoformat" not in err


def test_a_real_date_is_taken(tmp_path, capsys):
    assert main(["subject", "P-014", "--pain", "3", "--date", "2026-03-14", "--data-dir", str(tmp_path)]) == 0
    assert main(["visit", "P-014", "--date", "2026-03-14", "--data-dir", str(tmp_path)]) == 0
    assert "No sessions of subject P-014 on 2026-03-14" in capsys.readouterr().out


def test_recover_on_a_healthy_file_says_there_is_nothing_to_do_and_leaves_it(recording, capsys):
    before = hashlib.sha256(recording.read_bytes()).hexdigest()
    assert main(["recover", str(recording)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{recording}: closed properly, not left open by a crash; nothing to recover"]
    assert hashlib.sha256(recording.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in recording.parent.iterdir()) == [recording.name]


def test_recover_on_a_file_that_is_not_a_recording_is_still_an_error(tmp_path, capsys):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    assert main(["recover", str(junk)]) == 2
    assert str(junk) in capsys.readouterr().err
    assert junk.read_bytes() == b"not hdf5 at all"


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser(None)  # every command's arguments, not only one's
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_argument_of_every_command_has_a_help_text():
    missing = {
        name: [a.dest for a in parser._actions if not a.help and a.dest != "help"]
        for name, parser in _subcommands().items()
    }
    assert {name: dests for name, dests in missing.items() if dests} == {}


@pytest.mark.parametrize(
    ("command", "option", "default"),
    [("record", "--rate", "100"), ("record", "--scan-seconds", "5"), ("scan", "--seconds", "5")],
)
def test_numeric_defaults_are_shown(command, option, default):
    text = " ".join(_subcommands()[command].format_help().split())
    assert f"{option} {option.strip('-').upper().replace('-', '_')} " in text
    after = text.split(f"{option} {option.strip('-').upper().replace('-', '_')} ", 1)[1]
    assert f"(default: {default})" in after.split(" --", 1)[0]
