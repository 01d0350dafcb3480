"""Command lines the tests share, and `stabmon_here` to run one in this process."""

import subprocess

import pytest

#: `stabmon record` on virtual sensors, faster than real time. The virtual sensors advertise once a
#: second on bumble's in-process link, so a 1.5 s scan finds them (as the dashboard's simulated
#: setup does); the 5 s default is for real sensors, and every recording in a test waited it out.
RECORD_SIMULATED = ["record", "--simulate", "--fast", "--scan-seconds", "1.5"]

#: `stabmon record` on the simulated body straight, without the virtual BLE link, faster than real
#: time: for fixtures whose tests are about what is done with a recording (reports, visits,
#: review), not about the link. A recording over the link costs about three times the CPU.
RECORD_NO_RADIO = ["record", "--simulate", "--no-radio", "--fast"]


def stabmon_here(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """`stabmon args` through the same entry point in this process (what a test of a command's
    behaviour needs; the interpreter and imports cost about a second a run): an exception escaping
    main() fails the test, as a traceback on stderr would. Subprocess runs are kept where the
    process is the point (another user, a signal) and once per command (`sessions`, `recover` in
    tests/recordings/test_corrupt_files.py; `analyze`, `export`, `report` in
    tests/stabmon/test_bad_arguments.py; `record` in tests/stabmon/test_ended_early.py)."""
    from stabmon.cli import main

    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return subprocess.CompletedProcess(["stabmon", *args], code, out.out, out.err)
