"""A hold the task ended before the posture was lost is censored (walkthrough s8 #5): shown as
"≥ N s (task ended before the posture was lost)", never flagged against the Biering-Sørensen
cut-off, and `record`'s default length for that drill is its protocol's, not one patient's draw."""

import re
import tomllib

import pytest

from recordings import read_recording
from recordings.analysis import analyze_recording
from recordings.library import SessionLibrary
from recordings.measure_table import session_rows
from stabmon.cli import main
from stabmon.record import drill_length_s
from tests.cli_args import RECORD_NO_RADIO

CENSORED = "(task ended before the posture was lost)"


@pytest.fixture(scope="module")
def cut_short(tmp_path_factory):
    """A 40-s Biering-Sørensen recording: every simulated patient holds longer (MIN_HOLD_S)."""
    root = tmp_path_factory.mktemp("bs")
    argv = [*RECORD_NO_RADIO, "--drill", "biering-sorensen", "--seconds", "40", "--seed", "5"]
    assert main([*argv, "--subject", "P-071", "--data-dir", str(root)]) == 0
    (entry,) = SessionLibrary(root).sessions("P-071")
    return root, entry.path


def test_a_hold_cut_short_by_the_task_is_shown_as_a_lower_bound(cut_short):
    _, path = cut_short
    result = analyze_recording(read_recording(path))
    values = {m.name: m.value for m in result.measures if m.repetition is None}
    assert values["position_lost"] == 0.0
    rows = {r.measure.name: r for r in session_rows(result)}
    held = rows["held"]
    assert held.lower_bound and held.text == f"≥ {values['held']:.0f} s {CENSORED}"
    assert 30.0 < values["held"] < 40.0  # the hold starts a few seconds in, the task ends at 40 s
    assert not rows["drift"].lower_bound and rows["position_lost"].text == "no"


def test_the_report_does_not_flag_a_censored_hold_nor_apply_the_mens_cut_off(cut_short, tmp_path):
    root, path = cut_short
    out = tmp_path / "r.html"
    assert main(["report", str(path), "-o", str(out), "--data-dir", str(root)]) == 0
    text = re.sub(r"<[^>]+>", " ", out.read_text(encoding="utf-8"))
    assert CENSORED in text
    assert "predicts low-back pain" not in text
    assert "the 176 s / 198 s cut-off is for men and the sex is not given" in text
    # The subject is a man: the cut-off applies, but a lower bound below it is not judged.
    assert main(["subject", "P-071", "--sex", "male", "--data-dir", str(root)]) == 0
    assert main(["report", str(path), "-o", str(out), "--data-dir", str(root)]) == 0
    text = re.sub(r"<[^>]+>", " ", out.read_text(encoding="utf-8"))
    assert "not judged against the 176 s cut-off" in text and "predicts low-back pain" not in text


def test_record_lasts_as_long_as_the_bundled_biering_sorensen_protocol():
    from gui.model.protocols import bundled_protocol_dir

    toml = tomllib.loads((bundled_protocol_dir() / "15-biering-sorensen.toml").read_text(encoding="utf-8"))
    assert toml["hold_to_failure"] is True and toml["task_s"] == 240
    calibration = toml.get("calibration_s", 3.0)  # ProtocolPlan's default
    assert drill_length_s("biering-sorensen") == calibration + 240.0
    assert drill_length_s("sit-to-stand") == calibration + 40.0  # every drill: its protocol's
