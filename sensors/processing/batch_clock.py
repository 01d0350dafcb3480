"""`ClockSync` over a whole recorded stream at once: the same session times, bit for bit.

Live, `ClockSync.step` runs per notification block: it folds the block's anchors into per-bin
minima and refits the line whenever a bin opens. Given every block of a sensor in arrival order,
the fits can be made together: while device time never goes back, a bin's minimum is final once
the next bin has opened, so the fit at each opening is a least-squares line through a window of
final minima. All windows of one length go through LAPACK in one call, with the operations
`ClockSync` performs (`envelope_slopes`: the same LAPACK call per window), and each block's
samples are then mapped with the fit that stood after that block. Anything else (device time
going back, non-finite stamps) falls back to `ClockSync.step` per block.
"""

from __future__ import annotations

import itertools
import logging
import math

import numpy as np

from sensors.processing.clock_sync import ClockSync, ClockSyncSettings, envelope_slopes

log = logging.getLogger(__name__)

#: Windows of one length solved per LAPACK call (bounds the temporary memory: ~15 MB at 900).
_WINDOWS_PER_CALL = 1024


def map_clock(
    device_time_s: np.ndarray,
    host_receive_ns: np.ndarray,
    block_rows: np.ndarray,
    host_origin_ns: int,
    settings: ClockSyncSettings | None = None,
) -> tuple[np.ndarray, ClockSync]:
    """Session times (n,) s of one sensor's samples, device times (n,) s and host stamps (n,) ns,
    delivered in blocks of `block_rows` (k,) samples; and the clock as it stands after the last
    block. Equal to `ClockSync.step` over the blocks in turn."""
    settings = settings or ClockSyncSettings()
    device_time_s = np.asarray(device_time_s, dtype=float)
    host_receive_ns = np.asarray(host_receive_ns, dtype=np.int64)
    rows = np.asarray(block_rows, dtype=np.int64)
    clock = ClockSync(host_origin_ns, settings)
    if len(device_time_s) == 0:
        return np.zeros(0), clock
    mapped = _map_batched(device_time_s, host_receive_ns, rows, clock)
    if mapped is None:
        log.info("clock mapping falls back to block by block")
        clock.reset()
        bounds = np.concatenate([[0], np.cumsum(rows)])
        parts = [clock.step(device_time_s[a:b], host_receive_ns[a:b]) for a, b in itertools.pairwise(bounds)]
        mapped = np.concatenate(parts)
    return mapped, clock


def _map_batched(
    device_time_s: np.ndarray, host_ns: np.ndarray, rows: np.ndarray, clock: ClockSync
) -> np.ndarray | None:
    """The batched mapping, or None when its preconditions do not hold."""
    s, state = clock.settings, clock.state
    n, k = len(device_time_s), len(rows)
    if np.any(rows <= 0) or int(rows.sum()) != n:
        return None
    block_of = np.repeat(np.arange(k), rows)
    last_of_block = np.cumsum(rows) - 1
    is_end = np.zeros(n, dtype=bool)
    is_end[:-1] = host_ns[1:] != host_ns[:-1]
    is_end[last_of_block] = True
    ends = np.flatnonzero(is_end)
    ref = float(device_time_s[0])
    host_s = (host_ns[ends] - clock.host_origin_ns) * 1e-9
    device = device_time_s[ends] - ref
    offset = host_s - device
    if not (np.isfinite(device).all() and np.isfinite(offset).all()):
        return None
    bins = np.floor(device / s.bin_s).astype(np.int64)
    if np.any(np.diff(bins) < 0):
        return None  # device time went back: a bin may reopen, which only the live rule handles
    opens = np.ones(len(bins), dtype=bool)
    opens[1:] = bins[1:] != bins[:-1]
    bin_index = np.cumsum(opens) - 1  # distinct bin of each anchor
    starts = np.flatnonzero(opens)
    # Each bin's final minimum: the first anchor with the least offset (the live rule keeps the
    # first of equal minima).
    least = np.minimum.reduceat(offset, starts)
    first_least = np.flatnonzero(offset == least[bin_index])
    first_least = first_least[np.unique(bin_index[first_least], return_index=True)[1]]
    min_d, min_o = device[first_least], offset[first_least]
    # A refit after every block that opened a bin; J: the newest bin then.
    anchor_block = block_of[ends]
    refit_blocks = np.unique(anchor_block[opens])
    anchors_per_block = np.bincount(anchor_block, minlength=len(rows))
    last_anchor = np.cumsum(anchors_per_block)[refit_blocks] - 1
    newest = bin_index[last_anchor]
    first = np.maximum(newest - s.window_bins + 1, 0)
    points = newest - first + 1
    fitted = np.zeros(len(newest), dtype=bool)
    enough = (points >= 3) & (newest >= 1)
    fitted[enough] = min_d[newest[enough] - 1] - min_d[first[enough]] >= 2 * s.bin_s
    slope = np.zeros(len(newest))
    intercept = np.empty(len(newest))
    limit = s.max_drift_ppm * 1e-6
    lengths = newest - first  # closed bins in the fit
    unique, counts = np.unique(lengths[fitted], return_counts=True)
    for length in unique[counts == 1].tolist():  # while the window still grows: one fit a length
        r = int(np.flatnonzero(fitted & (lengths == length))[0])
        d, o = min_d[None, first[r] : newest[r]], min_o[None, first[r] : newest[r]]
        slope[r] = float(envelope_slopes(d, o, limit)[0])
        intercept[r] = float(np.min(o - slope[r] * d))
    for length in unique[counts > 1].tolist():
        which = np.flatnonzero(fitted & (lengths == length))
        windows_d = np.lib.stride_tricks.sliding_window_view(min_d, length)
        windows_o = np.lib.stride_tricks.sliding_window_view(min_o, length)
        for at in range(0, len(which), _WINDOWS_PER_CALL):
            chunk = which[at : at + _WINDOWS_PER_CALL]
            d, o = windows_d[first[chunk]], windows_o[first[chunk]]
            slope[chunk] = envelope_slopes(d, o, limit)
            intercept[chunk] = np.min(o - slope[chunk, None] * d, axis=1)
    for r in np.flatnonzero(~fitted).tolist():  # the first seconds: the lowest offset of every bin so far
        j0, j1 = int(first[r]), int(newest[r])
        newest_so_far = offset[starts[j1] : last_anchor[r] + 1].min()
        intercept[r] = min(float(min_o[j0:j1].min()) if j1 > j0 else math.inf, float(newest_so_far))
    segment = np.searchsorted(refit_blocks, np.arange(k), side="right") - 1
    # Between refits the line is lowered to any anchor below it (a sample never maps after it came).
    lowest = offset - slope[segment[anchor_block]] * device
    block_lowest = np.minimum.reduceat(lowest, np.searchsorted(anchor_block, np.arange(k)))
    block_intercept = np.empty(k)
    for r, (a, z) in enumerate(itertools.pairwise([*refit_blocks.tolist(), k])):
        block_intercept[a:z] = np.minimum(intercept[r], np.minimum.accumulate(block_lowest[a:z]))
    sample_segment = segment[block_of]
    mapped = block_intercept[block_of] + (1.0 + slope[sample_segment]) * (device_time_s - ref)
    last = int(segment[-1])
    state.device_ref_s, state.slope, state.intercept = ref, float(slope[last]), float(block_intercept[-1])
    tail = anchor_block == k - 1
    state.recent_delay_s = float(
        np.mean(host_s[tail] - (state.intercept + (1.0 + state.slope) * device[tail]))
    )
    return mapped
