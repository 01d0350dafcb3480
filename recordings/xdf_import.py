"""Import IMU streams recorded by other systems (XDF, e.g. LabRecorder) as a stabmon recording.

An IMU stream has six numeric channels: accelerometer x, y, z and gyroscope x, y, z, in the
sensor frame. Units come from the channel units (m/s², g; rad/s, deg/s), else SI is assumed.
Each stream is mapped to a placement by `mapping` (stream name → placement), else by a
`placement` entry in its description, else by a placement name inside its stream name.
Timestamps (LSL clock, after pyxdf's clock-offset correction) become both the device time and
the host arrival time; sample counters follow from the nominal rate, so gaps in the timestamps
remain gaps. Marker streams become events. The result is run through the live pipeline and
written like any recording, so it can be analysed and compared like our own.

The file says where it came from: each sensor's family is "imported", its model names the XDF
stream (name, type, host) and its serial the stream's source id; protocol_json holds the source
format, file and stream names, and the recording's start from the XDF file header's `datetime`,
which also dates the file (`created_utc`); a file without one is dated at the import and says so.
A drill whose analysis reads a sensor no stream maps to is refused before anything is written.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from recordings.lsl import marker_event
from recordings.schema import check_drill_name
from sensors.constants import GRAVITY_M_S2
from sensors.drills import drill_family
from sensors.errors import StabmonError
from sensors.events import Event
from sensors.health import HealthTracker
from sensors.identity import SensorFamily, SensorIdentity
from sensors.placements import Placement, parse_placement
from sensors.processing.analysis import missing_placements
from sensors.samples import SampleBlock
from sensors.source import SensorHealth, Source, SourceItem

log = logging.getLogger(__name__)

_UNIT_SCALE = {
    "m/s^2": 1.0,
    "m/s2": 1.0,
    "m/s²": 1.0,
    "g": GRAVITY_M_S2,
    "rad/s": 1.0,
    "deg/s": np.pi / 180,
    "dps": np.pi / 180,
}


class XdfImportError(StabmonError):
    """The XDF file cannot be read or holds no usable IMU stream."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


class TruncatedXdfError(XdfImportError):
    """The XDF file was cut short or has damaged chunks: only part of it could be read."""


def _first(value: Any, default: str = "") -> str:
    while isinstance(value, list):
        if not value:
            return default
        value = value[0]
    return str(value) if value is not None else default


def _channels(info: dict) -> list[tuple[str, str]]:
    desc = info.get("desc") or [None]
    desc = desc[0] if isinstance(desc, list) else desc
    if not isinstance(desc, dict) or "channels" not in desc:
        return []
    channels = desc["channels"][0].get("channel", [])
    return [(_first(c.get("label")), _first(c.get("unit"))) for c in channels]


def _placement_of(name: str, info: dict, mapping: Mapping[str, Placement]) -> Placement | None:
    if name in mapping:
        return mapping[name]
    desc = (info.get("desc") or [None])[0]
    if isinstance(desc, dict) and desc.get("placement"):
        return parse_placement(_first(desc["placement"]))
    for placement in Placement:
        if re.search(rf"(^|[^a-z]){placement.value}([^a-z]|$)", name.lower()):
            return placement
    return None


@dataclass(frozen=True)
class ImportedStream:
    """One IMU stream: its samples as a block (SI, LSL time), and what its header says of it."""

    placement: Placement
    name: str
    block: SampleBlock
    rate_hz: float
    type: str = ""
    source_id: str = ""
    hostname: str = ""

    @property
    def identity(self) -> SensorIdentity:
        """The sensor as the file describes it: family "imported", the stream's source id as
        its serial, and format, name, type and host in its model."""
        host = f" on {self.hostname}" if self.hostname else ""
        kind = f" ({self.type})" if self.type else ""
        model = f"XDF stream {self.name!r}{kind}{host}"
        return SensorIdentity(SensorFamily.IMPORTED, f"xdf:{self.name}", self.source_id, model=model)


class _Complaints(logging.Handler):
    """Collects what pyxdf logs at ERROR while it skips damaged parts of a file (its warnings go
    to this module's debug log): stabmon says it once, in its own words, instead."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.messages.append(record.getMessage())
        else:
            log.debug("pyxdf: %s", record.getMessage())


def _load(path: Path) -> tuple[list[dict], dict]:
    """pyxdf's streams and file header; XdfImportError on a file it cannot read or had to skip
    parts of (a file cut short, a damaged chunk), or one whose streams lack the footer a finished
    recording has."""
    import pyxdf

    if not path.exists():
        raise XdfImportError(path, "no such file")
    try:
        with path.open("rb") as f:
            if f.read(4) != b"XDF:":
                raise XdfImportError(path, "not a readable XDF file (it does not start with 'XDF:')")
    except OSError as error:
        raise XdfImportError(path, f"cannot read the file ({error.strerror or error})") from None
    complaints = _Complaints()
    pyxdf_log = logging.getLogger("pyxdf.pyxdf")
    pyxdf_log.addHandler(complaints)
    propagate, pyxdf_log.propagate = pyxdf_log.propagate, False  # not printed as well
    try:
        streams, header = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    except Exception as error:  # pyxdf raises many kinds on malformed files
        raise XdfImportError(path, f"not a readable XDF file ({type(error).__name__}: {error})") from None
    finally:
        pyxdf_log.removeHandler(complaints)
        pyxdf_log.propagate = propagate
    if not streams:
        raise XdfImportError(path, "not a readable XDF file (no stream could be read from it)")
    unfinished = [_first(s["info"].get("name")) for s in streams if "footer" not in s]
    if complaints.messages or unfinished:
        detail = complaints.messages[0] if complaints.messages else f"streams without a footer: {unfinished}"
        raise TruncatedXdfError(
            path,
            f"the file is cut short or damaged ({detail}); importing it would give a shorter session "
            "without a word. Use --allow-truncated to import what it holds anyway",
        )
    return streams, header


def read_xdf_imu(
    path: Path, mapping: Mapping[str, Placement] | None = None, allow_truncated: bool = False
) -> tuple[list[ImportedStream], list[tuple[float, str, str]], dict[str, str]]:
    """The IMU streams (by placement), the markers (LSL time, text, stream name) and the file
    header's fields (`version`, `datetime` when the recorder wrote one) of an XDF file; a
    truncated or damaged file raises TruncatedXdfError unless `allow_truncated`, and then its
    readable part is used (pyxdf skips what it cannot read)."""
    import pyxdf

    path = Path(path)
    try:
        streams, header = _load(path)
    except TruncatedXdfError as error:
        if not allow_truncated:
            raise
        log.warning("%s (importing what it holds)", error)
        streams, header = pyxdf.load_xdf(str(path), dejitter_timestamps=False)
    fields = {k: _first(v) for k, v in dict((header or {}).get("info") or {}).items()}
    imu, markers = [], []
    for stream in streams:
        info = stream["info"]
        name = _first(info.get("name"))
        stamps = np.asarray(stream["time_stamps"], dtype=float)
        if _first(info.get("channel_format")) == "string":
            markers += [
                (float(t), _first(v), name) for t, v in zip(stamps, stream["time_series"], strict=True)
            ]
            continue
        values = np.asarray(stream["time_series"], dtype=float)
        if values.ndim != 2 or values.shape[1] != 6 or len(stamps) < 2:
            log.info("%s: stream %r is not a 6-channel IMU stream; skipped", path.name, name)
            continue
        placement = _placement_of(name, info, mapping or {})
        if placement is None:
            raise XdfImportError(
                path, f"stream {name!r} has no placement; give --map {name}=lumbar (or pelvis, …)"
            )
        units = [u for _, u in _channels(info)] or ["m/s^2"] * 3 + ["rad/s"] * 3
        try:
            scale = np.array([_UNIT_SCALE[u.strip().lower()] if u.strip() else 1.0 for u in units])
        except KeyError as error:
            raise XdfImportError(path, f"stream {name!r}: unknown unit {error}") from None
        values = values * scale
        usable = np.isfinite(stamps) & np.all(np.isfinite(values), axis=1)
        usable &= stamps >= np.maximum.accumulate(np.where(usable, stamps, -np.inf))
        usable[1:] &= np.diff(stamps) > 0
        if not usable.all():
            log.warning(
                "%s: stream %r: %d samples with a non-finite or repeated time stamp or value left out",
                path.name,
                name,
                int((~usable).sum()),
            )
            stamps, values = stamps[usable], values[usable]
        if len(stamps) < 2:
            raise XdfImportError(path, f"stream {name!r} has fewer than two usable samples")
        try:
            rate = float(_first(info.get("nominal_srate"), "0")) or 1.0 / float(np.median(np.diff(stamps)))
        except ValueError:
            raise XdfImportError(path, f"stream {name!r}: nominal_srate is not a number") from None
        if not (np.isfinite(rate) and 0 < rate <= 10_000):
            raise XdfImportError(path, f"stream {name!r}: sample rate {rate} Hz is not plausible")
        # Counters from the spacing: one step per nominal period, more across a gap, never less.
        steps = np.maximum(np.round(np.diff(stamps) * rate), 1).astype(np.int64)
        sequence = np.concatenate([[0], np.cumsum(steps)])
        block = SampleBlock(
            placement, stamps, values[:, :3], values[:, 3:], sequence, np.round(stamps * 1e9).astype(np.int64)
        )
        about = {k: _first(info.get(k)) for k in ("type", "source_id", "hostname")}
        imu.append(ImportedStream(placement, name, block, rate, **about))
    if not imu:
        raise XdfImportError(path, "no 6-channel IMU stream (acc x, y, z, gyr x, y, z) in the file")
    placements = [s.placement for s in imu]
    if len(set(placements)) != len(placements):
        raise XdfImportError(path, f"two streams map to the same placement: {[p.value for p in placements]}")
    return imu, markers, fields


class _ImportedSource:
    """The imported streams as a source: blocks of `block_s` in time order across streams."""

    def __init__(
        self, streams: list[ImportedStream], events: list[Event], origin_ns: int, block_s: float = 0.1
    ) -> None:
        self.streams = streams
        self.events = sorted(events, key=lambda e: e.time_s)
        self.origin_ns = origin_ns
        self.block_s = block_s
        self._health = {s.placement: HealthTracker(s.placement) for s in streams}

    @property
    def sensors(self) -> Mapping[Placement, SensorIdentity]:
        return {s.placement: s.identity for s in self.streams}

    @property
    def host_origin_ns(self) -> int:
        return self.origin_ns

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def health(self) -> Mapping[Placement, SensorHealth]:
        now = max(int(s.block.host_receive_ns[-1]) for s in self.streams)
        return {p: t.snapshot(now, origin_ns=self.origin_ns) for p, t in self._health.items()}

    async def stream(self) -> AsyncIterator[SourceItem]:
        pieces = []
        for s in self.streams:
            pieces += s.block.split_by_arrival(int(self.block_s * 1e9), self.origin_ns)
        pieces.sort(key=lambda b: int(b.host_receive_ns[-1]))
        events = list(self.events)
        for k, piece in enumerate(pieces):
            now_s = (int(piece.host_receive_ns[-1]) - self.origin_ns) * 1e-9
            while events and events[0].time_s <= now_s:
                yield events.pop(0)
            self._health[piece.placement].update(piece)
            if k % 64 == 0:
                await asyncio.sleep(0)
            yield piece
        for event in events:  # markers after the last sample (e.g. the task's end)
            yield event


@dataclass
class XdfRecording:
    """An XDF file read for import: its IMU streams as a source (not started; blocks of 0.1 s in
    time order across streams, markers as events), what to store about where they came from, and
    when it was recorded (None when the file does not say)."""

    source: Source
    about: dict[str, Any]
    recorded_utc: datetime | None = None


def recorded_utc(path: Path, header: Mapping[str, str]) -> datetime | None:
    """The recording's start from an XDF file header's `datetime` (ISO 8601, as LabRecorder
    writes it, e.g. 2024-03-05T14:02:11+0100), in UTC; None when there is none. A time without a
    zone is taken as UTC (logged); one that cannot be read raises XdfImportError."""
    text = header.get("datetime", "").strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise XdfImportError(path, f"the file header's datetime {text!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        log.warning("%s: the file header's datetime %s has no time zone; taken as UTC", path.name, text)
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def open_xdf(
    path: Path,
    drill: str,
    mapping: Mapping[str, Placement] | None = None,
    allow_truncated: bool = False,
) -> XdfRecording:
    """Read an XDF file for import as a recording of `drill` (checked first: one stabmon can
    analyse); the engine (`engine.imports.import_xdf`) records it."""
    try:
        drill_family(check_drill_name(drill))
    except ValueError as error:  # a name unsafe in a file name, or no drill family (UnknownDrillError)
        raise XdfImportError(Path(path), f"drill refused: {error}") from None
    streams, markers, header = read_xdf_imu(Path(path), mapping, allow_truncated)
    problem = missing_placements(drill, [s.placement for s in streams])
    if problem is not None:
        found = ", ".join(f"{s.name!r} → {s.placement.value}" for s in streams)
        raise XdfImportError(
            Path(path), f"{problem} ({found}): map a stream to it with --map STREAM=PLACEMENT"
        )
    origin_s = min(float(s.block.device_time_s[0]) for s in streams)
    events = [marker_event(text, t - origin_s, name) for t, text, name in markers]
    when = recorded_utc(Path(path), header)
    about = {
        "source": "xdf",
        "source_format": f"XDF {header.get('version', '')}".strip(),
        "file": Path(path).name,
        "streams": {s.placement.value: s.name for s in streams},
        "stream_source_ids": {s.placement.value: s.source_id for s in streams},
        "recorded_utc": when.isoformat() if when else "not in the file (dated at the import)",
    }
    return XdfRecording(_ImportedSource(streams, events, round(origin_s * 1e9)), about, when)
