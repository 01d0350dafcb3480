"""Sit-to-stand and stand-to-sit from the trunk and pelvic sensors (METRICS.md §5; Van Lummel et al.).

Every forward lean of the trunk of at least `min_flexion_deg` (peaks at least `min_separation_s`
apart: the fastest five-times sit-to-stand, about 5 s, puts a rise and the next sit-down about
half a second apart) is a candidate. Its flexion phase runs from the start of forward rotation to
peak flexion, its extension phase from peak flexion to the end of backward rotation (start and
end by the `onset_velocity_deg_s` rule of `movement.py`, on the trunk angle low-passed at
`lowpass_hz`, the usual cut-off for trunk kinematics, Winter 2009). The pelvis tells what the
lean was, from its earth-vertical acceleration from the lean's start (the earlier of the velocity
rule's and the most upright point since the previous lean) to the next lean's, low-passed at
`pelvis_lowpass_hz` (the push and braking of a rise lasting half a second or more lie below
it, the jolt of landing on the seat above): an upward push before the braking is a rise, a fall
before the landing a sit-down, peaks too small to move the pelvis by `min_rise_m` in that time
neither (a lean without standing up). The
order of the peaks needs no integration, so the drift of a brisk series, where the pelvis never
stands still, does not matter. `pelvis_rise_m` (acceleration integrated twice over the lean,
velocity zero at both ends) holds only when the person pauses seated and standing.

- Seat-off: the peak forward angular velocity of the trunk's first forward rotation from upright
  (from its most upright since the previous lean, on the trunk angle low-passed at
  `lean_lowpass_hz`, to its first flexion maximum it falls back from by a third of
  `min_flexion_deg`); of two surges the first that comes within `seat_off_peak_fraction` of the
  fastest. Lift-off starts the momentum-transfer phase, in which the hip extensors brake the
  trunk's forward rotation (Schenkman et al. 1990, Phys Ther 70:638), so the trunk's forward
  rotation is fastest at seat-off; peak flexion follows it by 0.1–0.3 s. A sensor swinging on its
  strap (30° in 0.1 s, 450 °/s, against the 100–150 °/s of a lean) makes a second, faster
  "rotation" after the flexion maximum: it is not the lean's, and the 2 Hz trace does not take
  its trough for the lean's start.
- Seat-on (sitting down): peak flexion of the sit-down lean: once the seat takes the weight the
  trunk no longer needs to lean over the feet and comes back.
- Five-times sit-to-stand time: start of the first rise's forward lean to the fifth seat-on after
  it (the end the Eurobench BENCH protocol uses: fifth contact with the seat).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import numpy as np

from sensors.processing.errors import ProcessingError
from sensors.processing.filters import LowPassSettings, lowpass_zero_phase
from sensors.processing.movement import movement_end, movement_start

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SitToStandSettings:
    min_flexion_deg: float = 15.0
    onset_velocity_deg_s: float = 5.0
    min_rise_m: float = 0.15
    min_separation_s: float = 0.5
    lowpass_hz: float = 6.0
    lean_lowpass_hz: float = 2.0  # where a lean starts: most upright on the trunk angle below this
    seat_off_peak_fraction: float = 0.8  # seat-off: the first forward-velocity surge this near its peak
    pelvis_lowpass_hz: float = 2.0


@dataclass(frozen=True)
class SitToStand:
    """One rise. Times s, angles deg, velocities deg/s, rise m."""

    flexion_start_s: float
    peak_flexion_s: float
    extension_end_s: float
    trunk_flexion_deg: float
    flexion_duration_s: float
    extension_duration_s: float
    flexion_peak_velocity_deg_s: float
    extension_peak_velocity_deg_s: float
    pelvis_rise_m: float
    seat_off_s: float


@dataclass(frozen=True)
class StandToSit:
    """One sit-down. Times s, drop m (positive down)."""

    flexion_start_s: float
    seat_on_s: float
    extension_end_s: float
    pelvis_drop_m: float


@dataclass(frozen=True)
class SitToStandSeries:
    """Rises and sit-downs in time order."""

    rises: tuple[SitToStand, ...]
    sit_downs: tuple[StandToSit, ...]

    def total_time_s(self, repetitions: int = 5) -> float:
        """Start of the first rise to the seat-on that ends repetition `repetitions`, s: the
        `repetitions`-th sit-down after the first rise, or, when a sit-down was missed, the one
        after rise `repetitions`; NaN if neither was found."""
        if not self.rises:
            return float("nan")
        first = self.rises[0]
        seat_ons = [s.seat_on_s for s in self.sit_downs if s.seat_on_s > first.peak_flexion_s]
        if len(seat_ons) >= repetitions:
            return seat_ons[repetitions - 1] - first.flexion_start_s
        if len(self.rises) >= repetitions:
            last = self.rises[repetitions - 1].peak_flexion_s
            end = next((t for t in seat_ons if t > last), None)
            if end is not None:
                return end - first.flexion_start_s
        return float("nan")


def vertical_displacement(time_s: np.ndarray, vertical_acc_m_s2: np.ndarray) -> float:
    """Net vertical displacement, m, over a movement from its gravity-free earth-vertical
    acceleration (n,), taking the velocity as zero at both ends (linear drift removed)."""
    from scipy import integrate  # imported when needed: scipy submodules are slow to import

    velocity = integrate.cumulative_trapezoid(vertical_acc_m_s2, time_s, initial=0.0)
    velocity -= np.linspace(0.0, velocity[-1], len(velocity))
    return float(integrate.trapezoid(velocity, time_s))


def _direction(vertical_acc: np.ndarray, duration_s: float, min_rise_m: float) -> int:
    """+1 if the pelvis went up over this stretch of smoothed vertical acceleration (n,), m/s²
    (upward push before the braking), −1 if down (fall before the landing), 0 if its peaks stay
    below what a minimum-jerk move of min_rise_m in duration_s needs: 10/√3 · h / T²
    (Flash & Hogan 1985)."""
    if len(vertical_acc) < 3:
        return 0
    need = 10.0 / np.sqrt(3.0) * min_rise_m / duration_s**2
    top, bottom = int(np.argmax(vertical_acc)), int(np.argmin(vertical_acc))
    if vertical_acc[top] < need or vertical_acc[bottom] > -need:
        return 0
    return 1 if top < bottom else -1


def _seat_off(
    trunk: np.ndarray, velocity: np.ndarray, upright: int, peak: int, end: int, s: SitToStandSettings
) -> int:
    """Index of the peak forward angular velocity of the trunk's first forward rotation from
    upright: up to its first flexion maximum that the trunk falls back from by a third of
    `min_flexion_deg` (or to the lean's peak)."""
    from scipy import signal  # imported when needed: scipy submodules are slow to import

    top = max(peak, end)
    maxima, _ = signal.find_peaks(np.nan_to_num(trunk[upright : top + 1]), prominence=s.min_flexion_deg / 3.0)
    stop = upright + int(maxima[0]) if len(maxima) else peak
    forward = np.nan_to_num(velocity[upright : stop + 1])
    surges, _ = signal.find_peaks(forward, height=s.seat_off_peak_fraction * np.max(forward))
    return upright + (int(surges[0]) if len(surges) else int(np.argmax(forward)))


def sit_to_stand_series(
    time_s: np.ndarray,
    trunk_sagittal_deg: np.ndarray,
    pelvis_vertical_acc_m_s2: np.ndarray,
    settings: SitToStandSettings | None = None,
) -> SitToStandSeries:
    """Every rise and sit-down in the traces (n,): trunk sagittal inclination, deg (forward
    positive), and the pelvic sensor's gravity-free earth-vertical acceleration, m/s², at time_s (n,)."""
    from scipy import signal  # imported when needed: scipy submodules are slow to import

    s = settings or SitToStandSettings()
    t = np.asarray(time_s, dtype=float)
    raw = np.asarray(trunk_sagittal_deg, dtype=float)
    vertical = np.asarray(pelvis_vertical_acc_m_s2, dtype=float)
    if not (t.shape == raw.shape == vertical.shape):
        raise ProcessingError("sit-to-stand needs time, trunk and vertical acceleration of equal shape (n,)")
    rate = 1.0 / float(np.median(np.diff(t)))
    trunk = lowpass_zero_phase(raw, LowPassSettings(rate, min(s.lowpass_hz, 0.45 * rate)))
    velocity = np.gradient(trunk, t)
    pelvis = lowpass_zero_phase(vertical, LowPassSettings(rate, min(s.pelvis_lowpass_hz, 0.45 * rate)))
    baseline = np.nanpercentile(trunk, 10)
    lean = lowpass_zero_phase(raw, LowPassSettings(rate, min(s.lean_lowpass_hz, 0.45 * rate)))
    peaks, _ = signal.find_peaks(
        np.nan_to_num(trunk, nan=baseline),
        height=baseline + s.min_flexion_deg,
        distance=max(1, round(s.min_separation_s * rate)),
    )
    limit = s.onset_velocity_deg_s
    starts = [movement_start(velocity, peak, limit) for peak in peaks]
    # Each lean starts where the trunk was most upright since the previous lean (on the lean
    # trace: a swing of the sensor, or a pause or wobble on the way, is not the lean's start).
    uprights = [a + int(np.argmin(lean[a : b + 1])) for a, b in itertools.pairwise([0, *peaks])]
    rises, sit_downs = [], []
    for k, (peak, start, upright) in enumerate(zip(peaks, starts, uprights, strict=True)):
        end = movement_end(-velocity, peak, limit)
        movement = slice(start, end + 1)
        # The pelvis may still move after the trunk stops: judge up or down until the next lean.
        # The velocity rule's start may be later (a wobble); before the first lean lies whatever
        # came before the test.
        first = min(start, upright) if k else start
        until = max(end, uprights[k + 1] if k + 1 < len(peaks) else end + (end - start))
        stretch = slice(first, min(until, len(t) - 1) + 1)
        if end <= peak or not np.isfinite(pelvis[stretch]).all() or not np.isfinite(trunk[movement]).all():
            continue
        direction = _direction(pelvis[stretch], float(t[stretch][-1] - t[first]), s.min_rise_m)
        rise = vertical_displacement(t[movement], vertical[movement])
        if direction < 0:
            sit_downs.append(StandToSit(float(t[start]), float(t[peak]), float(t[end]), -rise))
        if direction <= 0:
            continue  # sitting down, or a lean without standing up
        rises.append(
            SitToStand(
                flexion_start_s=float(t[start]),
                peak_flexion_s=float(t[peak]),
                extension_end_s=float(t[end]),
                trunk_flexion_deg=float(trunk[peak] - trunk[start]),
                flexion_duration_s=float(t[peak] - t[start]),
                extension_duration_s=float(t[end] - t[peak]),
                flexion_peak_velocity_deg_s=float(np.max(velocity[start : peak + 1])),
                extension_peak_velocity_deg_s=float(-np.min(velocity[peak : end + 1])),
                pelvis_rise_m=rise,
                seat_off_s=float(t[_seat_off(trunk, velocity, upright, peak, end, s)]),
            )
        )
    return SitToStandSeries(tuple(rises), tuple(sit_downs))


def sit_to_stand_phases(
    time_s: np.ndarray,
    trunk_sagittal_deg: np.ndarray,
    pelvis_vertical_acc_m_s2: np.ndarray,
    settings: SitToStandSettings | None = None,
) -> tuple[SitToStand, ...]:
    """Every rise in the traces (see sit_to_stand_series)."""
    return sit_to_stand_series(time_s, trunk_sagittal_deg, pelvis_vertical_acc_m_s2, settings).rises
