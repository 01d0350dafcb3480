"""A finished recording as the window shows it."""

from __future__ import annotations

from dataclasses import dataclass, fields

from engine.messages import RecordingFinished
from recordings.dual_task import CognitiveScore


@dataclass(frozen=True)
class RecordingResult(RecordingFinished):
    """One finished recording as the engine reported it (file, measures or the problem) and,
    in the dual-task condition, the cognitive score the window kept."""

    cognitive: CognitiveScore | None = None

    @classmethod
    def of(cls, finished: RecordingFinished, cognitive: CognitiveScore | None = None) -> RecordingResult:
        """The engine's report with the cognitive score added."""
        return cls(
            **{f.name: getattr(finished, f.name) for f in fields(RecordingFinished)}, cognitive=cognitive
        )
