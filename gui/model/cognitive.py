"""Cognitive tasks for dual-task practice: serial subtraction and a Stroop-like colour task.

Serial subtraction is done from memory: the patient is shown the start number and the step once
("Count back from 143 in sevens") and says (or keys) each next number; nothing else is shown, so
the working-memory load stays (no "143 − 7 = ?" each time). An answer is correct when it is the
previous answer minus the step (the first: the start minus the step), the usual scoring of serial
sevens, so one slip costs one answer only.

`CognitiveRun` is the task during one recording: it scores each answer and keeps it with its
response time, so the cognitive side of the dual-task cost (accuracy, correct responses per second)
can be computed. Start numbers and colour words come from the recording's seed (stored with it).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from recordings.dual_task import CognitiveScore, score_responses

COLOURS = ("red", "green", "blue", "yellow")
#: The step of serial subtraction, in the words the patient hears.
STEP_WORDS = {3: "threes", 7: "sevens"}
#: Start numbers of serial subtraction are drawn from [low, high).
START_RANGE = (100, 200)


@dataclass(frozen=True)
class Trial:
    """What the patient sees: a prompt (text), the ink colour for Stroop (else ''), and the
    correct answer; choices: the answer buttons."""

    prompt: str
    ink: str
    answer: str
    choices: tuple[str, ...]


class SerialSubtraction:
    """Count back from a start in [START_RANGE) in steps of `step`, from memory."""

    name = "serial-subtraction"

    def __init__(self, seed: int = 0, step: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.step = step
        self.start = int(rng.integers(*START_RANGE))
        self.expected = self.start - step  # what the patient should say next
        self.prompt = f"Count back from {self.start} in {STEP_WORDS.get(step, f'steps of {step}')}"

    def first(self) -> Trial:
        return Trial(self.prompt, "", str(self.expected), ())

    def next(self, given: str) -> Trial:
        """The next trial after the answer `given`: its correct answer is `given` minus the step
        (the expected number minus the step when `given` is not a number)."""
        try:
            said = int(given.strip())
        except ValueError:
            said = self.expected
        self.expected = said - self.step
        return Trial(self.prompt, "", str(self.expected), ())

    def score(self, trial: Trial, given: str) -> bool:
        return given.strip() == trial.answer

    def about(self) -> dict[str, Any]:
        return {"cognitive_start": self.start, "cognitive_step": self.step}


class ColourWords:
    """Stroop-like: a colour word printed in an ink colour; the answer is the ink. About two in
    three trials are incongruent (word ≠ ink)."""

    name = "stroop"

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def first(self) -> Trial:
        return self.next("")

    def next(self, given: str) -> Trial:
        word = COLOURS[int(self.rng.integers(len(COLOURS)))]
        ink = word
        if self.rng.random() < 2 / 3:
            ink = COLOURS[(COLOURS.index(word) + 1 + int(self.rng.integers(len(COLOURS) - 1))) % len(COLOURS)]
        return Trial(word.upper(), ink, ink, COLOURS)

    def score(self, trial: Trial, given: str) -> bool:
        return given.strip().lower() == trial.answer

    def about(self) -> dict[str, Any]:
        return {}


CognitiveTask = SerialSubtraction | ColourWords


def make_cognitive_task(name: str, seed: int = 0) -> CognitiveTask:
    if name == SerialSubtraction.name:
        return SerialSubtraction(seed)
    if name == ColourWords.name:
        return ColourWords(seed)
    raise ValueError(f"unknown cognitive task {name!r}; known: serial-subtraction, stroop")


class CognitiveRun:
    """The cognitive task during one recording, shared by the GUI thread (answers) and the
    session thread (start, score): the current trial, and every answer's correctness and
    response time (s, from the trial's showing or the previous answer)."""

    def __init__(self, name: str, seed: int) -> None:
        self.seed = seed
        self.task = make_cognitive_task(name, seed)
        self.trial: Trial = self.task.first()
        self.shown_at = time.monotonic()
        self.correct: list[bool] = []
        self.times: list[float] = []
        self.lock = threading.Lock()

    def begin(self) -> None:
        """The task starts now (the first trial is shown)."""
        self.shown_at = time.monotonic()

    def answer(self, given: str) -> tuple[Trial, bool, float]:
        """Score `given` against the current trial and move on: (the trial answered, correct,
        response time s)."""
        with self.lock:
            trial = self.trial
            correct = self.task.score(trial, given)
            now = time.monotonic()
            rt = now - self.shown_at
            self.correct.append(correct)
            self.times.append(rt)
            self.trial = self.task.next(given)
            self.shown_at = now
        return trial, correct, rt

    def score(self, duration_s: float) -> CognitiveScore:
        """The run's score over `duration_s` seconds of task."""
        with self.lock:
            return score_responses(list(self.correct), list(self.times), duration_s)

    def about(self) -> dict[str, Any]:
        """What the recording stores about the task: its seed and items (serial subtraction's
        start and step)."""
        return {"cognitive_seed": self.seed, **self.task.about()}
