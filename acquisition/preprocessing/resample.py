"""Causal resampling to any rate: anti-alias IIR filter, then linear interpolation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import NON_SIGNAL_TYPES, Step

_EPS = 1e-9  # in input samples: tolerance when an output falls exactly on an input sample


class Resample(Step):
    """Change the sampling rate causally, chunk by chunk.

    Output sample ``k`` lies at input position ``k * sfreq_in / sfreq_out`` (computed from
    ``k`` itself, so no rounding error accumulates and the chunking does not matter); it is
    interpolated linearly between its two neighbours as soon as the later one arrived.
    When the rate goes down, a Chebyshev type II low-pass (60 dB from the new Nyquist
    frequency on, carried state) removes what would alias. Stim channels keep the value of
    the input sample at or before each output position.

    Parameters
    ----------
    ch_names, ch_types, sfreq
        Input channels and rate.
    sfreq_out : float
        Output rate in Hz.
    """

    kind = "resample"

    def __init__(
        self, ch_names: Sequence[str], ch_types: Sequence[str], sfreq: float, *, sfreq_out: float
    ) -> None:
        super().__init__(ch_names, ch_types, sfreq)
        if sfreq_out <= 0:
            raise ValueError(f"output rate must be positive, got {sfreq_out} Hz")
        self.sfreq = float(sfreq_out)
        self.ratio = self.in_sfreq / self.sfreq  # input samples per output sample
        self._anti_alias = None
        if self.sfreq < self.in_sfreq:
            from scipy.signal import cheby2

            from .iir import SosFilter

            sos = cheby2(8, 60, self.sfreq / 2, fs=self.in_sfreq, output="sos")
            self._anti_alias = SosFilter(ch_names, ch_types, sfreq, sos)
        # Trigger channels are neither filtered nor interpolated: they take the previous value.
        self._held = np.flatnonzero([t in NON_SIGNAL_TYPES for t in self.in_types])
        self.reset()

    def reset(self) -> None:
        """Forget the state: the next input sample is input number 0."""
        self._n_in = 0  # input samples seen
        self._n_out = 0  # next output sample number
        self._last: np.ndarray | None = None  # last (filtered) input sample, (n_channels, 1)
        # Positions of the last outputs relative to the first sample of the last input chunk
        # (between -1 and the chunk length - 1): how the pipeline maps timestamps.
        self.last_positions = np.zeros(0)
        if self._anti_alias is not None:
            self._anti_alias.reset()

    def positions(self, n_new: int) -> np.ndarray:
        """Return the input positions of the outputs the next ``n_new`` inputs complete."""
        last = self._n_in + n_new - 1  # index of the newest input sample
        if n_new == 0:
            return np.zeros(0)
        stop = int(np.floor(last / self.ratio + _EPS)) + 1
        numbers = np.arange(self._n_out, max(stop, self._n_out))
        positions = numbers * self.ratio
        return positions[positions <= last + _EPS]

    def process(self, data: np.ndarray) -> np.ndarray:
        """Return the output samples completed by the next input samples."""
        data = np.asarray(data, dtype=float)
        if self._anti_alias is not None:
            data = self._anti_alias.process(data)
        n_new = data.shape[1]
        positions = self.positions(n_new)
        if self._last is None:
            offset, extended = self._n_in, data
        else:
            offset, extended = self._n_in - 1, np.concatenate((self._last, data), axis=1)
        out = interpolate(extended, positions - offset)
        if self._held.size and positions.size:
            previous = np.floor(positions - offset + _EPS).astype(int)
            out[self._held] = extended[self._held][:, previous]
        self.last_positions = positions - self._n_in
        if n_new:
            self._last = data[:, -1:]
        self._n_in += n_new
        self._n_out += positions.size
        return out

    def params(self) -> dict[str, Any]:
        """Return the output rate."""
        return {"sfreq_out": self.sfreq}


def interpolate(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Interpolate ``values`` (..., n) linearly at fractional ``positions`` along the last axis."""
    if positions.size == 0:
        return values[..., :0].astype(float)
    below = np.clip(np.floor(positions + _EPS).astype(int), 0, values.shape[-1] - 1)
    above = np.minimum(below + 1, values.shape[-1] - 1)
    fraction = np.clip(positions - below, 0.0, 1.0)
    low, high = values[..., below], values[..., above]
    return low + (high - low) * fraction
