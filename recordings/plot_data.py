"""The data behind every plot of a session, computed once for the live view, the review window and
the report: angle rows, traces decimated to pixel columns, sway paths with their ellipse, bend
curves, perturbation responses and the event lines. numpy only (no Qt, no matplotlib): the
renderers draw what these functions return and compute nothing themselves.

Angles are in degrees, times in seconds of session time unless a name says otherwise.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from sensors.events import Event, EventKind
from sensors.placements import Placement
from sensors.processing.errors import ProcessingError
from sensors.processing.perturbation import (
    DETECTED_SOURCE,
    NoResponseError,
    PerturbationInstant,
    merge_perturbation_marks,
    perturbation_response,
)
from sensors.processing.pipeline import AngleBlock
from sensors.processing.rhythm import PROGRESS_LEVELS, bend_repetitions
from sensors.processing.sway import confidence_ellipse

logger = logging.getLogger(__name__)

#: Columns of angle rows: session time (s), then angles (deg).
COLUMNS = (
    "time",
    "trunk_ap",
    "trunk_ml",
    "pelvis_ap",
    "pelvis_ml",
    "lumbar_sag",
    "lumbar_front",
    "lumbar_axial",
)
TIME, TRUNK_AP, TRUNK_ML, PELVIS_AP, PELVIS_ML, LUMBAR_SAG, LUMBAR_FRONT, LUMBAR_AXIAL = range(len(COLUMNS))

#: The three angle panels every renderer draws: title and (column, plane) per curve.
PANELS: tuple[tuple[str, tuple[tuple[int, str], ...]], ...] = (
    ("Trunk (T12/L1) inclination", ((TRUNK_AP, "sagittal"), (TRUNK_ML, "frontal"))),
    ("Pelvis (S1/S2) inclination", ((PELVIS_AP, "sagittal"), (PELVIS_ML, "frontal"))),
    (
        "Lumbar angle (trunk − pelvis)",
        ((LUMBAR_SAG, "sagittal"), (LUMBAR_FRONT, "frontal"), (LUMBAR_AXIAL, "axial")),
    ),
)

#: Event kinds drawn as lines across the angle panels (the pipeline's own events are not).
LINE_KINDS = (
    EventKind.PERTURBATION,
    EventKind.TASK_START,
    EventKind.TASK_END,
    EventKind.PAIN_RATING,
    EventKind.ANNOTATION,
)

#: Sway needs at least this much finite data (s) for an ellipse.
SWAY_MIN_S = 3.0
#: The perturbation responses are shown from this long before to this long after each push, s.
RESPONSE_BEFORE_S = 0.5
RESPONSE_AFTER_S = 3.0


def angle_rows(angles: AngleBlock) -> np.ndarray:
    """Trunk and pelvis inclination and lumbar angles of a block, deg, rows (n, len(COLUMNS));
    NaN for a placement the block does not have."""
    rows = np.full((len(angles), len(COLUMNS)), np.nan)
    rows[:, TIME] = angles.time_s
    for placement, (ap, ml) in (
        (Placement.LUMBAR, (TRUNK_AP, TRUNK_ML)),
        (Placement.PELVIS, (PELVIS_AP, PELVIS_ML)),
    ):
        if placement in angles.placements:
            incl = np.degrees(angles.inclination(placement))
            rows[:, ap], rows[:, ml] = incl[:, 0], incl[:, 1]
    rows[:, LUMBAR_SAG:] = np.degrees(angles.lumbar_rad)
    return rows


def decimate_peaks(t: np.ndarray, y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a trace to at most 2 points per pixel column, keeping each column's minimum and
    maximum so that no peak is lost (unlike subsampling).

    t: times (n,), ascending; y: values (n,) or (n, k) that share t; columns: pixel columns the
    span of t is drawn on. Returns (t (m,), y (m,) or (m, k)) with m ≤ 2·columns: per non-empty
    column its first time twice, with the column's min then max (NaN when the column holds only
    NaN, so gaps stay gaps). Traces already that short are returned unchanged."""
    n = len(t)
    columns = max(int(columns), 1)
    if n <= 2 * columns:
        return t, y
    span = float(t[-1] - t[0])
    if not span > 0:
        return t[:1], y[:1]
    index = np.minimum(((t - t[0]) * (columns / span)).astype(np.int64), columns - 1)
    return _min_max_runs(t, y, index)


def _min_max_runs(t: np.ndarray, y: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of y (n,) or (n, k) per run of equal `index` (non-decreasing ints (n,)), at each
    run's first t: (t (2r,), y (2r,) or (2r, k)) for r runs."""
    if not len(t):
        return t[:0], y[:0]
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    with np.errstate(invalid="ignore"):
        low = np.fmin.reduceat(y, starts, axis=0)
        high = np.fmax.reduceat(y, starts, axis=0)
    t_out = np.repeat(t[starts], 2)
    y_out = np.empty((2 * len(starts), *y.shape[1:]))
    y_out[0::2], y_out[1::2] = low, high
    return t_out, y_out


def decimate_window(
    rows: np.ndarray, start_s: float, end_s: float, columns: int
) -> tuple[np.ndarray, np.ndarray]:
    """The rows (n, len(COLUMNS)) with start_s ≤ time ≤ end_s, reduced to the min and max per pixel
    column, for a view of `columns` pixel columns over [start_s, end_s] (see `WindowDecimator`).
    Returns (t (m,), rows (m, len(COLUMNS))), m ≤ 2·(columns + 1)."""
    return WindowDecimator().update(rows, start_s, end_s, columns)


class WindowDecimator:
    """`decimate_window` for a view redrawn as rows arrive, at the cost of the new rows only.

    The pixel columns are fixed in session time (column k holds k·w ≤ t < (k+1)·w, w = window /
    columns), not to the window's start: as the window scrolls, an older column keeps its two
    points, so a trace's envelope stays put instead of flickering, and the min and max of
    complete columns are kept from one update to the next. The column cut by the window's start
    and the newest (still filling) one are reduced afresh every time. Rows must be sorted by time;
    a new session (times going back) or a new column width starts afresh. A window holding no
    more than 2·columns rows is returned as it is."""

    def __init__(self) -> None:
        self._restart(math.nan, len(COLUMNS))

    def _restart(self, width: float, values: int) -> None:
        """Forget the kept columns; the next columns are `width` s wide, rows `values` wide."""
        self._width = width
        self._t = np.empty(0)  # kept points of complete columns, 2 per column
        self._y = np.empty((0, values))
        self._columns = np.empty(0, dtype=np.int64)  # the column of each kept point
        self._next = 0  # the first column not kept yet
        self._span = (math.inf, -math.inf)  # first and last time of the previous rows

    def update(
        self, rows: np.ndarray, start_s: float, end_s: float, columns: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Decimated rows (m, k) with their times (m,), of rows (n, k) within [start_s, end_s]."""
        rows = rows_between(rows, start_s, end_s)
        columns = max(int(columns), 1)
        if len(rows) <= 2 * columns or not end_s > start_s:
            return rows[:, TIME], rows
        t = rows[:, TIME]
        width = (end_s - start_s) / columns
        restarted = t[0] < self._span[0] or t[-1] < self._span[1]  # a new session
        if restarted or width != self._width or rows.shape[1] != self._y.shape[1]:
            self._restart(width, rows.shape[1])
        self._span = (float(t[0]), float(t[-1]))
        index = np.floor(t / width).astype(np.int64)
        first_full = int(index[0]) + 1  # the first column wholly in the window (the one before is cut)
        newest = int(index[-1])  # still filling
        keep = np.searchsorted(self._columns, first_full)
        self._t, self._y, self._columns = self._t[keep:], self._y[keep:], self._columns[keep:]
        self._next = max(self._next, first_full)
        lo, hi = np.searchsorted(index, (self._next, newest))
        if hi > lo:
            t_new, y_new = _min_max_runs(t[lo:hi], rows[lo:hi], index[lo:hi])
            self._t = np.concatenate([self._t, t_new])
            self._y = np.concatenate([self._y, y_new])
            self._columns = np.concatenate([self._columns, np.repeat(np.unique(index[lo:hi]), 2)])
        self._next = max(self._next, newest)
        head = slice(0, int(np.searchsorted(index, first_full)))
        tail = slice(max(int(np.searchsorted(index, newest)), head.stop), len(t))
        t_head, y_head = _min_max_runs(t[head], rows[head], index[head])
        t_tail, y_tail = _min_max_runs(t[tail], rows[tail], index[tail])
        return np.concatenate([t_head, self._t, t_tail]), np.concatenate([y_head, self._y, y_tail])


#: Live y ranges span at least this much (deg) and step in multiples of a 1-2-5 step.
MIN_SPAN_DEG = 4.0


def _nice_step(span: float) -> float:
    """The 1, 2 or 5 × 10^k step nearest above a tenth of span."""
    raw = span / 10
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw - 1e-12)


def steady_range(
    current: tuple[float, float], values: np.ndarray, min_span: float = MIN_SPAN_DEG
) -> tuple[float, float]:
    """A y range (low, high) for values (any shape; NaN ignored) that changes only when it must:
    the current range is kept while it holds every value and is under three times the span the
    values need; otherwise the values' extent, widened by a tenth (≥ 0.5 deg) each side and to
    min_span (deg), is rounded outward to a 1-2-5 step. No finite values: the current range."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return current
    low, high = float(finite.min()), float(finite.max())
    needed = max(high - low, min_span)
    if current[0] <= low and high <= current[1] and current[1] - current[0] < 3 * needed:
        return current
    margin = max(0.1 * (high - low), 0.5)
    centre = (low + high) / 2
    low, high = min(low - margin, centre - min_span / 2), max(high + margin, centre + min_span / 2)
    step = _nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step


@dataclass(frozen=True)
class SwayPath:
    """Trunk sway about its mean: AP (n,) and ML (n,) deg, and the 95 % confidence ellipse's
    outline (k, 2) [ML, AP] deg (None with under SWAY_MIN_S of data or a degenerate path)."""

    ap: np.ndarray
    ml: np.ndarray
    outline: np.ndarray | None

    @property
    def limit(self) -> float:
        """Half-width (deg) of a square view that holds the path and the ellipse (≥ 0.1)."""
        extent = [np.abs(self.ap), np.abs(self.ml)] + (
            [np.abs(self.outline)] if self.outline is not None else []
        )
        largest = max((float(np.max(a)) for a in extent if a.size), default=0.0)
        return max(largest, 0.1)


def sway_path(rows: np.ndarray, rate_hz: float) -> SwayPath:
    """Trunk sway over angle rows (n, len(COLUMNS)) sampled at rate_hz: rows without both trunk
    angles are left out; the path is about its mean."""
    ok = np.isfinite(rows[:, TRUNK_AP]) & np.isfinite(rows[:, TRUNK_ML])
    ap, ml = rows[ok, TRUNK_AP], rows[ok, TRUNK_ML]
    if not len(ap):
        return SwayPath(ap, ml, None)
    ap, ml = ap - ap.mean(), ml - ml.mean()
    if len(ap) < SWAY_MIN_S * rate_hz:
        return SwayPath(ap, ml, None)
    try:
        return SwayPath(ap, ml, confidence_ellipse(ap, ml))
    except ProcessingError as error:
        logger.debug("no sway ellipse: %s", error)
        return SwayPath(ap, ml, None)


def rate_of(rows: np.ndarray) -> float:
    """The sample rate (Hz) of angle rows (n, len(COLUMNS)): 1 / the median time step (NaN with
    fewer than two rows)."""
    if len(rows) < 2:
        return math.nan
    return float(1.0 / np.median(np.diff(rows[:, TIME])))


def rows_between(rows: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """The angle rows with start_s ≤ time ≤ end_s (rows sorted by time)."""
    first = int(np.searchsorted(rows[:, TIME], start_s, side="left"))
    last = int(np.searchsorted(rows[:, TIME], end_s, side="right"))
    return rows[first:last]


@dataclass(frozen=True)
class BendCurve:
    """One forward bend's lumbar contribution (%) at the flexion progress levels (%), (k,) each."""

    progress_pct: np.ndarray
    contribution_pct: np.ndarray


def bend_curves(rows: np.ndarray, rate_hz: float) -> list[BendCurve]:
    """Lumbar contribution curve of every complete forward bend in angle rows (n, len(COLUMNS));
    none with under 2 s of rows or when the bend analysis cannot run."""
    if len(rows) < 2 * rate_hz:
        return []
    try:
        reps = bend_repetitions(rows[:, TIME], rows[:, TRUNK_AP], rows[:, PELVIS_AP]).repetitions
    except ProcessingError as error:
        logger.debug("no bend curves: %s", error)
        return []
    return [BendCurve(100 * PROGRESS_LEVELS, 100 * rep.contribution_curve) for rep in reps]


def perturbations_of(events: Iterable[Event]) -> list[PerturbationInstant]:
    """The perturbations the analysis would analyse from these events: the marks (clinician,
    platform, simulator) merged with the live detector's pushes by `merge_perturbation_marks`."""
    pushes = [e for e in events if e.kind is EventKind.PERTURBATION]
    marks = [(e.time_s, e.source) for e in pushes if e.source != DETECTED_SOURCE]
    detected = [e.time_s for e in pushes if e.source == DETECTED_SOURCE]
    return merge_perturbation_marks(marks, detected)


@dataclass(frozen=True)
class ResponseTrace:
    """The trunk around one perturbation: time from its instant (n,) s, the trunk's sagittal
    inclination from its pre-push mean (n,) deg; `responded` is the analysis's verdict (False: "no
    response", as the results say), None while the response window is not yet complete."""

    push: PerturbationInstant
    time_s: np.ndarray
    angle_deg: np.ndarray
    responded: bool | None


def trunk_responded(rows: np.ndarray, instant_s: float) -> bool:
    """Whether the analysis finds a trunk response to a push at instant_s in angle rows (n,
    len(COLUMNS)): False when it says "no response"; True otherwise (also when a gap makes the
    response unmeasurable: that is not a stray mark). The plane is the one the trunk moved most
    in during the half second after the instant, as in `sensors.processing.analysis`."""
    t = rows[:, TIME]
    trunk = rows[:, TRUNK_AP : TRUNK_ML + 1]
    near = (t > instant_s - 1.5) & (t < instant_s + RESPONSE_AFTER_S)
    after = near & (t >= instant_s) & (t < instant_s + 0.5)
    if not after.any() or not np.isfinite(trunk[after]).any():
        return True
    with np.errstate(invalid="ignore"):
        ranges = np.nanmax(trunk[after], axis=0) - np.nanmin(trunk[after], axis=0)
    plane = int(np.argmax(np.nan_to_num(ranges)))
    try:
        perturbation_response(t[near], trunk[near, plane], instant_s)
    except NoResponseError:
        return False
    except ProcessingError:
        return True
    return True


def response_traces(
    rows: np.ndarray, pushes: Sequence[PerturbationInstant], judged: dict[float, bool] | None = None
) -> list[ResponseTrace]:
    """The trunk's sagittal response around each push within the rows (n, len(COLUMNS)), from
    RESPONSE_BEFORE_S before to RESPONSE_AFTER_S after it; pushes without rows before them are
    left out. `judged` caches the verdicts by instant across calls (the live view's redraws)."""
    judged = {} if judged is None else judged
    t = rows[:, TIME]
    out = []
    latest = float(t[-1]) if len(t) else -math.inf
    for push in pushes:
        first = int(np.searchsorted(t, push.time_s - RESPONSE_BEFORE_S))
        window = slice(first, int(np.searchsorted(t, push.time_s + RESPONSE_AFTER_S, side="right")))
        before = slice(first, int(np.searchsorted(t, push.time_s)))
        baseline = rows[before, TRUNK_AP]
        baseline = baseline[np.isfinite(baseline)]
        if not len(baseline):
            continue
        responded = judged.get(push.time_s)
        if responded is None and latest >= push.time_s + RESPONSE_AFTER_S:
            responded = judged[push.time_s] = trunk_responded(rows, push.time_s)
        out.append(
            ResponseTrace(push, t[window] - push.time_s, rows[window, TRUNK_AP] - baseline.mean(), responded)
        )
    return out


@dataclass(frozen=True)
class EventLine:
    """A vertical line across the angle panels: its time (s), its kind and a short label."""

    time_s: float
    kind: EventKind
    label: str


def event_lines(events: Iterable[Event]) -> list[EventLine]:
    """The lines to draw for a session's events, sorted by time: one per perturbation the analysis
    analyses (`perturbations_of`: a key on top of a detected push is one line, at the push), and
    the marks of the other LINE_KINDS (not the pipeline's own events)."""
    events = list(events)
    lines = [
        EventLine(p.time_s, EventKind.PERTURBATION, "push (key only)" if p.keyed_only else "push")
        for p in perturbations_of(events)
    ]
    lines += [
        EventLine(e.time_s, e.kind, e.label)
        for e in events
        if e.kind in LINE_KINDS and e.kind is not EventKind.PERTURBATION and e.source != DETECTED_SOURCE
    ]
    return sorted(lines, key=lambda line: line.time_s)
