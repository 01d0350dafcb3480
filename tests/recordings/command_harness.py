"""Runs stabmon commands (and the review window) in-process over many files, one JSON line per
case on stdout, for the corrupted-recordings tests and `benchmarks/fuzz_files.py`.

The parent runs this as a subprocess and feeds it cases (JSON lines: {"id", "argv"} for a
command, {"id", "review": path, "data_dir"} for the review window). Before each case it prints
{"start": id}, so a crash or a signal, which ends this process, names the case that caused it.
Outcomes: "ok", "partial" (a result with a stated problem), "error" (exit status 2; `clear` when
the message names the file), "traceback" (an exception escaped the command).
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def run_command(argv: list[str], names: list[str]) -> dict[str, Any]:
    """Run `stabmon argv`; `names` are strings one of which a clear error message contains."""
    from stabmon.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 2
    except Exception as error:  # what the test is looking for: nothing may escape a command
        return {
            "outcome": "traceback",
            "detail": f"{type(error).__name__}: {error}"[:300],
            "trace": traceback.format_exc()[-3000:],
        }
    stdout, stderr = out.getvalue(), err.getvalue()
    if code == 0:
        partial = "  ! " in stdout or "  ! " in stderr or "note:" in stderr
        return {"outcome": "partial" if partial else "ok", "detail": _first_problem(stdout + stderr)}
    clear = any(name in stderr for name in names)
    return {
        "outcome": "error",
        "clear": clear,
        "detail": stderr.strip().splitlines()[-1][:300] if stderr.strip() else "",
    }


def _first_problem(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith(("!", "note:"))]
    return lines[0][:300] if lines else ""


_window = None


def run_review(path: str, data_dir: str | None) -> dict[str, Any]:
    """Open `path` in the review window (offscreen) and read what its header shows."""
    global _window
    from PySide6.QtWidgets import QApplication

    from gui.review_window import ReviewWindow

    QApplication.instance() or QApplication(sys.argv[:1])
    try:
        if _window is None:
            _window = ReviewWindow(Path(data_dir) if data_dir else None)
        _window.reviewed = None
        _window.open(Path(path))
        _window.wait_loaded(timeout_s=300)
        header = _window.header.text()
    except Exception as error:
        return {
            "outcome": "traceback",
            "detail": f"{type(error).__name__}: {error}"[:300],
            "trace": traceback.format_exc()[-3000:],
        }
    if "Cannot open" in header:
        return {"outcome": "error", "clear": Path(path).name in header, "detail": header[:300]}
    reviewed = _window.reviewed
    if reviewed is None:
        return {
            "outcome": "traceback",
            "detail": f"window shows neither the file nor an error: {header[:200]}",
        }
    partial = bool(reviewed.recording.problems or reviewed.problem)
    return {
        "outcome": "partial" if partial else "ok",
        "detail": (reviewed.recording.problems or (reviewed.problem,))[0][:300],
    }


def drive(
    cases: list[dict[str, Any]], timeout_s: float = 3600.0, user: tuple[str, ...] = ()
) -> dict[str, dict[str, Any]]:
    """Run `cases` in harness subprocesses (prefixed by `user`, e.g. setpriv as another user);
    {case id: result}. A process that dies (a crash, a signal) gives its current case the
    outcome "crash" with its exit status, and a fresh process takes the remaining cases."""
    import subprocess

    results: dict[str, dict[str, Any]] = {}
    remaining = list(cases)
    while remaining:
        process = subprocess.run(
            [*user, sys.executable, "-m", "tests.recordings.command_harness"],
            input="".join(json.dumps(c) + "\n" for c in remaining),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            cwd=Path(__file__).resolve().parents[2],
        )
        started = None
        for line in process.stdout.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # something a command printed past the redirection
            if not isinstance(record, dict):
                continue
            if "start" in record:
                started = record["start"]
            elif "id" in record:
                results[record["id"]] = record
        remaining = [c for c in remaining if c["id"] not in results]
        if remaining:
            crashed = started if started in {c["id"] for c in remaining} else remaining[0]["id"]
            results[crashed] = {
                "id": crashed,
                "outcome": "crash",
                "detail": f"exit status {process.returncode}: {process.stderr[-1500:]}",
            }
            remaining = [c for c in remaining if c["id"] != crashed]
    return results


def main() -> None:
    faulthandler.enable()
    for line in sys.stdin:
        case = json.loads(line)
        print(json.dumps({"start": case["id"]}), flush=True)
        if "review" in case:
            result = run_review(case["review"], case.get("data_dir"))
        else:
            result = run_command(case["argv"], case.get("names", []))
        print(json.dumps({"id": case["id"], **result}), flush=True)


if __name__ == "__main__":
    main()
