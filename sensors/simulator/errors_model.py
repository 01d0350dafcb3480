"""Sensor imperfections: misalignment, noise, bias (turn-on and instability), scale, clipping."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors import quaternion as quat


@dataclass(frozen=True)
class ImuErrorSettings:
    """Error magnitudes of a consumer MEMS IMU (defaults close to a BMI270/LSM6DSO class part).

    Random draws use these as standard deviations (bias, scale) or maxima (misalignment).
    Noise densities are per √Hz; bias instability is a random walk per √s.
    """

    misalignment_deg: float = 8.0
    gyr_noise_rad_s_per_rthz: float = 1.2e-4
    acc_noise_m_s2_per_rthz: float = 1.2e-3
    gyr_bias_rad_s: float = 0.01
    acc_bias_m_s2: float = 0.05
    gyr_bias_walk_rad_s_per_rts: float = 2e-5
    acc_bias_walk_m_s2_per_rts: float = 2e-4
    gyr_scale_error: float = 0.005
    acc_scale_error: float = 0.003
    gyr_range_rad_s: float = np.radians(2000.0)
    acc_range_m_s2: float = 16 * 9.81

    @staticmethod
    def ideal() -> ImuErrorSettings:
        """No errors at all (ranges stay, so clipping can still be tested)."""
        return ImuErrorSettings(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class ImuErrorDraw:
    """The errors one simulated sensor was given: ground truth for tests.

    misalignment_q (4,): rotation between nominal and actual mounting (applied in the segment
    frame); biases (3,) at power-on; scale factors (3,) multiply the true signal.
    """

    misalignment_q: np.ndarray
    gyr_bias_rad_s: np.ndarray
    acc_bias_m_s2: np.ndarray
    gyr_scale: np.ndarray
    acc_scale: np.ndarray

    @staticmethod
    def draw(settings: ImuErrorSettings, rng: np.random.Generator) -> ImuErrorDraw:
        axis = rng.normal(size=3)
        angle = np.radians(settings.misalignment_deg) * rng.uniform(0.5, 1.0)
        return ImuErrorDraw(
            misalignment_q=quat.from_axis_angle(axis, angle),
            gyr_bias_rad_s=rng.normal(0.0, settings.gyr_bias_rad_s, 3),
            acc_bias_m_s2=rng.normal(0.0, settings.acc_bias_m_s2, 3),
            gyr_scale=1.0 + rng.normal(0.0, settings.gyr_scale_error, 3),
            acc_scale=1.0 + rng.normal(0.0, settings.acc_scale_error, 3),
        )


class ImuErrorProcess:
    """Applies one sensor's errors sample by sample; noise and bias walks continue across calls,
    so generating in chunks gives the same data as generating at once."""

    def __init__(
        self, settings: ImuErrorSettings, draw: ImuErrorDraw, rate_hz: float, seed: np.random.SeedSequence
    ) -> None:
        self.settings = settings
        self.draw = draw
        self.rate_hz = rate_hz
        gyr_noise, acc_noise, gyr_walk, acc_walk = (np.random.default_rng(s) for s in seed.spawn(4))
        self._rngs = (gyr_noise, acc_noise, gyr_walk, acc_walk)
        self._gyr_bias = draw.gyr_bias_rad_s.copy()
        self._acc_bias = draw.acc_bias_m_s2.copy()

    def apply(self, gyr: np.ndarray, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Measured (gyr, acc), each (n, 3), from ideal signals of n consecutive samples."""
        s, n = self.settings, len(gyr)
        gyr_noise, acc_noise, gyr_walk, acc_walk = self._rngs
        root_rate = np.sqrt(self.rate_hz)
        step = 1.0 / root_rate  # √dt
        # Start each walk from the carried bias so any chunking gives bit-identical sums.
        gyr_steps = gyr_walk.normal(0, s.gyr_bias_walk_rad_s_per_rts * step, (n, 3))
        acc_steps = acc_walk.normal(0, s.acc_bias_walk_m_s2_per_rts * step, (n, 3))
        gyr_bias = np.cumsum(np.vstack([self._gyr_bias, gyr_steps]), axis=0)[1:]
        acc_bias = np.cumsum(np.vstack([self._acc_bias, acc_steps]), axis=0)[1:]
        if n:
            self._gyr_bias, self._acc_bias = gyr_bias[-1], acc_bias[-1]
        gyr_out = (
            gyr * self.draw.gyr_scale
            + gyr_bias
            + gyr_noise.normal(0, s.gyr_noise_rad_s_per_rthz * root_rate, (n, 3))
        )
        acc_out = (
            acc * self.draw.acc_scale
            + acc_bias
            + acc_noise.normal(0, s.acc_noise_m_s2_per_rthz * root_rate, (n, 3))
        )
        return (
            np.clip(gyr_out, -s.gyr_range_rad_s, s.gyr_range_rad_s),
            np.clip(acc_out, -s.acc_range_m_s2, s.acc_range_m_s2),
        )
