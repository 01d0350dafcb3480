"""One error root: every exception class the product packages define derives from StabmonError,
so the command line (and any caller) can tell stabmon's own errors from bugs with one `except`."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from sensors.errors import StabmonError

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sensors", "recordings", "gui", "stabmon", "engine")


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _errors_modules() -> list[str]:
    """Every package's errors.py, as module names."""
    folders = [ROOT / package for package in PACKAGES if (ROOT / package).is_dir()]
    return sorted(_module_name(p) for folder in folders for p in folder.rglob("errors.py"))


def _modules_defining_exceptions() -> list[str]:
    """Modules (outside errors.py) with a class whose name ends in Error or Exception (read with
    ast, so only these are imported)."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []:
            if path.name == "errors.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if any(
                isinstance(node, ast.ClassDef) and node.name.endswith(("Error", "Exception"))
                for node in tree.body
            ):
                found.append(_module_name(path))
    return found


def _exception_classes(module_name: str) -> list[type[BaseException]]:
    module = importlib.import_module(module_name)
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == module_name
    ]


def test_every_package_has_an_errors_module_and_they_are_found():
    names = _errors_modules()
    assert {"sensors.errors", "sensors.ble.errors", "sensors.processing.errors", "recordings.errors"} <= set(
        names
    )


@pytest.mark.parametrize("module_name", _errors_modules())
def test_every_class_in_an_errors_module_derives_from_stabmon_error(module_name):
    classes = _exception_classes(module_name)
    assert classes, f"{module_name} defines no exception class"
    strays = [c.__qualname__ for c in classes if not issubclass(c, StabmonError)]
    assert not strays, f"{module_name}: {strays} do not derive from StabmonError"


@pytest.mark.parametrize("module_name", _modules_defining_exceptions())
def test_exception_classes_outside_errors_modules_derive_from_stabmon_error_too(module_name):
    strays = [c.__qualname__ for c in _exception_classes(module_name) if not issubclass(c, StabmonError)]
    assert not strays, f"{module_name}: {strays} do not derive from StabmonError"


def test_the_built_in_bases_callers_catch_are_kept():
    from recordings.errors import InvalidSubjectIdError, RecordingNotFoundError, RecordingPermissionError
    from sensors.ble.errors import DecodeError
    from sensors.errors import InvalidSamplesError
    from sensors.processing.errors import SettingsError

    assert issubclass(RecordingNotFoundError, FileNotFoundError)
    assert issubclass(RecordingPermissionError, PermissionError)
    for cls in (InvalidSubjectIdError, DecodeError, InvalidSamplesError, SettingsError):
        assert issubclass(cls, ValueError), cls


def test_the_command_line_reports_a_stabmon_error_in_one_line(tmp_path):
    """A file that is not a recording: NotARecordingError (a RecordingError) → one line, status 2."""
    bogus = tmp_path / "notes.h5"
    bogus.write_text("not HDF5 at all\n")
    done = subprocess.run(
        [sys.executable, "-m", "stabmon", "analyze", str(bogus)], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("stabmon analyze: ") and "notes.h5" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
