"""`stabmon record`'s default length: one repetition of the drill's bundled protocol (calibration +
task), for every drill, as the dashboard records it; not one draw of the simulated patient."""

import tomllib
from pathlib import Path

import numpy as np
import pytest

from recordings import read_recording
from sensors import Placement
from sensors.simulator import describe_drills
from stabmon.cli import main
from stabmon.record import drill_length_s
from tests.cli_args import RECORD_NO_RADIO

PROTOCOL_DIR = Path(__file__).resolve().parents[2] / "gui" / "protocols"


def _protocol_lengths() -> dict[str, float]:
    """Per drill, calibration + task (s) of its single-task bundled protocol with the longest task,
    read from the TOML files themselves (calibration 3 s unless a file says)."""
    lengths: dict[str, tuple[float, float]] = {}
    for path in sorted(PROTOCOL_DIR.glob("*.toml")):
        toml = tomllib.loads(path.read_text(encoding="utf-8"))
        if "dual" in toml.get("conditions", []):
            continue
        task, calibration = float(toml["task_s"]), float(toml.get("calibration_s", 3.0))
        if toml["drill"] not in lengths or task > lengths[toml["drill"]][0]:
            lengths[toml["drill"]] = (task, calibration + task)
    return {drill: total for drill, (_, total) in lengths.items()}


def test_every_drill_lasts_one_repetition_of_its_protocol_by_default():
    expected = _protocol_lengths()
    assert set(describe_drills()) <= set(expected)  # every drill has a protocol
    assert {d: drill_length_s(d) for d in describe_drills()} == {d: expected[d] for d in describe_drills()}
    # What a clinician expects: a 31-s stance (three 10-s windows after the settling second; not
    # the 20-s quick screen), 10-s holds, a 240-s cap.
    assert expected["quiet-stance"] == 34.0 and expected["plank"] == 17.0
    assert expected["biering-sorensen"] == 243.0 and expected["sit-to-stand"] == 43.0


@pytest.mark.parametrize("drill", ["bird-dog"])
def test_a_hold_recorded_without_seconds_lasts_its_protocols_length(tmp_path, drill):
    """A 10-s-hold protocol's recording is 3 + 14 s; it used to be the simulated patient's own
    script (66 s for bird-dog)."""
    assert main([*RECORD_NO_RADIO, "--drill", drill, "--seed", "5", "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob(f"*_{drill}_*.h5")
    samples = read_recording(path, derived=False).samples[Placement.LUMBAR]
    assert len(samples) + int(np.sum(np.diff(samples.sequence) - 1)) == pytest.approx(1700, abs=8)
