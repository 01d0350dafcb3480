"""The real reference recordings in ../shared/data, beside the project (CI has ../shared beside
the clone): read in place, never copied into the project."""

from __future__ import annotations

from pathlib import Path

#: ../shared/data, beside the project's folder.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
#: Mobilise-D's lab recording of participant HA001 (mobgap's example data: lower-back IMU, INDIP
#: reference), as the gait tests and the XDF import tests read it.
HA001 = SHARED_DATA / "mobgap_lab_HA001"


def require(folder: Path) -> Path:
    """`folder`, or FileNotFoundError saying where it was looked for when it is absent."""
    if not folder.exists():
        raise FileNotFoundError(f"reference data not found at {folder} (CI has ../shared beside the clone)")
    return folder
