"""A visit's protocol results: mean ± SD over repetitions with each one, left/right pairs and the
McGill battery's ratios with their flags."""

import json
import math

import h5py
import numpy as np
import pytest

from recordings import read_recording
from recordings.analysis import analyze_recording
from recordings.library import SessionLibrary
from recordings.protocol_results import (
    FLEXION_EXTENSION_MISSING,
    RATIO_NOT_GIVEN,
    battery_ratios,
    format_visit,
    side_pairs,
    summarise,
    visit_sessions,
)
from recordings.references import bundled_references
from recordings.report_visit import visit_tables
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
    # The two left single-leg stances are the repetitions of one protocol run, as the engine's
    # protocol wrote them (`stabmon record` makes a run of one recording each).
    for repetition, entry in enumerate(library.sessions("P-21", "single-leg-left"), start=1):
        with h5py.File(entry.path, "a") as f:
            protocol = json.loads(f.attrs["protocol_json"])
            protocol |= {"protocol": "sll", "protocol_run": "r1", "repetition": repetition, "repetitions": 2}
            f.attrs["protocol_json"] = json.dumps(protocol)
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
    assert plank.ratio_text == plank.symmetry_text == RATIO_NOT_GIVEN  # both sides censored
    assert "single-leg" in pairs
    # 16-s holds: every task ended before the posture was lost, so every time is a lower bound
    # and a ratio of two of them says nothing (not a plain number, not judged).
    assert all(s.measure("held").lower_bound for s in summaries if s.drill.startswith(("side", "bier")))
    ratios = {r.name: r for r in battery_ratios(summaries, bundled_references())}
    assert set(ratios) == {
        "right : left side bridge",
        "side bridge : extensor (right)",
        "side bridge : extensor (left)",
    }
    for r in ratios.values():
        assert math.isnan(r.value) and r.flagged is None
        assert r.value_text == RATIO_NOT_GIVEN
        assert "McGill 1999" in r.text and "not judged" in r.text


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


def test_the_report_never_shows_a_ratio_of_censored_holds_as_a_number(visit):
    _, _, sessions = visit
    extensor = next(s for s in sessions if s.drill == "biering-sorensen")
    tables, flags = visit_tables(summarise(sessions), read_recording(extensor.path), bundled_references())
    battery = next(t for t in tables if t.title.startswith("McGill endurance battery"))
    rows = {row[0]: row for row in battery.rows}
    for name in (
        "right : left side bridge",
        "side bridge : extensor (right)",
        "side bridge : extensor (left)",
    ):
        assert rows[name][1:3] == (RATIO_NOT_GIVEN, "not judged")
    assert not battery.flagged and not [f for f in flags if f.startswith("McGill")]
    assert "lower bound" in battery.note
    left = next(s for s in sessions if s.drill == "side-plank-left")
    tables, _ = visit_tables(summarise(sessions), read_recording(left.path), bundled_references())
    sides = next(t for t in tables if t.title.startswith("Left and right"))
    held = next(row for row in sides.rows if row[0] == "Time held")
    assert held[1].startswith("≥ ") and held[2].startswith("≥ ")
    assert held[3:] == (RATIO_NOT_GIVEN, RATIO_NOT_GIVEN)


def test_the_seated_cognitive_only_baseline_lists_no_standing_measures(visit):
    """Walkthrough s11 #12: the visit listed 24 sway rows for the cognitive task alone, which the
    dual-task protocols have done seated; the other conditions keep theirs."""
    from dataclasses import replace

    from recordings.conditions import Condition
    from recordings.protocol_results import SEATED_NOTE

    _, _, sessions = visit
    seated = Condition("cognitive", "serial-subtraction", "eyes-open", "firm", "left")
    relabelled = [replace(s, condition=seated) if s.drill == "single-leg-left" else s for s in sessions]
    text = format_visit(summarise(relabelled), bundled_references())
    block = text.split("cognitive task only (serial subtraction): 2 repetition(s)")[1].split("\n")[1:3]
    assert block[0] == f"  {SEATED_NOTE}" and not block[1].startswith("  "), block
    assert "Time on one leg" in text  # the right leg's stance, standing, keeps its measures
