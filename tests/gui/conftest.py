"""GUI tests run offscreen (no display needed) on a real QApplication (pytest-qt)."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from gui.model.protocols import DrillProtocol


def short_protocol(**overrides: object) -> DrillProtocol:
    """A protocol short enough for tests: 3 s still stance then a 4 s task, no waiting."""
    fields: dict[str, object] = {
        "key": "test-stance",
        "name": "Test stance",
        "drill": "quiet-stance",
        "instructions": "Stand still.",
        "task_s": 4.0,
        "get_ready_s": 0.0,
        "rest_s": 0.0,
    }
    fields.update(overrides)
    return DrillProtocol(**fields)  # type: ignore[arg-type]


def write_protocol(folder: Path, key: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def collect_garbage_on_the_gui_thread() -> Iterator[None]:
    """Reference cycles are collected here, between tests, on the GUI thread, never by a worker
    thread that happens to allocate (a review or report thread freeing a closed test's widget
    while the GUI thread paints crashed the test process), as the app does (`gui/app.py`)."""
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.enable()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "library"
