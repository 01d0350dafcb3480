"""6D orientation (gyroscope + accelerometer, no magnetometer) per sensor with the `vqf` package.

Quaternions are scalar first, sensor→earth (ENU), as vqf gives them. Heading is arbitrary (6D);
only inclination is used downstream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from vqf import VQF, offlineVQF

from sensors.processing import settings_checks as check
from sensors.processing.runs import true_runs


@dataclass(frozen=True)
class OrientationSettings:
    """rate_hz: sample rate of the input; tau_acc_s: accelerometer correction time constant;
    motion_bias_estimation / rest_bias_estimation: vqf's two gyroscope-bias estimators;
    rest_gyr_threshold_deg_s / rest_acc_threshold_m_s2: vqf's rest detection (its defaults): "rest"
    is the rate within the threshold of its own 0.5-s low-pass (and that low-pass within vqf's
    2 °/s bias clip) for 1.5 s, so a constant bias does not stop it but slow sway passes as rest.
    In standing balance both estimators take the sway for bias (a slow inclination error as large
    as the sway); its analysis learns the bias from the whole stance instead (`orientation_stance`),
    and quiet stance live from the stance so far (`mean_rate_bias`).
    reset_after_gap_s: a gap longer than this restarts the filter (keeping its gyro bias); a
    shorter one is bridged: the filter's state is carried across it by gyroscope-only steps with
    the rate interpolated linearly between the samples either side (its output stays NaN there),
    so a gap during a movement does not lose the rotation made in it. Without this, a 0.16 s
    loss in mid-bend cost ~12° that took the accelerometer correction seconds to win back.
    mean_rate_bias: the gyroscope bias is the mean rate over every valid sample the filter has
    had so far, set again every mean_rate_bias_update_s, with both vqf estimators off (standing
    balance live, whose bounded posture makes that mean the bias: `orientation_stance`)."""

    rate_hz: float = 100.0
    tau_acc_s: float = 3.0
    motion_bias_estimation: bool = True
    rest_bias_estimation: bool = True
    rest_gyr_threshold_deg_s: float = 2.0
    rest_acc_threshold_m_s2: float = 0.5
    reset_after_gap_s: float = 1.0
    mean_rate_bias: bool = False
    mean_rate_bias_update_s: float = 1.0

    def __post_init__(self) -> None:
        check.rate("OrientationSettings", self.rate_hz)
        check.duration("OrientationSettings", "tau_acc_s", self.tau_acc_s)
        check.number(
            "OrientationSettings", "rest_gyr_threshold_deg_s", self.rest_gyr_threshold_deg_s, 0.0, 1e4
        )
        check.number("OrientationSettings", "rest_acc_threshold_m_s2", self.rest_acc_threshold_m_s2, 0.0, 1e4)
        check.duration("OrientationSettings", "reset_after_gap_s", self.reset_after_gap_s, allow_zero=True)
        check.duration("OrientationSettings", "mean_rate_bias_update_s", self.mean_rate_bias_update_s)

    def vqf_parameters(self) -> dict[str, float | bool]:
        """These settings as vqf's parameter names (its bias estimators off for `mean_rate_bias`)."""
        return {
            "tauAcc": self.tau_acc_s,
            "motionBiasEstEnabled": self.motion_bias_estimation and not self.mean_rate_bias,
            "restBiasEstEnabled": self.rest_bias_estimation and not self.mean_rate_bias,
            "restThGyr": self.rest_gyr_threshold_deg_s,
            "restThAcc": self.rest_acc_threshold_m_s2,
        }


class OrientationEstimator:
    """Live vqf for one sensor. `step` over any chunking equals one call on the whole array (with
    `mean_rate_bias`, the bias is set at fixed sample counts from sums over whole update periods)."""

    def __init__(self, settings: OrientationSettings | None = None) -> None:
        self.settings = settings or OrientationSettings()
        self.reset()

    def reset(self) -> None:
        self._vqf = VQF(1.0 / self.settings.rate_hz, **self.settings.vqf_parameters())
        self._gap_samples = 0
        self._started = False
        self._last_gyr: np.ndarray | None = None
        self._period = max(1, round(self.settings.mean_rate_bias_update_s * self.settings.rate_hz))
        self._stepped = 0  # samples stepped (mean_rate_bias: the period's position)
        self._period_rows: list[np.ndarray] = []  # valid rates (k, 3) of the period so far
        self._rate_sum = np.zeros(3)  # of the valid rates of the periods before
        self._rate_count = 0

    @property
    def gyr_bias_rad_s(self) -> np.ndarray:
        """Current gyroscope bias estimate (3,), rad/s."""
        return np.asarray(self._vqf.getBiasEstimate()[0])

    def set_gyr_bias(self, bias_rad_s: np.ndarray) -> None:
        """Use this gyroscope bias (3,), rad/s, from now on (kept through restarts after long gaps;
        vqf goes on refining it only where its bias estimation is enabled)."""
        bias = np.asarray(bias_rad_s, dtype=float)
        if bias.shape != (3,) or not np.isfinite(bias).all():
            raise check.SettingsError(f"a gyroscope bias is 3 finite values in rad/s, got {bias!r}")
        self._vqf.setBiasEstimate(np.ascontiguousarray(bias), -1.0)

    def step(self, gyr_rad_s: np.ndarray, acc_m_s2: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Quaternions (n, 4) for gyr (n, 3) rad/s and acc (n, 3) m/s²; NaN where valid (n,) is False."""
        if not self.settings.mean_rate_bias:
            return self._step(gyr_rad_s, acc_m_s2, valid)
        n, out, start = len(gyr_rad_s), [], 0
        while start < n:  # one piece per update period, the bias set again at each period's end
            stop = min(n, start + self._period - self._stepped % self._period)
            ok = np.asarray(valid[start:stop], dtype=bool)
            out.append(self._step(gyr_rad_s[start:stop], acc_m_s2[start:stop], ok))
            self._period_rows.append(np.asarray(gyr_rad_s[start:stop], dtype=float)[ok])
            self._stepped += stop - start
            if self._stepped % self._period == 0:
                self._update_mean_rate_bias()
            start = stop
        return np.concatenate(out) if out else np.full((0, 4), np.nan)

    def _update_mean_rate_bias(self) -> None:
        """Add the period just ended to the mean rate and use that mean as the bias."""
        rows = np.concatenate(self._period_rows)
        self._period_rows = []
        rows = rows[np.isfinite(rows).all(axis=1)]
        self._rate_sum = self._rate_sum + rows.sum(axis=0)
        self._rate_count += len(rows)
        if self._rate_count:
            self.set_gyr_bias(self._rate_sum / self._rate_count)

    def _step(self, gyr_rad_s: np.ndarray, acc_m_s2: np.ndarray, valid: np.ndarray) -> np.ndarray:
        n = len(gyr_rad_s)
        out = np.full((n, 4), np.nan)
        valid = np.asarray(valid, dtype=bool)
        gap_limit = self.settings.reset_after_gap_s * self.settings.rate_hz
        previous_stop = 0
        runs = [(0, n)] if n and valid.all() else true_runs(valid)
        for start, stop in runs:
            gap = self._gap_samples + start - previous_stop
            if self._started and gap > gap_limit:
                self._restart_keeping_bias()
            elif self._started and gap > 0:
                self._bridge(gap, np.asarray(gyr_rad_s[start], dtype=float))
            gyr = np.ascontiguousarray(gyr_rad_s[start:stop], dtype=float)
            acc = np.ascontiguousarray(acc_m_s2[start:stop], dtype=float)
            out[start:stop] = self._vqf.updateBatch(gyr, acc)["quat6D"]
            self._started = True
            self._gap_samples = 0
            self._last_gyr = gyr[-1].copy()
            previous_stop = stop
        self._gap_samples += n - previous_stop
        return out

    def _bridge(self, gap: int, next_gyr: np.ndarray) -> None:
        """Carry the state over `gap` missing samples with interpolated gyroscope-only steps: the
        k-th of them (1 - w) * last + w * next with w = k / (gap + 1), all rows worked out at once
        (the same operations per element, so the same values as sample by sample)."""
        assert self._last_gyr is not None
        w = (np.arange(1, gap + 1) / (gap + 1))[:, None]
        rows = (1 - w) * self._last_gyr + w * np.asarray(next_gyr, dtype=float)
        update = self._vqf.updateGyr
        for row in rows:  # C-contiguous rows (3,)
            update(row)

    def _restart_keeping_bias(self) -> None:
        bias, sigma = self._vqf.getBiasEstimate()
        self._vqf.resetState()
        self._vqf.setBiasEstimate(np.asarray(bias, dtype=float), float(sigma))


def estimate_orientation_offline(
    gyr_rad_s: np.ndarray, acc_m_s2: np.ndarray, settings: OrientationSettings | None = None
) -> np.ndarray:
    """Offline (acausal) vqf orientation (n, 4) of gyr (n, 3) rad/s and acc (n, 3) m/s².

    Uses the whole recording (forward and backward passes), so it is more accurate than the live
    filter but is for analysis after the session only. Input must be gap-free.
    """
    s = settings or OrientationSettings()
    params = s.vqf_parameters()
    out = offlineVQF(
        np.ascontiguousarray(gyr_rad_s, dtype=float),
        np.ascontiguousarray(acc_m_s2, dtype=float),
        None,
        1.0 / s.rate_hz,
        params,
    )
    return np.asarray(out["quat6D"])
