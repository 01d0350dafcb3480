"""Polar PMD sample coding, as the Polar BLE SDK implements it (polarofficial/polar-ble-sdk @
8fb5311c8f63fd58fdd03df1b46cbb2e8f05209e): delta-compressed frame content
(BlePMDClient.parseDeltaFramesAll) and the times of a frame's samples
(model/PmdTimeStampUtils.getTimeStamps). Frame headers and units: polar_pmd."""

from __future__ import annotations

import math

import numpy as np

from sensors.ble.errors import DecodeError

PROTOCOL = "Polar PMD"
_MAX_DELTA_BITS = 32


def little_endian_signed(raw: np.ndarray, size: int, bits: int = 0) -> np.ndarray:
    """Signed values of `size`-byte little-endian fields, sign bit at `bits` (default 8 × size)."""
    raw = raw.reshape(-1, size).astype(np.int64)
    values = np.zeros(len(raw), dtype=np.int64)
    for k in range(size):
        values |= raw[:, k] << (8 * k)
    bits = bits or 8 * size
    return np.where(values & (1 << (bits - 1)), values - (1 << bits), values)


def decode_delta(content: bytes, channels: int, bits: int, whole: bytes | bytearray = b"") -> np.ndarray:
    """Samples (n, channels) int64 of delta-compressed content (BlePMDClient.parseDeltaFramesAll)
    whose reference sample has `bits` per channel: signed for bits < 32; for 32 the unsigned bit
    patterns, deltas added modulo 2^32 (as the SDK's Int arithmetic does)."""
    whole = whole or content
    size = math.ceil(bits / 8)
    reference_size = channels * size
    if len(content) < reference_size:
        raise DecodeError(PROTOCOL, "compressed frame without a whole reference sample", whole)
    reference = np.frombuffer(content[:reference_size], dtype=np.uint8)
    if bits == _MAX_DELTA_BITS:
        first = reference.view("<u4").astype(np.int64)
    else:
        first = little_endian_signed(reference, size, bits)
    blocks = [first.reshape(1, channels)]
    last = first
    offset = reference_size
    while offset < len(content):
        if offset + 2 > len(content):
            raise DecodeError(PROTOCOL, f"delta block header cut short at byte {offset}", whole)
        width, count = content[offset], content[offset + 1]
        offset += 2
        if not 1 <= width <= _MAX_DELTA_BITS or count == 0:
            raise DecodeError(
                PROTOCOL, f"delta block at byte {offset - 2}: bit width {width}, {count} samples", whole
            )
        length = math.ceil(width * count * channels / 8)
        if offset + length > len(content):
            raise DecodeError(PROTOCOL, f"delta block at byte {offset - 2} cut short", whole)
        packed = np.unpackbits(
            np.frombuffer(content[offset : offset + length], dtype=np.uint8), bitorder="little"
        )
        fields = packed[: width * count * channels].reshape(-1, width).astype(np.int64)
        deltas = fields @ (1 << np.arange(width, dtype=np.int64))
        deltas = np.where(fields[:, -1] == 1, deltas - (1 << width), deltas).reshape(count, channels)
        rows = last + np.cumsum(deltas, axis=0)
        if bits == _MAX_DELTA_BITS:
            rows &= 0xFFFF_FFFF
        blocks.append(rows)
        last = rows[-1]
        offset += length
    return np.concatenate(blocks)


def encode_delta(samples: np.ndarray, bits: int = 16, block: int = 255) -> bytes:
    """Delta-compressed content of samples (n, channels) int64 with a `bits`-bit reference (the
    inverse of decode_delta; for 32 bits the samples are unsigned bit patterns)."""
    samples = np.asarray(samples, dtype=np.int64)
    size = math.ceil(bits / 8)
    out = b"".join(int(v).to_bytes(size, "little", signed=bits != _MAX_DELTA_BITS) for v in samples[0])
    deltas = np.diff(samples, axis=0)
    if bits == _MAX_DELTA_BITS:  # the shortest signed step between bit patterns, modulo 2^32
        deltas = (deltas + (1 << 31)) % (1 << 32) - (1 << 31)
    for start in range(0, len(deltas), block):
        part = deltas[start : start + block]
        biggest = int(np.max(np.abs(part)))
        width = min(max(2, biggest.bit_length() + 1), _MAX_DELTA_BITS)
        values = part.reshape(-1) & ((1 << width) - 1)
        packed = ((values[:, None] >> np.arange(width)) & 1).astype(np.uint8).reshape(-1)
        out += bytes([width, len(part)]) + np.packbits(packed, bitorder="little").tobytes()
    return out


def sample_times_ns(previous_ns: int, frame_ns: int, count: int, rate_hz: float) -> np.ndarray:
    """Times (count,) int64 ns of a frame's samples, as PmdTimeStampUtils.getTimeStamps gives them:
    spread evenly from the previous frame's timestamp (when known, previous_ns > 0) to this one's,
    else spaced by the sample period back from it; the last is the frame's timestamp."""
    if count <= 0:
        raise ValueError(f"a frame has at least one sample, not {count}")
    if previous_ns > 0:
        if frame_ns <= previous_ns:
            raise ValueError(f"frame time {frame_ns} ns is not after the previous frame's {previous_ns} ns")
        step = (frame_ns - previous_ns) / count
        offsets = np.round(step * np.arange(1, count)).astype(np.int64)
        times = np.append(previous_ns + offsets, 0)  # integer base: ns stay exact at Polar magnitudes
    elif rate_hz > 0:
        step = 1e9 / rate_hz
        times = np.append(frame_ns - np.round(step * np.arange(count - 1, 0, -1)).astype(np.int64), 0)
    else:
        raise ValueError("sample times need the previous frame's time or the sample rate")
    times[-1] = frame_ns
    if times[0] <= 0:
        raise ValueError(f"frame time {frame_ns} ns is too early for {count} samples {step:.0f} ns apart")
    return times
