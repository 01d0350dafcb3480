"""The Motion-BIDS export checked by the official BIDS validator (`bids-validator-deno`, the
schema validator of the BIDS maintainers, a test dependency): 0 errors, and no warning beyond
the ones the exporter's docstring explains."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from recordings import read_recording
from recordings.analysis import replay
from recordings.export_bids import EXPLAINED_WARNINGS, export_bids
from stabmon.cli import main
from tests.cli_args import RECORD_SIMULATED

#: One worker for the module: its shared fixture is built once, not once per xdist worker.
pytestmark = pytest.mark.xdist_group("bids-session")


def _validator() -> str:
    found = shutil.which("bids-validator-deno", path=str(Path(sys.executable).parent)) or shutil.which(
        "bids-validator-deno"
    )
    if found is None:
        message = "bids-validator-deno missing: pip install -e '.[test]'"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def validate(dataset: Path) -> Counter:
    """(severity, code, sub-code) → count of every issue the validator reports on the dataset."""
    run = subprocess.run(
        [_validator(), str(dataset), "--format", "json", "--max-rows", "-1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(run.stdout)
    return Counter((i["severity"], i["code"], i.get("subCode")) for i in report["issues"]["issues"])


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lib")
    argv = [*RECORD_SIMULATED, "--drill", "perturbations", "--seconds", "20", "--seed", "5"]
    assert main([*argv, "--subject", "P-11", "--out", str(folder)]) == 0
    recording = read_recording(next(folder.glob("*.h5")))
    return recording, replay(recording).collector


def test_an_export_has_no_errors_and_only_the_explained_warnings(session, tmp_path):
    recording, collector = session
    export_bids(recording, collector, tmp_path)
    later = dataclasses.replace(
        recording, attributes={**recording.attributes, "created_utc": "2026-02-03T04:05:06.789000+00:00"}
    )
    export_bids(later, collector, tmp_path)  # run 2 of the same task (another acquisition)
    assert len(list(tmp_path.glob("sub-P11/motion/*_run-2_motion.tsv"))) == 1
    issues = validate(tmp_path)
    errors = {key: n for key, n in issues.items() if key[0] == "error"}
    assert errors == {}
    warnings = {key[1:] for key in issues if key[0] == "warning"}
    assert warnings == EXPLAINED_WARNINGS  # each one explained in the exporter's docstring


def test_what_the_study_supplies_removes_its_warnings(session, tmp_path):
    """Through `stabmon export --format bids` with the study's details."""
    recording, _ = session
    details = ["--author", "A. Researcher", "--author", "B. Clinician", "--license", "CC-BY-4.0"]
    details += ["--institution", "Example Rehabilitation Clinic", "--department", "Physiotherapy"]
    details += ["--institution-address", "1 Example Street, Example Town"]
    assert main(["export", str(recording.path), "--format", "bids", "-o", str(tmp_path), *details]) == 0
    description = json.loads((tmp_path / "dataset_description.json").read_text())
    assert description["Authors"] == ["A. Researcher", "B. Clinician"]
    issues = validate(tmp_path)
    assert not [key for key in issues if key[0] == "error"]
    supplied = {
        ("NO_AUTHORS", "Authors"),
        ("TOO_FEW_AUTHORS", None),
        ("JSON_KEY_RECOMMENDED", "License"),
        ("SIDECAR_KEY_RECOMMENDED", "InstitutionName"),
        ("SIDECAR_KEY_RECOMMENDED", "InstitutionAddress"),
        ("SIDECAR_KEY_RECOMMENDED", "InstitutionalDepartmentName"),
    }
    assert {key[1:] for key in issues if key[0] == "warning"} == EXPLAINED_WARNINGS - supplied


def test_the_validator_does_catch_a_broken_export(session, tmp_path):
    """The check can fail: a sidecar without its required SamplingFrequency is an error."""
    recording, collector = session
    written = export_bids(recording, collector, tmp_path)
    sidecar = next(p for p in written if p.name.endswith("_motion.json"))
    content = json.loads(sidecar.read_text())
    del content["SamplingFrequency"]
    sidecar.write_text(json.dumps(content))
    assert any(key[0] == "error" for key in validate(tmp_path))
