"""`stabmon record` on virtual sensors (bumble's link, fast) with one sensor whose battery dies: the
virtual sensor's `FaultPlan(dies_at_s=…)`, given through `Impairments` as a real session's fault."""

from __future__ import annotations

import contextlib
import functools
import io
from pathlib import Path

import pytest

import stabmon.record
from engine.factory import Impairments
from sensors.ble.virtual.base import FaultPlan
from sensors.placements import Placement
from stabmon.cli import main
from stabmon.console import ProgressPrinter
from tests.cli_args import RECORD_SIMULATED


def record_with_a_dying_sensor(
    out: Path,
    placement: Placement,
    dies_at_s: float,
    seconds: int,
    subject: str,
    *,
    progress_interval_s: float | None = None,
    library: bool = False,
) -> tuple[str, str, Path]:
    """Record `seconds` (s) of quiet stance into `out` (with `library`, as a library: the file in
    its subject's folder) whose `placement` sensor dies at `dies_at_s` (s of the sensor's stream);
    progress every `progress_interval_s` (s) when given. Returns (standard output, standard
    error, the saved file)."""
    mp = pytest.MonkeyPatch()
    opened = stabmon.record.open_source

    def with_fault(*args, **kwargs):
        kwargs["impairments"] = Impairments(faults={placement: FaultPlan(dies_at_s=dies_at_s)})
        return opened(*args, **kwargs)

    mp.setattr(stabmon.record, "open_source", with_fault)
    if progress_interval_s is not None:
        mp.setattr(
            stabmon.record,
            "ProgressPrinter",
            functools.partial(ProgressPrinter, interval_s=progress_interval_s),
        )
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            args = ["--drill", "quiet-stance", "--seconds", str(seconds), "--subject", subject]
            assert main([*RECORD_SIMULATED, *args, "--data-dir" if library else "--out", str(out)]) == 0
    finally:
        mp.undo()
    (path,) = out.rglob(f"sub-{subject}_*.h5")
    return stdout.getvalue(), stderr.getvalue(), path
