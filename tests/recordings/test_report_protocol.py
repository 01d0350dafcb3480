"""A visit's protocol results: mean ± SD over repetitions with each one, left/right pairs and the
McGill battery's ratios with their flags."""

import numpy as np
import pytest

from recordings import read_recording
from recordings.analysis import analyze_recording
from recordings.library import SessionLibrary
from recordings.protocol_results import (
    FLEXION_EXTENSION_MISSING,
    battery_ratios,
    format_visit,
    side_pairs,
    summarise,
    visit_sessions,
)
from recordings.references import bundled_references
from stabmon.cli import main
from tests.cli_args import RECORD_NO_RADIO, RECORD_SIMULATED


@pytest.fixture(scope="module")
def visit(tmp_path_factory):
    root = tmp_path_factory.mktemp("lib")
    plan = [("single-leg-left", 1), ("single-leg-left", 2), ("single-leg-right", 3)]
    plan += [("side-plank-left", 4), ("side-plank-right", 5), ("biering-sorensen", 6)]
    for drill, seed in plan:
        record = RECORD_SIMULATED if seed == 1 else RECORD_NO_RADIO  # one over the BLE link
        argv = [*record, "--drill", drill, "--seconds", "16", "--seed", str(seed)]
        assert main([*argv, "--subject", "P-21", "--data-dir", str(root)]) == 0
    library = SessionLibrary(root)
    day = library.sessions("P-21")[0].created_utc.astimezone().date()
    sessions = visit_sessions(library, "P-21", day, lambda p: analyze_recording(read_recording(p)))
    return root, day, sessions


def test_repetitions_give_mean_and_spread_with_each_one_listed(visit):
    _, _, sessions = visit
    summaries = {s.drill: s for s in summarise(sessions)}
    left = summaries["single-leg-left"]
    assert len(left.sessions) == 2
    sway = left.measure("acc_rms_ml")
    each = [s.result.value("acc_rms_ml") for s in left.sessions]
    assert sway.values == tuple(each)
    assert sway.mean == pytest.approx(np.mean(each)) and sway.sd == pytest.approx(np.std(each, ddof=1))
    assert "(mean ± SD of 2)" in sway.text


def test_left_right_pairs_and_the_mcgill_ratios(visit):
    _, _, sessions = visit
    summaries = summarise(sessions)
    pairs = dict(side_pairs(summaries))
    held = {s.drill: s.measure("held").mean for s in summaries if s.drill.startswith(("side", "bier"))}
    plank = next(p for p in pairs["side-plank"] if p.info.key == "held")
    assert plank.ratio == pytest.approx(held["side-plank-right"] / held["side-plank-left"])
    assert "single-leg" in pairs
    ratios = {r.name: r for r in battery_ratios(summaries, bundled_references())}
    rl = ratios["right : left side bridge"]
    assert rl.value == pytest.approx(plank.ratio)
    assert rl.flagged == (not 0.95 <= rl.value <= 1.05)
    right_ext = ratios["side bridge : extensor (right)"]
    assert right_ext.value == pytest.approx(held["side-plank-right"] / held["biering-sorensen"])
    assert right_ext.flagged == (right_ext.value >= 0.75)
    assert "McGill 1999" in right_ext.text


def test_the_visit_command_prints_it_all(visit, capsys):
    root, day, _ = visit
    capsys.readouterr()
    assert main(["visit", "P-21", "--date", day.isoformat(), "--data-dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert "single-leg-left — left side, eyes open, firm surface, single task: 2 repetition(s)" in out
    assert "Time on one leg" in out and "each:" in out
    assert "right : left" in out and "McGill endurance battery" in out
    assert FLEXION_EXTENSION_MISSING in out
    assert "nan" not in out.lower().replace("not measured", "")
    assert format_visit([], bundled_references()) == ""
