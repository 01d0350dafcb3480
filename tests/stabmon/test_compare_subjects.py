"""`stabmon compare` of two different subjects: their values side by side, no change verdicts,
and one line that says why."""

import shutil

import h5py

from stabmon.cli import main
from tests.cli_args import RECORD_NO_RADIO


def test_two_subjects_are_shown_side_by_side_and_not_judged(tmp_path, capsys):
    argv = [*RECORD_NO_RADIO, "--drill", "quiet-stance", "--seconds", "14", "--seed", "4"]
    assert main([*argv, "--subject", "P-41", "--out", str(tmp_path)]) == 0
    (first,) = tmp_path.glob("*.h5")
    other = tmp_path / "other.h5"
    shutil.copy(first, other)
    with h5py.File(other, "a") as f:
        f.attrs["subject_id"] = "P-42"
    capsys.readouterr()
    assert main(["compare", str(first), str(other)]) == 2  # as a refusal of different conditions
    captured = capsys.readouterr()
    out = captured.out
    assert "P-41 (baseline file)" in out and "P-42 (re-test file)" in out
    sway = next(line for line in out.splitlines() if line.startswith("Sway front–back (acceleration)"))
    value = sway.split()[-2:]
    assert sway.split()[-4:] == [*value, *value]  # the same recording's value on both sides
    for judgement in ("change", "MDC95", "better", "worse", "no real change", "not judged"):
        assert judgement not in out
    (why,) = captured.err.strip().splitlines()[-1:]
    assert why == (
        "stabmon compare: P-41 and P-42 are different subjects: their values are shown side by "
        "side, not judged (a change is measured within one person)"
    )
    assert "note:" not in captured.err
