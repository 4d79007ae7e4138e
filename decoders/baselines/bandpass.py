"""Optional zero-phase band-pass of whole trials, used by the classical baselines."""

from __future__ import annotations

import numpy as np


class BandPass:
    """Band-pass trials with a 4th-order Butterworth filter run forward and backward.

    Parameters
    ----------
    band : tuple of float, optional
        Pass band in Hz; ``None`` passes the data through unchanged.
    """

    def __init__(self, band: tuple[float, float] | None) -> None:
        self.band = band

    def __call__(self, data: np.ndarray, sfreq: float) -> np.ndarray:
        """Return filtered trials (a copy), or ``data`` itself when no band is set."""
        if self.band is None:
            return data
        from scipy.signal import butter, sosfiltfilt

        low, high = self.band
        sos = butter(4, [low, min(high, 0.45 * sfreq)], btype="bandpass", fs=sfreq, output="sos")
        return sosfiltfilt(sos, data, axis=-1)
