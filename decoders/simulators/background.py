"""Ongoing EEG not related to the task: 1/f cortical activity, posterior alpha, sensor noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .forward import HeadModel, LeadField
from .signals import (
    BAND_HZ,
    band_fraction,
    fine_frequencies,
    flat_spectrum,
    frequencies,
    peak_spectrum,
    pink_spectrum,
    shaped_noise,
)

_CORTICAL_MIN_RADIUS_M = 0.050  # random background dipoles sit in the outer (cortical) part
_ALPHA_WIDTH_HZ = 1.0
_ALPHA_WAXING = 0.5  # sd of the log-amplitude of the alpha's slow waxing and waning


def random_dipoles(
    rng: np.random.Generator, model: HeadModel, n_dipoles: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return grid indices and unit orientations of ``n_dipoles`` random cortical dipoles."""
    radius = np.linalg.norm(model.grid - model.center, axis=1)
    index = rng.choice(np.flatnonzero(radius > _CORTICAL_MIN_RADIUS_M), n_dipoles, replace=False)
    orientation = rng.normal(size=(n_dipoles, 3))
    return index, orientation / np.linalg.norm(orientation, axis=1, keepdims=True)


def pink_mixing(
    field: LeadField, dipoles: tuple[np.ndarray, np.ndarray], rms_uv: float
) -> np.ndarray:
    """Return the square root (n_channels, n_channels) of the sensor covariance of ``dipoles``.

    Mixing independent unit-variance series by it gives the activity of the many independent
    dipoles (grid indices, unit orientations), scaled to ``rms_uv`` microvolts RMS (mean square
    over channels).
    """
    patterns = field.pattern(*dipoles)
    covariance = patterns @ patterns.T
    covariance /= np.mean(np.diag(covariance))
    values, vectors = np.linalg.eigh(covariance)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T * rms_uv * 1e-6


@dataclass(frozen=True)
class Background:
    """Background activity of one subject on one montage, in volts.

    The 1/f part is the sum of many independent dipoles with the same 1/f^a spectrum. It is
    drawn at the sensors as white-in-space noise mixed by the square root of the dipoles'
    sensor covariance, which gives exactly the same Gaussian process at less cost.

    Attributes
    ----------
    mixing : ndarray, shape (n_channels, n_channels)
        Square root of the 1/f part's sensor covariance.
    exponent : float
        Exponent a of the 1/f^a power spectrum.
    alpha_patterns : ndarray, shape (n_channels, n_alpha)
        Sensor patterns of the alpha generators at their RMS moment.
    alpha_hz : float
        Alpha peak frequency.
    noise_sd : ndarray, shape (n_channels,)
        RMS of the white sensor noise of each channel.
    """

    mixing: np.ndarray
    exponent: float
    alpha_patterns: np.ndarray
    alpha_hz: float
    noise_sd: np.ndarray

    @classmethod
    def build(
        cls,
        field: LeadField,
        dipoles: tuple[np.ndarray, np.ndarray],
        rms_uv: float,
        exponent: float,
        alpha: tuple[np.ndarray, float, float],
        noise_uv: np.ndarray,
        sfreq: float,
    ) -> Background:
        """Return the background of random ``dipoles`` (grid indices, orientations).

        Parameters
        ----------
        field : LeadField
            Lead field of the montage.
        dipoles : tuple of ndarray
            Grid indices and unit orientations of the 1/f dipoles.
        rms_uv : float
            RMS of the 1/f part over channels (mean square over channels), in microvolts.
        exponent : float
            Exponent a of the 1/f^a spectrum.
        alpha : tuple
            Sensor patterns (n_channels, n_alpha) of the alpha dipoles at unit moment, peak
            frequency, and alpha power in 8-30 Hz relative to the 1/f part's.
        noise_uv : ndarray, shape (n_channels,)
            RMS of each channel's white sensor noise in microvolts.
        sfreq : float
            Sampling rate (the share of 1/f power in 8-30 Hz depends on it).
        """
        mixing = pink_mixing(field, dipoles, rms_uv)
        alpha_patterns, alpha_hz, alpha_share = alpha
        freqs = fine_frequencies(sfreq)
        pink_power = np.sum(mixing**2) * band_fraction(pink_spectrum(freqs, exponent), freqs)
        alpha_unit = np.sum(alpha_patterns**2)
        alpha_unit *= band_fraction(peak_spectrum(freqs, alpha_hz, _ALPHA_WIDTH_HZ), freqs)
        alpha_patterns = alpha_patterns * np.sqrt(alpha_share * pink_power / alpha_unit)
        return cls(mixing, exponent, alpha_patterns, alpha_hz, np.asarray(noise_uv) * 1e-6)

    def band_power(
        self,
        sfreq: float,
        band: tuple[float, float] = BAND_HZ,
        derivation: np.ndarray | None = None,
    ) -> float:
        """Return the expected power in ``band`` (8-30 Hz) summed over channels (V^2).

        With ``derivation`` (n_out, n_channels), the power of ``derivation @ signals`` (bipolar
        montages).
        """
        freqs = fine_frequencies(sfreq)
        mix = np.eye(self.noise_sd.size) if derivation is None else np.asarray(derivation)
        pink = np.sum((mix @ self.mixing) ** 2)
        pink *= band_fraction(pink_spectrum(freqs, self.exponent), freqs, band)
        alpha = np.sum((mix @ self.alpha_patterns) ** 2) * band_fraction(
            peak_spectrum(freqs, self.alpha_hz, _ALPHA_WIDTH_HZ), freqs, band
        )
        noise = np.sum(mix**2 @ self.noise_sd**2) * band_fraction(flat_spectrum(freqs), freqs, band)
        return float(pink + alpha + noise)

    def simulate(self, rng: np.random.Generator, sfreq: float, n_times: int) -> np.ndarray:
        """Return ``n_times`` samples of background (n_channels, n_times)."""
        freqs = frequencies(n_times, sfreq)
        n_channels, n_alpha = self.alpha_patterns.shape
        pink = shaped_noise(rng, pink_spectrum(freqs, self.exponent), n_channels, n_times)
        alpha = shaped_noise(
            rng, peak_spectrum(freqs, self.alpha_hz, _ALPHA_WIDTH_HZ), n_alpha, n_times
        )
        slow = shaped_noise(rng, peak_spectrum(freqs, 0.0, 0.1), n_alpha, n_times)
        alpha *= np.exp(_ALPHA_WAXING * slow - _ALPHA_WAXING**2)  # unit mean power
        noise = rng.standard_normal((n_channels, n_times)) * self.noise_sd[:, None]
        return self.mixing @ pink + self.alpha_patterns @ alpha + noise
