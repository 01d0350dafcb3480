"""A finished recording as the window shows it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gui.model.cognitive import CognitiveScore
from sensors.processing.analysis import AnalysisResult


@dataclass(frozen=True)
class RecordingResult:
    """One finished recording: its file, measures (None with the reason in `problem`) and, in the
    dual-task condition, the cognitive score."""

    protocol: str
    repetition: int
    condition: str
    path: Path
    drill: str
    measures: AnalysisResult | None
    problem: str = ""
    cognitive: CognitiveScore | None = None
