"""The window's protocol and result values are the engine's plus what only the window uses:
every field the engine declares reaches it (and comes back) without a hand-kept copy."""

import pickle
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

from engine.messages import ProtocolPlan, RecordingFinished
from gui.model.clinic_setup import protocol_plan
from gui.model.protocols import DrillProtocol
from gui.model.results import RecordingResult
from recordings.dual_task import CognitiveScore


def test_a_drill_protocol_is_a_plan_and_the_engine_gets_all_of_it_as_a_plain_plan():
    protocol = DrillProtocol(
        "k", "Stance", "quiet-stance", "Stand still.", 20.0, repetitions=3, rest_s=4.0, get_ready_s=1.0,
        calibration_s=2.5, cognitive_task="stroop", conditions=("single", "dual", "single"),
        hold_to_failure=True, feedback="zone", path=Path("k.toml"),
    )  # fmt: skip
    plan = protocol_plan(protocol)
    assert type(plan) is ProtocolPlan and isinstance(protocol, ProtocolPlan)
    for f in fields(ProtocolPlan):
        assert getattr(plan, f.name) == getattr(protocol, f.name), f.name
    assert plan.condition(2) == protocol.condition(2) == "dual"
    # It unpickles where the window's modules are not loaded (the engine process).
    code = (
        "import pickle, sys; p = pickle.loads(sys.stdin.buffer.read()); "
        "print(p.repetitions, 'gui' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=pickle.dumps(plan), capture_output=True, check=True
    )
    assert done.stdout.decode().split() == ["3", "False"]


def test_a_result_is_the_engine_report_with_the_cognitive_score():
    finished = RecordingFinished("Stance", 2, "dual", Path("x.h5"), "quiet-stance", None, "too short")
    score = CognitiveScore(responses=10, accuracy=0.9, correct_per_min=18.0, mean_response_time_s=2.1)
    result = RecordingResult.of(finished, score)
    for f in fields(RecordingFinished):
        assert getattr(result, f.name) == getattr(finished, f.name), f.name
    assert result.cognitive is score and RecordingResult.of(finished).cognitive is None
