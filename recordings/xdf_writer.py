"""A small XDF writer (XDF 1.0, github.com/sccn/xdf/wiki/Specifications): file header, stream
headers, sample chunks, clock offsets and stream footers, for numeric (double64) and string
streams. Used to save LSL-style streams so other tools (pyxdf, EEGLAB, MNE) can read them, and
by the tests to make XDF files with known contents."""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

_FILE_HEADER, _STREAM_HEADER, _SAMPLES, _CLOCK_OFFSET, _STREAM_FOOTER = 1, 2, 3, 4, 6


@dataclass
class XdfStream:
    """name, type, channels [(label, unit)], nominal_srate_hz (0: irregular), time_stamps (n,) s,
    values (n, channels) floats or a list of strings for a marker stream; desc: extra key/values."""

    name: str
    type: str
    channels: Sequence[tuple[str, str]]
    nominal_srate_hz: float
    time_stamps: np.ndarray
    values: np.ndarray | Sequence[str]
    desc: Mapping[str, str] = field(default_factory=dict)
    clock_offsets: Sequence[tuple[float, float]] = ()

    @property
    def is_string(self) -> bool:
        return not isinstance(self.values, np.ndarray)


def _varlen(n: int) -> bytes:
    if n < 256:
        return struct.pack("<BB", 1, n)
    if n < 2**32:
        return struct.pack("<BI", 4, n)
    return struct.pack("<BQ", 8, n)


def _chunk(tag: int, content: bytes) -> bytes:
    return _varlen(len(content) + 2) + struct.pack("<H", tag) + content


def _header_xml(stream: XdfStream) -> str:
    channels = "".join(
        f"<channel><label>{escape(label)}</label><unit>{escape(unit)}</unit></channel>"
        for label, unit in stream.channels
    )
    desc = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in stream.desc.items())
    fmt = "string" if stream.is_string else "double64"
    return (
        f'<?xml version="1.0"?><info><name>{escape(stream.name)}</name><type>{escape(stream.type)}</type>'
        f"<channel_count>{len(stream.channels)}</channel_count><nominal_srate>{stream.nominal_srate_hz}</nominal_srate>"
        f"<channel_format>{fmt}</channel_format><source_id>{escape(stream.name)}</source_id>"
        f"<desc>{desc}<channels>{channels}</channels></desc></info>"
    )


def _samples(stream_id: int, stream: XdfStream, start: int, stop: int) -> bytes:
    out = bytearray(struct.pack("<I", stream_id) + _varlen(stop - start))
    for k in range(start, stop):
        out += struct.pack("<Bd", 8, float(stream.time_stamps[k]))
        if stream.is_string:
            text = str(stream.values[k]).encode("utf-8")
            out += _varlen(len(text)) + text
        else:
            out += np.asarray(stream.values[k], dtype="<f8").tobytes()
    return bytes(out)


def write_xdf(path: Path, streams: Sequence[XdfStream], chunk_samples: int = 500) -> Path:
    """Write the streams to an XDF file at path."""
    data = bytearray(b"XDF:")
    data += _chunk(_FILE_HEADER, b'<?xml version="1.0"?><info><version>1.0</version></info>')
    for sid, stream in enumerate(streams, start=1):
        data += _chunk(_STREAM_HEADER, struct.pack("<I", sid) + _header_xml(stream).encode("utf-8"))
    for sid, stream in enumerate(streams, start=1):
        n = len(stream.time_stamps)
        for start in range(0, n, chunk_samples):
            data += _chunk(_SAMPLES, _samples(sid, stream, start, min(start + chunk_samples, n)))
        offsets = stream.clock_offsets or (
            [(float(stream.time_stamps[0]), 0.0), (float(stream.time_stamps[-1]), 0.0)] if n else []
        )
        for collected, offset in offsets:
            data += _chunk(_CLOCK_OFFSET, struct.pack("<Idd", sid, collected, offset))
    for sid, stream in enumerate(streams, start=1):
        n = len(stream.time_stamps)
        first, last = (float(stream.time_stamps[0]), float(stream.time_stamps[-1])) if n else (0.0, 0.0)
        footer = (
            f'<?xml version="1.0"?><info><first_timestamp>{first}</first_timestamp>'
            f"<last_timestamp>{last}</last_timestamp><sample_count>{n}</sample_count></info>"
        )
        data += _chunk(_STREAM_FOOTER, struct.pack("<I", sid) + footer.encode("utf-8"))
    path.write_bytes(bytes(data))
    return path
