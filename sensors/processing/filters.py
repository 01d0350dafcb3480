"""Butterworth low-pass filters: causal streaming with carried state, and zero-phase offline.

Gaps (rows with any NaN) never poison the filters: the streaming filter skips them (holds its
state, outputs NaN), the offline one filters each finite run on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensors.processing.errors import ProcessingError
from sensors.processing.runs import true_runs


@dataclass(frozen=True)
class LowPassSettings:
    """rate_hz: sample rate; cutoff_hz: −3 dB frequency; order: Butterworth order."""

    rate_hz: float
    cutoff_hz: float
    order: int = 4

    def __post_init__(self) -> None:
        if not 0 < self.cutoff_hz < self.rate_hz / 2:
            raise ProcessingError(
                f"low-pass cutoff {self.cutoff_hz} Hz must lie between 0 and Nyquist ({self.rate_hz / 2} Hz)"
            )

    def sos(self) -> np.ndarray:
        """Second-order sections (k, 6) of the filter."""
        from scipy import signal  # imported when a filter first runs: scipy.signal takes ~1 s

        return signal.butter(self.order, self.cutoff_hz, fs=self.rate_hz, output="sos")


class LowPassFilter:
    """Causal low-pass over the first axis of (n, ...) blocks; `step` over any chunking equals one
    call on the whole array."""

    def __init__(self, settings: LowPassSettings) -> None:
        self.settings = settings
        self._sos: np.ndarray | None = None  # designed at the first step (needs scipy.signal)
        self.reset()

    def reset(self) -> None:
        self._zi: np.ndarray | None = None

    def prepare(self) -> None:
        """Design the filter now (it imports scipy.signal, about a second) rather than at the
        first step: a live session does it as it starts, so no frame waits for it."""
        if self._sos is None:
            self._sos = self.settings.sos()

    def step(self, x: np.ndarray) -> np.ndarray:
        """Filtered block, same shape as x (n, ...); NaN rows stay NaN and are skipped."""
        x = np.asarray(x, dtype=float)
        out = np.full_like(x, np.nan)
        finite = np.isfinite(x.reshape(len(x), -1)).all(axis=1)
        if not finite.any():
            return out
        from scipy import signal

        rows = x[finite]
        if self._sos is None:
            self._sos = self.settings.sos()
        if self._zi is None:  # start settled on the first value, as if it had always been there
            steady = signal.sosfilt_zi(self._sos)
            self._zi = steady.reshape(steady.shape + (1,) * (rows.ndim - 1)) * rows[0]
        out[finite], self._zi = signal.sosfilt(self._sos, rows, axis=0, zi=self._zi)
        return out


def lowpass_zero_phase(x: np.ndarray, settings: LowPassSettings) -> np.ndarray:
    """Offline zero-phase (forward-backward) low-pass of x (n, ...) along axis 0; NaN gaps kept.

    Offline refinement only: it uses future samples, so live results differ from it.
    """
    from scipy import signal

    x = np.asarray(x, dtype=float)
    out = np.full_like(x, np.nan)
    finite = np.isfinite(x.reshape(len(x), -1)).all(axis=1)
    sos = settings.sos()
    for start, stop in true_runs(finite):
        run = x[start:stop]
        if len(run) < 2:
            out[start:stop] = run
            continue
        out[start:stop] = signal.sosfiltfilt(
            sos, run, axis=0, padlen=min(3 * (2 * len(sos) + 1), len(run) - 1)
        )
    return out
