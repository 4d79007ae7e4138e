"""Random signals with a prescribed power spectrum, and band power measurements.

Noise is drawn in the frequency domain (complex Gaussian coefficients shaped by an amplitude
spectrum) and brought back with an inverse real FFT, so every series has exactly the expected
spectrum and unit expected variance. The shaping is circular over the series length.
"""

from __future__ import annotations

import numpy as np

BAND_HZ = (8.0, 30.0)
"""The band in which the simulators state their signal-to-noise ratio (mu and beta rhythms)."""


def frequencies(n_times: int, sfreq: float) -> np.ndarray:
    """Return the real-FFT frequencies of a series of ``n_times`` samples."""
    return np.fft.rfftfreq(n_times, 1.0 / sfreq)


def pink_spectrum(freqs: np.ndarray, exponent: float, lowest_hz: float = 0.5) -> np.ndarray:
    """Return the amplitude spectrum of 1/f^exponent power, zero below ``lowest_hz``."""
    amplitude = np.zeros_like(freqs)
    above = freqs >= lowest_hz
    amplitude[above] = freqs[above] ** (-exponent / 2.0)
    return amplitude


def peak_spectrum(freqs: np.ndarray, centre_hz: float, width_hz: float) -> np.ndarray:
    """Return a Gaussian amplitude spectrum (a narrow-band rhythm) centred on ``centre_hz``."""
    return np.exp(-0.25 * ((freqs - centre_hz) / width_hz) ** 2)


def flat_spectrum(freqs: np.ndarray) -> np.ndarray:
    """Return the amplitude spectrum of white noise."""
    return np.ones_like(freqs)


def shaped_noise(
    rng: np.random.Generator, amplitude: np.ndarray, n_series: int, n_times: int
) -> np.ndarray:
    """Return Gaussian series (n_series, n_times) with the given spectrum and unit variance.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    amplitude : ndarray, shape (n_times // 2 + 1,)
        Amplitude spectrum on the :func:`frequencies` grid (only its shape matters).
    n_series, n_times : int
        Output shape.
    """
    shape = _usable(amplitude, n_times)
    shape = shape / np.sqrt(2.0 * np.sum(shape**2) / n_times)
    coefficients = rng.standard_normal((n_series, shape.size, 2)) @ np.array([1.0, 1j])
    return np.fft.irfft(coefficients * (shape / np.sqrt(2.0)), n=n_times, norm="ortho")


def fine_frequencies(sfreq: float) -> np.ndarray:
    """Return a fine frequency grid (0.05 Hz) up to the Nyquist frequency, for expected powers."""
    return frequencies(round(20 * sfreq), sfreq)


def band_fraction(
    amplitude: np.ndarray, freqs: np.ndarray, band: tuple[float, float] = BAND_HZ
) -> float:
    """Return the fraction of a spectrum's power that falls in ``band`` (Hz)."""
    power = _usable(amplitude, 2 * (freqs.size - 1)) ** 2
    inside = (freqs >= band[0]) & (freqs <= band[1])
    return float(power[inside].sum() / power.sum())


def band_power(signals: np.ndarray, sfreq: float, band: tuple[float, float]) -> float:
    """Return the power of ``signals`` (n_channels, n_times) in ``band``, summed over channels.

    Power is the mean square over time of the band-limited part (periodogram), in the square of
    the signal unit.
    """
    n_times = signals.shape[-1]
    spectrum = np.fft.rfft(signals, axis=-1)
    freqs = frequencies(n_times, sfreq)
    inside = (freqs >= band[0]) & (freqs <= band[1]) & (freqs > 0) & (freqs < sfreq / 2)
    return float(2.0 * np.sum(np.abs(spectrum[..., inside]) ** 2) / n_times**2)


def on_off_course(
    rng: np.random.Generator,
    sfreq: float,
    n_times: int,
    on_s: tuple[float, float],
    off_s: tuple[float, float],
    ramp_s: float = 0.5,
) -> tuple[np.ndarray, tuple[tuple[float, float], ...]]:
    """Return a 0..1 time course alternating random off and on periods, and its on periods.

    The course starts part-way through an off period; each period lasts a uniform random time
    in its range (seconds), and changes of state are smoothed over ``ramp_s``.

    Returns
    -------
    course : ndarray, shape (n_times,)
        0 when off, 1 when on.
    intervals : tuple of (float, float)
        Start and stop (s) of each on period.
    """
    duration = n_times / sfreq
    step = np.zeros(n_times)
    intervals = []
    start = rng.uniform(0.0, off_s[1])
    while start < duration:
        stop = min(start + rng.uniform(*on_s), duration)
        step[round(start * sfreq) : round(stop * sfreq)] = 1.0
        intervals.append((float(start), float(stop)))
        start = stop + rng.uniform(*off_s)
    kernel = np.hanning(max(round(ramp_s * sfreq), 1) + 2)[1:-1]
    course = np.convolve(step, kernel / kernel.sum(), mode="same")
    return np.clip(course, 0.0, 1.0), tuple(intervals)


def _usable(amplitude: np.ndarray, n_times: int) -> np.ndarray:
    """Return ``amplitude`` with the zero-frequency and Nyquist terms removed (set to zero)."""
    shape = np.asarray(amplitude, dtype=float).copy()
    shape[0] = 0.0
    if n_times % 2 == 0:
        shape[-1] = 0.0
    return shape
