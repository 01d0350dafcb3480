"""Cognitive tasks for dual-task practice: serial subtraction and a Stroop-like colour task.

Each trial is shown to the patient; the answer (typed by the patient, or entered by the clinician
from what the patient said) is scored and kept with its response time, so the cognitive side of
the dual-task effect (accuracy, correct responses per minute) can be computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

COLOURS = ("red", "green", "blue", "yellow")


@dataclass(frozen=True)
class Trial:
    """What the patient sees: a prompt (text), the ink colour for Stroop (else ''), and the
    correct answer; choices: the answer buttons."""

    prompt: str
    ink: str
    answer: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Response:
    """One answer: the trial, what was answered, whether it was right, and how long it took (s)."""

    trial: Trial
    given: str
    correct: bool
    response_time_s: float


class SerialSubtraction:
    """Subtract `step` (7 by default) from a start between 80 and 120, again and again. The
    correct answer always follows from the true sequence, so one slip costs one answer only."""

    name = "serial-subtraction"

    def __init__(self, seed: int = 0, step: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.step = step
        self.current = int(rng.integers(80, 121))

    def first(self) -> Trial:
        return Trial(f"{self.current} − {self.step} = ?", "", str(self.current - self.step), ())

    def next(self) -> Trial:
        self.current -= self.step
        if self.current - self.step < 0:
            self.current += 100
        return self.first()

    def score(self, trial: Trial, given: str) -> bool:
        return given.strip() == trial.answer


class ColourWords:
    """Stroop-like: a colour word printed in an ink colour; the answer is the ink. About two in
    three trials are incongruent (word ≠ ink)."""

    name = "stroop"

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def first(self) -> Trial:
        return self.next()

    def next(self) -> Trial:
        word = COLOURS[int(self.rng.integers(len(COLOURS)))]
        ink = word
        if self.rng.random() < 2 / 3:
            ink = COLOURS[(COLOURS.index(word) + 1 + int(self.rng.integers(len(COLOURS) - 1))) % len(COLOURS)]
        return Trial(word.upper(), ink, ink, COLOURS)

    def score(self, trial: Trial, given: str) -> bool:
        return given.strip().lower() == trial.answer


CognitiveTask = SerialSubtraction | ColourWords


def make_cognitive_task(name: str, seed: int = 0) -> CognitiveTask:
    if name == SerialSubtraction.name:
        return SerialSubtraction(seed)
    if name == ColourWords.name:
        return ColourWords(seed)
    raise ValueError(f"unknown cognitive task {name!r}; known: serial-subtraction, stroop")


@dataclass(frozen=True)
class CognitiveScore:
    """Responses given, share correct (0–1), correct responses per minute, mean response time (s)."""

    responses: int
    accuracy: float
    correct_per_min: float
    mean_response_time_s: float


def score_responses(correct: list[bool], response_times_s: list[float], duration_s: float) -> CognitiveScore:
    """The cognitive score of a run of `duration_s` seconds."""
    n = len(correct)
    right = sum(correct)
    return CognitiveScore(
        n,
        right / n if n else math.nan,
        60.0 * right / duration_s if duration_s > 0 else math.nan,
        float(np.mean(response_times_s)) if n else math.nan,
    )
