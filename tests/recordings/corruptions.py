"""A catalogue of damaged copies of a real recording: truncations, flipped bytes, deleted or
retyped datasets and attributes, mismatched lengths, NaN/inf data, a crash left open. Used by the
corrupted-recordings tests and by `benchmarks/fuzz_files.py` (which adds many random ones)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

Edit = Callable[[h5py.File], None]


def _delete(name: str) -> Edit:
    def edit(f: h5py.File) -> None:
        del f[name]

    return edit


def _delete_attr(name: str, where: str = "/") -> Edit:
    def edit(f: h5py.File) -> None:
        del f[where].attrs[name]

    return edit


def _set_attr(name: str, value: object, where: str = "/") -> Edit:
    def edit(f: h5py.File) -> None:
        f[where].attrs[name] = value

    return edit


def _replace(name: str, make: Callable[[np.ndarray], np.ndarray], growing: bool = True) -> Edit:
    """Replace dataset `name` by make(its values), keeping it resizable unless `growing` is False."""

    def edit(f: h5py.File) -> None:
        values = make(f[name][()])
        del f[name]
        if growing and values.ndim >= 1:
            f.create_dataset(name, data=values, maxshape=(None, *values.shape[1:]), chunks=True)
        else:
            f.create_dataset(name, data=values)

    return edit


def _resize(name: str, factor: float) -> Edit:
    def edit(f: h5py.File) -> None:
        f[name].resize(int(f[name].shape[0] * factor), axis=0)

    return edit


def _poke(name: str, value: float, where: slice = slice(100, 110)) -> Edit:
    def edit(f: h5py.File) -> None:
        data = f[name][()]
        data[where] = value
        f[name][...] = data

    return edit


def _settings(**changes: object) -> Edit:
    def edit(f: h5py.File) -> None:
        settings = json.loads(f["processing"].attrs["settings_json"])
        f["processing"].attrs["settings_json"] = json.dumps({**settings, **changes})

    return edit


#: Run with a file's path: opens it for SWMR writing and dies without closing it.
LEAVE_OPEN = (
    "import h5py, os, sys\nf = h5py.File(sys.argv[1], 'r+', libver='latest')\nf.swmr_mode = True\nos._exit(0)"
)
LUMBAR = "acquisition/lumbar"
ARRIVAL = "acquisition/arrival"

STRUCTURAL: dict[str, Edit] = {
    **{
        f"delete {LUMBAR}/{d}": _delete(f"{LUMBAR}/{d}")
        for d in (
            "device_time_s",
            "acc_m_s2",
            "gyr_rad_s",
            "sequence",
            "host_receive_ns",
            "session_time_s",
            "lost_before",
        )
    },
    **{
        f"delete /{g}": _delete(g)
        for g in ("acquisition", "events", "calibration", "processing", LUMBAR, ARRIVAL)
    },
    f"delete {ARRIVAL}/rows": _delete(f"{ARRIVAL}/rows"),
    f"delete {ARRIVAL}/host_origin_ns": _delete(f"{ARRIVAL}/host_origin_ns"),
    "delete processing/time_s": _delete("processing/time_s"),
    "delete calibration/mount_q": _delete("calibration/mount_q"),
    "delete events/kind": _delete("events/kind"),
    **{
        f"delete attribute {a}": _delete_attr(a)
        for a in ("schema_version", "placements", "subject_id", "drill", "created_utc", "rate_hz")
    },
    "delete attribute family": _delete_attr("family", LUMBAR),
    "delete settings_json": _delete_attr("settings_json", "processing"),
    "attribute placements = 5": _set_attr("placements", 5),
    "attribute placements duplicated": _set_attr("placements", ["lumbar", "pelvis", "lumbar"]),
    "attribute placements unknown": _set_attr("placements", ["lumbar", "elbow"]),
    "attribute placements empty": _set_attr("placements", np.array([], dtype="S1")),
    "attribute schema_version = 'x.y'": _set_attr("schema_version", "x.y"),
    "attribute schema_version = 9.0.0": _set_attr("schema_version", "9.0.0"),
    "attribute schema_version = 7": _set_attr("schema_version", 7),
    "attribute rate_hz = 0": _set_attr("rate_hz", 0.0),
    "attribute rate_hz = -1": _set_attr("rate_hz", -1.0),
    "attribute rate_hz = 'fast'": _set_attr("rate_hz", "fast"),
    "attribute created_utc = 'yesterday'": _set_attr("created_utc", "yesterday"),
    "attribute drill = '../../x'": _set_attr("drill", "../../x"),
    "attribute drill unknown": _set_attr("drill", "hopping"),
    "attribute subject_id = bytes": _set_attr("subject_id", np.void(b"\xff\xfe")),
    "attribute family unknown": _set_attr("family", "toaster", LUMBAR),
    "settings_json not JSON": _set_attr("settings_json", "{rate", "processing"),
    "settings_json a list": _set_attr("settings_json", "[1, 2]", "processing"),
    "settings rate -100": _settings(rate_hz=-100.0),
    "settings rate 0": _settings(rate_hz=0),
    "settings rate 1e9": _settings(rate_hz=1e9),
    "settings rate 'x'": _settings(rate_hz="x"),
    "settings clock window_bins -1": _settings(clock={"window_bins": -1}),
    "settings duration nan": _settings(duration_s=float("nan")),
    "retype acc as text": _replace(f"{LUMBAR}/acc_m_s2", lambda a: np.array([b"x"] * len(a))),
    "retype sequence as float": _replace(f"{LUMBAR}/sequence", lambda a: a.astype(float) + 0.5),
    "retype device_time_s (n, 2)": _replace(f"{LUMBAR}/device_time_s", lambda a: np.stack([a, a], axis=1)),
    "retype acc (n, 2)": _replace(f"{LUMBAR}/acc_m_s2", lambda a: a[:, :2]),
    "retype mount_q (p, 3)": _replace("calibration/mount_q", lambda a: a[:, :3], growing=False),
    "retype mount_q one row": _replace("calibration/mount_q", lambda a: a[:1], growing=False),
    "empty calibration/time_s": _replace("calibration/time_s", lambda a: a[:0]),
    "retype events/time_s as text": _replace("events/time_s", lambda a: np.array([b"t"] * len(a))),
    "retype processing/valid (m, 5)": _replace("processing/valid", lambda a: np.zeros((len(a), 5), bool)),
    "host_origin_ns empty": _replace(f"{ARRIVAL}/host_origin_ns", lambda a: a[:0]),
    "sequence half as long": _resize(f"{LUMBAR}/sequence", 0.5),
    "acc a tenth as long": _resize(f"{LUMBAR}/acc_m_s2", 0.1),
    "all lumbar rows gone": lambda f: [f[f"{LUMBAR}/{d}"].resize(0, axis=0) for d in f[LUMBAR]],
    "arrival rows doubled": _replace(f"{ARRIVAL}/rows", lambda a: a * 2),
    "arrival rows negative": _replace(f"{ARRIVAL}/rows", lambda a: -a),
    "arrival index beyond placements": _replace(f"{ARRIVAL}/placement_index", lambda a: a + 7),
    "arrival log empty": lambda f: [
        f[f"{ARRIVAL}/{d}"].resize(0, axis=0) for d in ("rows", "placement_index")
    ],
    "device_time_s NaN": _poke(f"{LUMBAR}/device_time_s", float("nan")),
    "device_time_s inf": _poke(f"{LUMBAR}/device_time_s", float("inf")),
    "device_time_s 1e300": _poke(f"{LUMBAR}/device_time_s", 1e300),
    "device_time_s all NaN": _poke(f"{LUMBAR}/device_time_s", float("nan"), slice(None)),
    "acc NaN": _poke(f"{LUMBAR}/acc_m_s2", float("nan")),
    "acc inf": _poke(f"{LUMBAR}/acc_m_s2", float("inf")),
    "acc 1e300": _poke(f"{LUMBAR}/acc_m_s2", 1e300),
    "gyr NaN everywhere": _poke(f"{LUMBAR}/gyr_rad_s", float("nan"), slice(None)),
    "gyr 1e30": _poke(f"{LUMBAR}/gyr_rad_s", 1e30),
    "host_receive_ns int64 max": _poke(f"{LUMBAR}/host_receive_ns", np.iinfo(np.int64).max),
    "host_receive_ns negative": _poke(f"{LUMBAR}/host_receive_ns", -(2**62)),
    "sequence 2^62 jump": _poke(f"{LUMBAR}/sequence", 2**62, slice(100, None)),
    "sequence all equal": _poke(f"{LUMBAR}/sequence", 5, slice(None)),
    "sequence reversed": _replace(f"{LUMBAR}/sequence", lambda a: a[::-1].copy()),
    "lost_before negative": _poke(f"{LUMBAR}/lost_before", -(2**31)),
    "session_time_s NaN": _poke(f"{LUMBAR}/session_time_s", float("nan"), slice(None)),
    "events time NaN": _poke("events/time_s", float("nan"), slice(None)),
    "events kind unknown": _poke("events/kind", b"explosion", slice(None)),
    "processing time_s NaN": _poke("processing/time_s", float("nan"), slice(None)),
    "mount_q NaN": _poke("calibration/mount_q", float("nan"), slice(None)),
}


def structural(original: Path, folder: Path) -> list[tuple[str, Path]]:
    """A damaged copy of `original` per edit in STRUCTURAL (edits that fail are skipped)."""
    cases = []
    for k, (name, edit) in enumerate(STRUCTURAL.items()):
        path = folder / f"sub-C01_quiet-stance_2026010{k // 100}T{k % 100:06d}000Z.h5"
        shutil.copyfile(original, path)
        try:
            with h5py.File(path, "r+") as f:
                edit(f)
        except Exception:  # an edit this file's layout does not allow: not a case
            path.unlink()
            continue
        cases.append((name, path))
    return cases


def byte_level(
    original: Path, folder: Path, rng: np.random.Generator, flips: int, prefix: str = "b"
) -> list[tuple[str, Path]]:
    """Truncations, zeroed blocks, files that are not recordings, and `flips` copies with random
    bytes flipped (1–64 bytes each, anywhere)."""
    data = original.read_bytes()
    cases: list[tuple[str, bytes]] = [
        (f"truncated to {f:.1%}", data[: int(len(data) * f)]) for f in (0.0, 0.001, 0.1, 0.5, 0.9, 0.999)
    ]
    cases.append(
        ("HDF5 signature then garbage", data[:8] + rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    )
    cases.append(("text file", b"subject,drill\nP01,gait\n"))
    for _ in range(4):
        start = int(rng.integers(0, len(data) - 4096))
        cases.append((f"4 KiB zeroed at {start}", data[:start] + bytes(4096) + data[start + 4096 :]))
    for k in range(flips):
        buffer = bytearray(data)
        n = int(rng.integers(1, 65))
        for offset in rng.integers(0, len(buffer), n):
            buffer[offset] ^= 1 << int(rng.integers(0, 8))
        cases.append((f"{n} bytes flipped #{k}", bytes(buffer)))
    written = []
    for k, (name, content) in enumerate(cases):
        path = folder / f"sub-C01_quiet-stance_20270101T{k:06d}{prefix}.h5"
        path.write_bytes(content)
        written.append((name, path))
    return written


def left_open(original: Path, folder: Path) -> list[tuple[str, Path]]:
    """A copy flagged as still open for SWMR writing, as a crashed writer leaves it."""
    path = folder / "sub-C01_quiet-stance_20280101T000000000Z.h5"
    shutil.copyfile(original, path)
    subprocess.run([sys.executable, "-c", LEAVE_OPEN, str(path)], check=True)
    folder_case = folder / "sub-C01_quiet-stance_20280101T000001000Z.h5"
    folder_case.mkdir()
    return [("left open by a crash", path), ("a folder named like a recording", folder_case)]


def unreadable(original: Path, folder: Path) -> list[tuple[str, Path]]:
    """A copy no other user may read (meaningful when the commands run as another user)."""
    path = folder / "sub-C01_quiet-stance_20290101T000000000Z.h5"
    shutil.copyfile(original, path)
    os.chmod(path, 0o600)
    return [("no read permission", path)]
