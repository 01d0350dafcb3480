"""A fresh recording holds what recordings/SCHEMA.md promises, read with h5py alone: every dataset
carries a `unit` attribute, and it is the unit SCHEMA.md's tables give for that dataset."""

import asyncio
import re
from pathlib import Path

import h5py
import pytest

from engine.factory import record
from engine.spec import SessionSpec, SourceKind, SourceSpec
from sensors.processing import SessionSettings

SCHEMA_MD = Path(__file__).resolve().parents[2] / "recordings" / "SCHEMA.md"


def schema_units() -> dict[str, dict[str, str]]:
    """Per SCHEMA.md section (its heading's group path, e.g. '/acquisition/<placement>/'), the unit
    column of its dataset tables: {dataset name: unit}."""
    sections: dict[str, dict[str, str]] = {}
    current = None
    header: list[str] = []
    for line in SCHEMA_MD.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^##+ `(/[^`]*)`", line)
        if heading:
            current, header = heading.group(1), []
            sections.setdefault(current, {})
            continue
        if current is None or not line.startswith("|"):
            header = [] if not line.startswith("|") else header
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not header:
            header = cells
            continue
        if set(cells[0]) <= set("-: ") or "unit" not in header or header[0] != "dataset":
            continue
        name = cells[0].strip("`")
        sections[current][name] = cells[header.index("unit")]
    return sections


def _section_of(name: str) -> str:
    """The SCHEMA.md section a dataset path ('acquisition/lumbar/acc_m_s2') is documented in."""
    group = "/" + name.rsplit("/", 1)[0] + "/"
    if group.startswith("/acquisition/") and group != "/acquisition/arrival/":
        return "/acquisition/<placement>/"
    return group


def _normal(unit: str) -> str:
    """SCHEMA.md's typography (m/s², none shown as —) in the file's spelling (m/s^2, '')."""
    unit = unit.strip("`").replace("²", "^2")
    return "" if unit in ("—", "-", "''") else unit


@pytest.fixture(scope="module")
def fresh_recording(tmp_path_factory) -> Path:
    spec = SessionSpec(
        SourceSpec(SourceKind.SIMULATED, seed=3, realtime=False),
        processing=SessionSettings(rate_hz=100.0, duration_s=3.0),
    )
    path = tmp_path_factory.mktemp("schema") / "fresh.h5"
    return asyncio.run(record(spec, "R1", path, "quiet-stance", 4.0, store_angles=True)).path


def test_every_dataset_carries_the_unit_schema_md_gives(fresh_recording):
    documented = schema_units()
    found: dict[str, str | None] = {}
    text: set[str] = set()

    def visit(name: str, item: object) -> None:
        if isinstance(item, h5py.Dataset):
            unit = item.attrs.get("unit")
            found[name] = unit.decode() if isinstance(unit, bytes) else unit
            if h5py.check_string_dtype(item.dtype) is not None:
                text.add(name)

    with h5py.File(fresh_recording, "r") as f:
        f.visititems(visit)
    assert "calibration/mount_q" in found and "acquisition/arrival/host_origin_ns" in found
    missing = sorted(name for name, unit in found.items() if unit is None)
    assert missing == [], f"datasets without a unit attribute: {missing}"
    for name, unit in found.items():
        section = _section_of(name)
        dataset = name.rsplit("/", 1)[1]
        assert dataset in documented.get(section, {}), f"{name}: not in SCHEMA.md's {section} table"
        assert unit == _normal(documented[section][dataset]), name
        assert name not in text or unit == "", f"{name}: text with unit {unit!r}"


#: The fixed-size datasets SCHEMA.md names: contiguous, written in place.
FIXED = {"acquisition/arrival/host_origin_ns", "calibration/mount_q", "calibration/time_s"}


def test_growing_datasets_are_chunked_checksummed_and_resizable_and_the_fixed_ones_are_not(fresh_recording):
    seen = set()

    def visit(name: str, item: object) -> None:
        if not isinstance(item, h5py.Dataset):
            return
        seen.add(name)
        if name in FIXED:
            assert item.chunks is None and item.maxshape == item.shape, name
        else:
            assert item.chunks is not None and item.fletcher32 and item.maxshape[0] is None, name

    with h5py.File(fresh_recording, "r") as f:
        f.visititems(visit)
    assert seen >= FIXED
    schema = SCHEMA_MD.read_text(encoding="utf-8")
    assert all(f"`/{name}`" in schema for name in FIXED)  # SCHEMA.md names each
