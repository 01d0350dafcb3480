"""The plot data the live view, the review window and the report share: known answers for the
sway ellipse, the pixel decimation (incremental and at once), the steady y ranges and the lines."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recordings.plot_data import (
    COLUMNS,
    TIME,
    TRUNK_AP,
    TRUNK_ML,
    WindowDecimator,
    decimate_window,
    event_lines,
    steady_range,
    sway_path,
)
from sensors.events import Event, EventKind

#: −2 ln(0.05): the χ² quantile of a 95 % region with two degrees of freedom.
CHI2_95 = -2 * math.log(0.05)


def sway_rows(ap: np.ndarray, ml: np.ndarray, rate_hz: float) -> np.ndarray:
    rows = np.full((len(ap), len(COLUMNS)), np.nan)
    rows[:, TIME] = np.arange(len(ap)) / rate_hz
    rows[:, TRUNK_AP], rows[:, TRUNK_ML] = ap, ml
    return rows


def test_the_sway_ellipse_has_the_axes_of_the_sway_that_made_it():
    """Sway whose sample covariance is known in closed form: AP and ML sinusoids in quadrature,
    amplitudes 2√2 and √2 deg (variances 4 and 1 deg² × n/(n−1)), turned by 30°, about (3, −1)."""
    n, rate = 2000, 100.0
    phase = 2 * np.pi * np.arange(n) / n
    major, minor = 2 * math.sqrt(2) * np.sin(phase), math.sqrt(2) * np.cos(phase)
    turn = math.radians(30)
    ml = 3.0 + minor * math.cos(turn) - major * math.sin(turn)
    ap = -1.0 + minor * math.sin(turn) + major * math.cos(turn)
    ml[::50] = np.nan  # lost samples are left out, not drawn as zeros
    sway = sway_path(sway_rows(ap, ml, rate), rate)
    assert abs(sway.ap.mean()) < 1e-9 and abs(sway.ml.mean()) < 1e-9  # about the mean
    assert len(sway.ap) == n - n // 50
    assert sway.outline is not None
    radius = np.hypot(sway.outline[:, 0], sway.outline[:, 1])
    kept = n - n // 50
    var_major, var_minor = 4.0 * kept / (kept - 1), 1.0 * kept / (kept - 1)
    assert radius.max() == pytest.approx(math.sqrt(CHI2_95 * var_major), rel=2e-3)
    assert radius.min() == pytest.approx(math.sqrt(CHI2_95 * var_minor), rel=2e-3)
    far = sway.outline[np.argmax(radius)]  # the major axis points 30° from AP towards −ML
    assert abs(math.degrees(math.atan2(-far[0], far[1])) % 180 - 30) < 2
    assert sway.limit == pytest.approx(max(np.abs(sway.outline).max(), np.abs(sway.ap).max()))


def test_too_little_sway_has_a_path_but_no_ellipse():
    rate = 100.0
    short = sway_path(sway_rows(np.sin(np.arange(250)), np.cos(np.arange(250)), rate), rate)
    assert short.outline is None and len(short.ap) == 250
    empty = sway_path(sway_rows(np.full(500, np.nan), np.zeros(500), rate), rate)
    assert empty.outline is None and len(empty.ap) == 0 and empty.limit == 0.1


def spiky_rows(seconds: float = 90.0, rate_hz: float = 200.0) -> np.ndarray:
    t = np.arange(round(seconds * rate_hz)) / rate_hz
    rows = np.zeros((len(t), len(COLUMNS)))
    rows[:, TIME] = t
    rows[:, 1:] = np.sin(2 * np.pi * 0.3 * t)[:, None] * np.arange(1, len(COLUMNS))
    rows[[3001, 9000, 15_555], TRUNK_AP] = [9.0, -8.0, 7.5]  # one-sample spikes
    rows[6000:6400, TRUNK_ML] = np.nan  # two seconds lost
    return rows


def test_a_window_decimated_to_n_pixel_columns_keeps_each_columns_min_and_max():
    rows = spiky_rows()
    start, end, columns = 10.0, 70.0, 600
    t, values = decimate_window(rows, start, end, columns)
    inside = rows[(rows[:, TIME] >= start) & (rows[:, TIME] <= end)]
    assert len(t) <= 2 * (columns + 1) < len(inside)
    assert set(t) <= set(inside[:, TIME])  # each point at a sample's time (its column's first)
    width = (end - start) / columns
    index = np.floor(inside[:, TIME] / width)
    shown = np.floor(t / width)
    for column in np.unique(index)[[0, 1, 77, 300, -1]]:
        mine = inside[index == column]
        with np.errstate(invalid="ignore"):
            assert np.nanmax(values[shown == column], axis=0)[1:] == pytest.approx(
                np.nanmax(mine, axis=0)[1:]
            )
            assert np.nanmin(values[shown == column], axis=0)[1:] == pytest.approx(
                np.nanmin(mine, axis=0)[1:]
            )
    assert values[:, TRUNK_AP].max() == 9.0 and values[:, TRUNK_AP].min() == -8.0  # 15.555 s: not in
    gap = (t > 30.2) & (t < 31.8)
    assert np.isnan(values[gap, TRUNK_ML]).all() and np.isfinite(values[gap, TRUNK_AP]).all()
    short = rows[:500]
    assert np.array_equal(decimate_window(short, 0.0, 60.0, 600)[1], short)  # ≤ 2 per column: as is


def test_the_scrolling_decimation_equals_decimating_each_window_afresh():
    """Rows arrive a few at a time; the window scrolls; a new session starts; the view narrows."""
    rows = spiky_rows(120.0)
    decimator = WindowDecimator()
    window, columns = 60.0, 500
    steps = [*np.arange(30.0, 119.0, 0.37), 1.0, 5.0, 64.0, 64.1]  # a new session at 1 s
    for k, latest in enumerate(steps):
        if k == len(steps) - 1:
            columns = 400  # resized
        upto = rows[rows[:, TIME] <= latest]
        t, values = decimator.update(upto, latest - window, latest, columns)
        t_ref, values_ref = decimate_window(upto, latest - window, latest, columns)
        assert np.array_equal(t, t_ref)
        assert np.array_equal(values, values_ref, equal_nan=True)


@pytest.mark.parametrize(
    ("current", "values", "expected"),
    [
        ((-5.0, 5.0), [-4.9, 4.9], (-5.0, 5.0)),  # inside and not too wide: kept
        ((-5.0, 5.0), [-1.0, 2.0], (-5.0, 5.0)),  # needs 4 deg (the minimum): 10 < 3 × 4, kept
        ((-5.0, 5.0), [0.0, 7.3], (-1.0, 9.0)),  # out: ± 0.73, span 8.76, to steps of 1 (≥ 0.876)
        ((-50.0, 50.0), [1.0, 2.0], (-0.5, 3.5)),  # 100 ≥ 3 × 4: shrinks to 4 deg about 1.5
        ((-5.0, 5.0), [np.nan, np.nan], (-5.0, 5.0)),  # nothing to show: unchanged
        ((0.0, 10.0), [20.0, 61.0, np.nan], (15.0, 70.0)),  # 15.9 … 65.1: steps of 5 (≥ 4.92)
    ],
)
def test_the_live_y_range_changes_only_when_the_data_need_it(current, values, expected):
    assert steady_range(current, np.array(values)) == pytest.approx(expected)


def test_one_line_per_analysed_push_and_per_mark_never_the_pipelines_own():
    events = [
        Event(5.0, EventKind.TASK_START, "task"),
        Event(10.0, EventKind.PERTURBATION, "push", source="simulator"),
        Event(10.02, EventKind.PERTURBATION, "detected", source="pipeline"),
        Event(10.3, EventKind.PERTURBATION, "push"),  # the clinician's key on top of it
        Event(20.0, EventKind.PERTURBATION, "push"),  # a stray key
        Event(25.0, EventKind.CALIBRATION, "ok", source="pipeline"),
        Event(26.0, EventKind.HOLD_START, "held", source="pipeline"),
        Event(30.0, EventKind.ANNOTATION, "cough"),
    ]
    lines = event_lines(events)
    assert [(line.time_s, line.kind) for line in lines] == [
        (5.0, EventKind.TASK_START),
        (10.0, EventKind.PERTURBATION),
        (20.0, EventKind.PERTURBATION),
        (30.0, EventKind.ANNOTATION),
    ]
    assert lines[2].label == "push (key only)" and lines[1].label == "push"
